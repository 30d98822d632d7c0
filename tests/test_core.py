"""The core contract: ingest the real seeds, answer with verbatim citations, abstain honestly."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cited_sources, quoted
from zonebot import InvalidQuestionError, ZoneBot
from zonebot.cleaning import clean_text
from zonebot.embeddings import MAX_SEQ_TOKENS
from zonebot.loading import discover, load_document

CHROME = [
    "Sign in", "Forgot password", "Application Status", "Inquiry Status", "Processing", "view more",
    "Q: ", "A: ", "Government News", "City News", "[Photo", "Source: Shanghai Daily", "Home>",
    "A bird's-eye view", "A view of the zone", "Updated:2023",
]  # fmt: skip


# -- cleaning and splitting ---------------------------------------------------------------


def test_page_chrome_never_becomes_a_passage(bot: ZoneBot) -> None:
    passages = bot.snapshot.passages
    assert passages
    for p in passages:
        for chrome in CHROME:
            assert chrome not in p.text, f"{chrome!r} leaked into passage {p.id} of {p.source}"


def test_headlines_and_captions_are_metadata_not_text(seed_dirs) -> None:  # type: ignore[no-untyped-def]
    corpus, _ = seed_dirs
    doc = load_document(corpus / "shanghai-bay-area-hightech-zone-2022.txt", "x.txt")
    assert doc.title == "Jinshan's industrial transformation fuels city development"
    assert doc.date == "2022-08-18"
    assert doc.publisher == "Shanghai Daily"
    assert "fuels city development" not in doc.text
    assert "86 high-tech and 64 emerging-industry companies" in doc.text


def test_cleaning_keeps_prose_and_list_items() -> None:
    raw = "Home>News\n\nThe zone covers 5 square kilometers of land near the bay.\n\n1. Build three new parks in the south.\nview more »\n"
    result = clean_text(raw)
    assert "covers 5 square kilometers" in result.text
    assert "1. Build three new parks" in result.text
    assert "view more" not in result.text and "Home>" not in result.text


def test_no_passage_exceeds_the_models_sequence_length(bot: ZoneBot) -> None:
    for p in bot.snapshot.passages:
        assert bot.embedder.count_tokens(p.text) <= MAX_SEQ_TOKENS


def test_long_sentences_are_split_within_the_limit(make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot(seed=False)
    sentence = "The zone hosts " + ", ".join(f"company number {i} from district {i}" for i in range(200)) + "."
    (b.settings.corpus_dir / "long.txt").write_text(sentence + "\n")
    b.ingest()
    passages = b.snapshot.passages
    assert len(passages) > 1
    assert all(b.embedder.count_tokens(p.text) <= MAX_SEQ_TOKENS for p in passages)


def test_passages_keep_offsets_titles_and_stable_ids(bot: ZoneBot) -> None:
    for p in bot.snapshot.passages:
        text = bot.document_text(p.source)
        assert text is not None and text[p.start : p.end] == p.text
        assert p.title and p.id
    ids = [p.id for p in bot.snapshot.passages]
    assert len(ids) == len(set(ids))


# -- ingest -------------------------------------------------------------------------------


def test_reingest_of_unchanged_corpus_embeds_nothing(make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot()
    first = b.ingest()
    assert len(first.added) == 3 and first.embedded > 0
    second = b.ingest()
    assert second.embedded == 0 and not second.changed
    assert sorted(second.unchanged) == sorted(first.added)


def test_changed_file_reembeds_only_that_file_and_deleted_file_leaves(make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot()
    b.ingest()
    before = {t for p in b.snapshot.passages for t in p.sentence_texts()}
    corpus = b.settings.corpus_dir
    path = corpus / "jinqiao-development-zone.txt"
    path.write_text(
        path.read_text() + "\nThe Jinqiao zone opened a new robotics testing center in 2024 for visiting firms.\n"
    )
    report = b.ingest()
    assert report.updated == ["jinqiao-development-zone.txt"]
    # Only the sentences whose text is new are embedded; the file's other sentences keep their vectors.
    new_texts = {t for p in b.snapshot.passages if p.source == path.name for t in p.sentence_texts()} - before
    assert any("robotics testing center" in t for t in new_texts)
    assert report.embedded == len(new_texts) <= 2
    assert "robotics testing center" in b.ask("What did the Jinqiao zone open in 2024?").text

    (corpus / "shanghai-bay-area-hightech-zone-2022.txt").unlink()
    report = b.ingest()
    assert report.removed == ["shanghai-bay-area-hightech-zone-2022.txt"] and report.embedded == 0
    answer = b.ask("How many high-tech companies does the Bay Area zone host?")
    assert "shanghai-bay-area-hightech-zone-2022.txt" not in cited_sources(answer)
    assert all(p.source != "shanghai-bay-area-hightech-zone-2022.txt" for p in answer.passages)


def test_first_question_builds_a_missing_index(make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot()
    assert b.is_stale()
    assert "20.48" in b.ask("How large is the Jinqiao zone?").text
    assert not b.is_stale()


def test_settings_change_rebuilds_instead_of_mixing(make_bot) -> None:  # type: ignore[no-untyped-def]
    make_bot().ingest()
    rebuilt = make_bot(passage_tokens=96).ingest()
    assert rebuilt.rebuilt and rebuilt.embedded > 0


def test_broken_files_are_reported_and_skipped(make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot()
    corpus = b.settings.corpus_dir
    (corpus / "empty.txt").write_text("")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    report = b.ingest()
    reasons = {s.source: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt", "broken.pdf"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "PDF" in reasons["broken.pdf"]
    assert len(report.added) == 3
    assert "20.48" in b.ask("How large is the Jinqiao zone?").text
    assert not b.is_stale(), "unchanged broken files must not make the index look stale"


def test_gb18030_chinese_is_decoded(make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot(seed=False)
    text = "金桥经济技术开发区位于上海浦东新区，总面积为二十点四八平方公里，是先进制造业的重要基地。"
    (b.settings.corpus_dir / "jinqiao-zh.txt").write_bytes(text.encode("gb18030"))
    report = b.ingest()
    assert report.added == ["jinqiao-zh.txt"]
    assert "金桥经济技术开发区" in (b.document_text("jinqiao-zh.txt") or "")


def test_subfolders_html_and_markdown_are_ingested(make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot()
    news = b.settings.corpus_dir / "news"
    news.mkdir()
    (news / "lingang.md").write_text(
        "---\ntitle: Lingang special area expands\npublisher: Example Daily\ndate: 2024-05-01\n---\n"
        "# Lingang special area expands\n\nThe Lingang Special Area covers a total area of 873 square kilometers "
        "in the southeast of Shanghai.\n\nIt focuses on integrated circuits, artificial intelligence and "
        "biomedicine.\n"
    )
    (news / "caohejing.html").write_text(
        "<html><head><title>Caohejing park profile</title></head><body><nav>Home | News</nav><article>"
        "<h1>Caohejing park profile</h1><p>The Caohejing Hi-Tech Park was founded in 1988 and covers "
        "14.28 square kilometers in Xuhui District.</p><p>More than 3,000 companies, including many "
        "multinational research centres, operate in the park today.</p></article></body></html>"
    )
    report = b.ingest()
    assert sorted(report.added) == ["jinqiao-development-zone.txt", "jinshan-district-industrial-parks.txt",
                                    "news/caohejing.html", "news/lingang.md", "shanghai-bay-area-hightech-zone-2022.txt"]  # fmt: skip
    lingang = b.ask("How large is the Lingang Special Area?")
    assert "873" in lingang.text and cited_sources(lingang) == {"news/lingang.md"}
    assert lingang.citations[0].title == "Lingang special area expands"
    caohejing = b.ask("When was the Caohejing Hi-Tech Park founded?")
    assert "1988" in caohejing.text and cited_sources(caohejing) == {"news/caohejing.html"}
    jinqiao = b.ask("How large is the Jinqiao zone?")
    assert "20.48" in jinqiao.text and "873" not in jinqiao.text and "14.28" not in jinqiao.text
    (news / "lingang.md").unlink()
    b.ingest()
    assert "news/lingang.md" not in cited_sources(b.ask("How large is the Lingang Special Area?"))


# -- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected", "source"),
    [
        ("How large is the Jinqiao zone?", ["20.48"], "jinqiao-development-zone.txt"),
        ("When was the Jinqiao zone approved by the State Council?", ["1990"], "jinqiao-development-zone.txt"),
        ("How many high-tech companies does the Bay Area zone have?", ["86"], "shanghai-bay-area-hightech-zone-2022.txt"),
        ("Who is Peng Xijun?", ["deputy Party secretary"], "shanghai-bay-area-hightech-zone-2022.txt"),
        ("What does the \"four to improve\" mean?", ["land utilization ratio"], "jinshan-district-industrial-parks.txt"),
        ("Which industrial parks belong to the second type?", ["Zhangyan Industrial Park", "Tinglin"], "jinshan-district-industrial-parks.txt"),
    ],
)  # fmt: skip
def test_answers_quote_the_sources_with_correct_citations(bot: ZoneBot, question, expected, source) -> None:  # type: ignore[no-untyped-def]
    answer = bot.ask(question)
    assert not answer.abstained, answer.text
    for item in expected:
        assert item.lower() in answer.text.lower()
    assert answer.citations and source in cited_sources(answer)
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert sorted(set(markers)) == [c.n for c in answer.citations]
    for c in answer.citations:
        assert c.quote in c.passage, "a quote must be verbatim from its passage"
        assert c.passage[c.quote_start : c.quote_start + len(c.quote)] == c.quote
        assert quoted(answer, c)
    assert answer.passages and answer.passages[0].score >= answer.passages[-1].score


def test_follow_up_uses_the_conversation(bot: ZoneBot) -> None:
    first = bot.ask("When was the Jinqiao zone approved?")
    history = [{"role": "user", "content": "When was the Jinqiao zone approved?"},
               {"role": "assistant", "content": first.text}]  # fmt: skip
    answer = bot.ask("How big is it?", history=history)
    assert not answer.abstained and "20.48" in answer.text
    assert cited_sources(answer) == {"jinqiao-development-zone.txt"}


@pytest.mark.parametrize(
    "question",
    [
        "What is the population of Jinshan District?",
        "How large is the Zhangjiang Hi-Tech Park?",
        "How large is the Bay Area high-tech zone?",  # only Jinqiao's area is in the sources
        "How many high-tech companies are there in the Jinqiao zone?",  # only the Bay Area's count is
        "Who is the mayor of Shanghai?",
    ],
)
def test_abstains_when_the_sources_do_not_say(bot: ZoneBot, question: str) -> None:
    answer = bot.ask(question)
    assert answer.abstained, answer.text
    assert not answer.citations
    assert "sources don't" in answer.text
    assert "20.48" not in answer.text and "86" not in answer.text


def test_bad_questions_get_a_clear_error(bot: ZoneBot) -> None:
    for bad in ["", "   \n ", "x" * 100_000]:
        with pytest.raises(InvalidQuestionError, match="question"):
            bot.ask(bad)


def test_stream_grows_to_the_final_answer(bot: ZoneBot) -> None:
    parts = list(bot.stream("How large is the Jinqiao zone?"))
    final = parts[-1]
    texts = [p for p in parts[:-1] if isinstance(p, str)]
    assert len(texts) > 1 and texts[-1] == final.text
    assert all(texts[i + 1].startswith(texts[i]) for i in range(len(texts) - 1))


# -- CLI ----------------------------------------------------------------------------------


def test_cli_ask_json(seed_dirs, bot: ZoneBot) -> None:  # type: ignore[no-untyped-def]
    corpus, index = seed_dirs
    out = subprocess.run(
        [sys.executable, "-m", "zonebot", "ask", "How large is the Jinqiao zone?", "--json",
         "--corpus", str(corpus), "--index", str(index)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "20.48" in data["text"] and data["citations"][0]["source"] == "jinqiao-development-zone.txt"


def test_cli_help_explains_each_command() -> None:
    out = subprocess.run([sys.executable, "-m", "zonebot", "--help"], capture_output=True, text=True, timeout=60)
    for cmd in ("ingest", "ask", "eval", "serve"):
        assert cmd in out.stdout


def test_corpus_discovery_ignores_sidecars_and_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "a.txt.meta.json").write_text("{}")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    assert [name for name, _ in discover(tmp_path)] == ["a.txt"]


def test_a_sentence_repeated_across_documents_is_embedded_once(make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot(seed=False)
    corpus = b.settings.corpus_dir
    shared = "Both parks share a one-stop service center that registers new companies within three working days."
    (corpus / "alpha-park.txt").write_text(
        f"Alpha Park lies in the north of the district and focuses on new materials.\n\n{shared}\n"
    )
    (corpus / "beta-park.txt").write_text(
        f"Beta Park lies in the south of the district and focuses on medical devices.\n\n{shared}\n"
    )
    report = b.ingest()
    texts = [t for p in b.snapshot.passages for t in p.sentence_texts()]
    assert sum(t == shared for t in texts) == 2
    assert report.embedded == len(set(texts)) == len(texts) - 1
    assert {c.source for c in b.ask("What does Beta Park focus on?").citations} == {"beta-park.txt"}
    answer = b.ask("How fast does the service center register new companies?")
    assert "three working days" in answer.text
