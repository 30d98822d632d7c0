"""Documents managed like files: readable Unicode names, new versions replacing old ones, duplicates shown."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import cited_sources
from zonebot import CorpusError, ZoneBot
from zonebot.corpus import add_document, safe_name
from zonebot.errors import DocumentExistsError

#: The field case "upload-names": two Chinese file names and two with umlauts.
FIELD_CASE = Path(__file__).resolve().parent / "data" / "upload-names"
PARK_V1 = ("# Lumen Harbour Park\n\nLumen Harbour Park is a riverside business park in Shanghai. "
           "Lumen Harbour Park covers an area of 3.2 square kilometers.\n")  # fmt: skip
PARK_V2 = PARK_V1.replace("3.2 square kilometers", "4.7 square kilometers")


def upload_names_case() -> list[Path]:
    """The field case's four files (Chinese names and names with umlauts)."""
    files = sorted(FIELD_CASE.iterdir())
    assert len(files) == 4, files
    return files


def test_the_four_field_case_names_stay_four_readable_names(make_bot) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot(seed=False)
    stored = [bot.add_document(f.name, f.read_bytes()) for f in upload_names_case()]
    assert len(set(stored)) == 4
    assert stored == [unicodedata.normalize("NFC", f.name) for f in upload_names_case()]
    report = bot.ingest()
    assert sorted(report.added) == sorted(stored) and not report.skipped
    assert {d["source"] for d in bot.documents()} == set(stored)


@pytest.mark.parametrize(
    ("given", "stored"),
    [("金桥开发区概况.txt", "金桥开发区概况.txt"),
     (unicodedata.normalize("NFD", "Übersicht Süd.md"), "Übersicht Süd.md"),  # as a Mac sends it
     ("report\u202etxt.md", "report-txt.md"),  # a right-to-left override would disguise the suffix
     ("a\nb\x00c.md", "a b-c.md"), ("Plan: 2024?.md", "Plan- 2024.md"), ("-rf .md", "rf.md"),
     ("？？.txt", "？？.txt"), ("%%.md", "%%.md")],
)  # fmt: skip
def test_names_keep_their_script_and_lose_only_what_is_unsafe(given: str, stored: str) -> None:
    assert safe_name(given) == stored


def test_a_long_chinese_name_is_cut_on_a_character_within_the_file_system_limit() -> None:
    name = safe_name("开发区" * 100 + ".txt")
    assert name.endswith(".txt") and len(name.encode()) <= 255 and "\ufffd" not in name


def test_a_name_that_collides_is_kept_readable_and_unique(tmp_path: Path) -> None:
    first = add_document(tmp_path, "Zone report.md", b"First text.")
    with pytest.raises(DocumentExistsError) as err:
        add_document(tmp_path, "Zone report.md", b"Second text.")
    assert err.value.source == "Zone report.md"
    second = add_document(tmp_path, "Zone report.md", b"Second text.", if_exists="rename")
    third = add_document(tmp_path, "Zone/report.md", b"Third text.", if_exists="rename")  # "report.md": no clash
    fourth = add_document(tmp_path, "Zone report.md", b"Fourth text.", if_exists="rename")
    assert [first, second, third, fourth] == ["Zone report.md", "Zone report (2).md", "report.md",
                                              "Zone report (3).md"]  # fmt: skip
    assert (tmp_path / "Zone report.md").read_bytes() == b"First text."
    assert sorted(os.listdir(tmp_path)) == sorted([first, second, third, fourth])


def test_replacing_puts_the_new_version_in_place_and_keeps_its_sidecar(tmp_path: Path) -> None:
    add_document(tmp_path, "park.md", PARK_V1.encode())
    (tmp_path / "park.md.meta.json").write_text('{"title": "Lumen Harbour Park"}')
    assert add_document(tmp_path, "park.md", PARK_V2.encode(), if_exists="replace") == "park.md"
    assert (tmp_path / "park.md").read_text() == PARK_V2
    assert (tmp_path / "park.md.meta.json").exists()
    assert sorted(os.listdir(tmp_path)) == ["park.md", "park.md.meta.json"]  # nothing half-written left
    with pytest.raises(CorpusError, match="if_exists"):
        add_document(tmp_path, "park.md", PARK_V2.encode(), if_exists="overwrite")


def test_a_replaced_document_is_reindexed_alone_and_answered_at_once(make_bot) -> None:  # type: ignore[no-untyped-def]
    bot: ZoneBot = make_bot()
    bot.add_document("Lumen Harbour.md", PARK_V1.encode())
    bot.ingest()
    question = "How large is Lumen Harbour Park?"
    assert "3.2 square kilometers" in bot.ask(question).text
    with pytest.raises(DocumentExistsError):
        bot.add_document("Lumen Harbour.md", PARK_V2.encode())
    bot.add_document("Lumen Harbour.md", PARK_V2.encode(), if_exists="replace")
    report = bot.ingest()
    assert report.updated == ["Lumen Harbour.md"] and not report.added and len(report.unchanged) == 3
    answer = bot.ask(question)
    assert "4.7 square kilometers" in answer.text and "3.2" not in answer.text
    assert cited_sources(answer) == {"Lumen Harbour.md"}


# -- duplicates ---------------------------------------------------------------------------------
def test_a_copy_under_a_name_that_sorts_first_does_not_take_over(make_bot) -> None:  # type: ignore[no-untyped-def]
    bot: ZoneBot = make_bot()
    corpus = bot.settings.corpus_dir
    (corpus / "a-copy.txt").write_bytes((corpus / "jinqiao-development-zone.txt").read_bytes())
    report = bot.ingest()
    assert "a-copy.txt" not in report.added
    answer = bot.ask("How large is the Jinqiao zone?")
    assert cited_sources(answer) == {"jinqiao-development-zone.txt"}
    assert answer.citations[0].publisher  # the original's sidecar metadata, not a bare copy's
    assert bot.not_indexed() == [{"source": "a-copy.txt", "duplicate_of": "jinqiao-development-zone.txt",
                                  "reason": "same text as jinqiao-development-zone.txt (stored once)"}]  # fmt: skip


def test_without_metadata_the_older_twin_keeps_its_place(make_bot) -> None:  # type: ignore[no-untyped-def]
    bot: ZoneBot = make_bot(seed=False)
    corpus = bot.settings.corpus_dir
    (corpus / "b-original.md").write_text(PARK_V1)
    (corpus / "a-newer.md").write_text(PARK_V1)
    os.utime(corpus / "b-original.md", (1_600_000_000, 1_600_000_000))
    bot.ingest()
    assert [d["source"] for d in bot.documents()] == ["b-original.md"]
    assert bot.not_indexed()[0]["duplicate_of"] == "b-original.md"


def test_a_duplicate_can_be_removed_and_its_twin_stays(make_bot) -> None:  # type: ignore[no-untyped-def]
    bot: ZoneBot = make_bot()
    corpus = bot.settings.corpus_dir
    (corpus / "copy.txt").write_bytes((corpus / "jinshan-district-industrial-parks.txt").read_bytes())
    bot.ingest()
    assert [d["source"] for d in bot.not_indexed()] == ["copy.txt"]
    bot.remove_document("copy.txt")
    report = bot.ingest()
    assert bot.not_indexed() == [] and not report.removed
    assert "jinshan-district-industrial-parks.txt" in {d["source"] for d in bot.documents()}


def test_when_the_original_goes_its_duplicate_is_indexed(make_bot) -> None:  # type: ignore[no-untyped-def]
    bot: ZoneBot = make_bot()
    corpus = bot.settings.corpus_dir
    (corpus / "copy.txt").write_bytes((corpus / "jinshan-district-industrial-parks.txt").read_bytes())
    bot.ingest()
    bot.remove_document("jinshan-district-industrial-parks.txt")
    report = bot.ingest()
    assert report.added == ["copy.txt"] and report.removed == ["jinshan-district-industrial-parks.txt"]
    assert bot.not_indexed() == []
