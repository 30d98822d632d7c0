"""Documents and sidecars nested deeper than their parsers go: the prose is kept (once), a sidecar too deep
to read is only a warning, and nothing is skipped. One corpus, ingested once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import cited_sources
from zonebot import ZoneBot
from zonebot.models import IngestReport

SEED = Path(__file__).resolve().parent.parent / "corpus"

SENTENCES = {
    "lantern-bay.html": "The Lantern Bay Science Park covers an area of 4.5 square kilometers on the river.",
    "orchid-ridge.md": "The Orchid Ridge Innovation Park was founded in 2017 by the county government.",
    "pine-hollow.md": "The Pine Hollow Logistics Zone employs 12,000 workers across forty warehouses.",
    "amber-creek.txt": "The Amber Creek Industrial Zone covers 7.25 square kilometers of former farmland.",
    "quoted-thrice.md": "The Heron Point Business Park hosts more than three hundred small design firms.",
}


def _files() -> dict[str, str]:
    s = SENTENCES
    nested_list = "".join("  " * i + "- item\n" for i in range(3000))
    return {
        "lantern-bay.html": "<html><head><title>Lantern Bay</title></head><body>" + "<div>" * 10_000
        + f"<p>{s['lantern-bay.html']}</p>" + "</div>" * 10_000 + "</body></html>",
        "orchid-ridge.md": "# Orchid Ridge\n\n" + ">" * 200 + " " + s["orchid-ridge.md"] + "\n",
        "pine-hollow.md": "# Pine Hollow\n\n" + nested_list + "\n\n" + s["pine-hollow.md"] + "\n",
        "amber-creek.txt": s["amber-creek.txt"] + "\n",
        "amber-creek.txt.meta.json": "[" * 100_000 + "]" * 100_000,
        "quoted-thrice.md": "# Heron Point\n\n> > > " + s["quoted-thrice.md"] + "\n",
    }  # fmt: skip


@pytest.fixture(scope="module")
def deep(tmp_path_factory: pytest.TempPathFactory) -> tuple[ZoneBot, IngestReport]:
    base = tmp_path_factory.mktemp("deep")
    corpus = base / "corpus"
    shutil.copytree(SEED, corpus)
    for name, text in _files().items():
        (corpus / name).write_text(text)
    bot = ZoneBot(corpus_dir=corpus, index_dir=base / "index")
    return bot, bot.ingest()


def test_no_deep_document_is_skipped(deep) -> None:  # type: ignore[no-untyped-def]
    _, report = deep
    assert report.skipped == []
    assert set(SENTENCES) <= set(report.added)


def test_a_sidecar_nested_100000_deep_is_only_a_warning(deep) -> None:  # type: ignore[no-untyped-def]
    _, report = deep
    assert [(w.source, "nested too deeply" in w.reason) for w in report.warnings] == [("amber-creek.txt", True)]


@pytest.mark.parametrize("source", SENTENCES)
def test_deep_prose_is_kept_once(deep, source: str) -> None:  # type: ignore[no-untyped-def]
    bot, _ = deep
    assert bot.document_text(source).count(SENTENCES[source]) == 1


def test_prose_in_10000_nested_divs_is_answered_with_its_citation(deep) -> None:  # type: ignore[no-untyped-def]
    bot, _ = deep
    answer = bot.ask("How large is the Lantern Bay Science Park?")
    assert "4.5 square kilometers" in answer.text and cited_sources(answer) == {"lantern-bay.html"}
