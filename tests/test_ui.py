"""The chat server, driven over HTTP with gradio_client as a remote user would."""

from __future__ import annotations

import html
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from zonebot import Citation, CorpusError
from zonebot.cli import main as cli_main
from zonebot.corpus import add_document, remove_document, safe_name
from zonebot.feedback import draft_qa_items, read_feedback, record_feedback
from zonebot.models import Answer
from zonebot.ui import build_app, message_text, plain_history, server_options
from zonebot.ui.render import (
    answer_html,
    conversation_markdown,
    document_cards,
    link_url,
    problem_html,
    sources_section,
    user_html,
)  # fmt: skip

JINQIAO_SIZE = "How large is the Jinqiao Economic and Technological Development Zone?"


@pytest.fixture(scope="session")
def client(server_url: str) -> Client:
    return Client(server_url, verbose=False)


def ask(client: Client, question: str, history: list | None = None) -> dict:
    return client.predict(question=question, history=history or [], api_name="/ask")


def test_ask_returns_a_cited_answer(client: Client) -> None:
    result = ask(client, JINQIAO_SIZE)
    assert not result["abstained"]
    assert "[1]" in result["text"] and "20.48" in result["text"]
    first = result["citations"][0]
    assert set(first) == {"n", "source", "title", "quote", "publisher", "date", "url"}
    assert first["source"] == "jinqiao-development-zone.txt"
    assert first["publisher"].startswith("Pudong New Area government") and first["date"] == "2023-04-10"
    assert first["url"] == "https://english.pudong.gov.cn"


def test_follow_up_uses_the_conversation(client: Client) -> None:
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Tell me about the Jinqiao zone."}]},
        {"role": "assistant", "content": "Jinqiao is an economic and technological development zone in Pudong. [1]"},
    ]
    result = ask(client, "How big is it?", history)
    assert not result["abstained"]
    assert "20.48" in result["text"]


@pytest.mark.parametrize("question", ["", "   ", "x" * 3000], ids=["empty", "blank", "3000-chars"])
def test_invalid_question_gets_a_clear_message(client: Client, question: str) -> None:
    with pytest.raises(AppError) as err:
        ask(client, question)
    message = str(err.value)
    assert "question" in message and "Traceback" not in message


def test_unanswerable_question_abstains(client: Client) -> None:
    result = ask(client, "What is the population of Tokyo?")
    assert result["abstained"]
    assert result["citations"] == []
    assert result["closest"] and all(p["source"] and p["text"] for p in result["closest"])


def test_sixteen_concurrent_users(server_url: str) -> None:
    questions = [
        JINQIAO_SIZE,
        "When was the Jinqiao zone approved for construction, and by which body?",
        "Which road forms the southern limit of the Jinqiao zone?",
        "Which industries will Jinshan District concentrate on?",
        "What was the Jinshan Industrial Park renamed?",
        "What share of the city's gross industrial output will Baoshan and Jinshan contribute by 2025?",
        "What industries does the Shanghai Bay Area High-tech Industrial Development Zone focus on?",
        "What is the population of Tokyo?",
    ] * 2

    def one_user(question: str) -> tuple[str, dict]:
        return question, ask(Client(server_url, verbose=False), question)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one_user, questions))
    assert len(results) == 16
    for question, result in results:
        if "Tokyo" in question:
            assert result["abstained"], question
        else:
            assert not result["abstained"] and result["citations"] and "[1]" in result["text"], question


def test_page_and_api_are_served_without_extra_files(server_url: str) -> None:
    import httpx

    assert httpx.get(server_url).status_code == 200
    assert httpx.get(server_url + "gradio_api/file=/etc/passwd").status_code in (403, 404)


# -- the small pieces the UI is made of ----------------------------------------------------
def test_message_content_blocks_become_plain_text() -> None:
    assert message_text([{"type": "text", "text": "How big"}, {"type": "text", "text": "is it?"}]) == "How big is it?"
    assert message_text(None) == ""


def test_history_drops_the_ui_markup_and_failed_questions() -> None:
    chat = [
        {"role": "user", "content": user_html("Size of <Jinqiao> & co?")},
        {"role": "assistant", "content": answer_html("It covers 20.48 square kilometers. [1]", 1)},
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": user_html("x" * 50)},
        {"role": "assistant", "content": problem_html("This question is too long")},
    ]
    assert plain_history(chat) == [
        {"role": "user", "content": "Size of <Jinqiao> & co?"},
        {"role": "assistant", "content": "It covers 20.48 square kilometers. [1]"},
    ]
    api_history = [{"role": "user", "content": "Is 3 < 4 and 5 > 2 &amp; true?"}]
    assert plain_history(api_history) == api_history  # plain text from an API caller is kept as sent


def test_server_binds_loopback_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZONEBOT_HOST", raising=False)
    monkeypatch.delenv("ZONEBOT_AUTH", raising=False)
    assert server_options() == server_options(None, None)
    assert server_options().host == "127.0.0.1" and server_options().auth is None
    monkeypatch.setenv("ZONEBOT_AUTH", "analyst:s3cret")
    monkeypatch.setenv("ZONEBOT_PORT", "8123")
    assert server_options().auth == ("analyst", "s3cret")
    assert server_options().port == 8123
    assert server_options(port=9000).port == 9000


# -- safe rendering ------------------------------------------------------------------------
XSS = '<img src=x onerror="alert(1)"> <script>alert(2)</script> [link](javascript:alert(3))'


def test_user_message_markup_is_escaped_not_rendered() -> None:
    shown = user_html(XSS)
    assert "<img" not in shown and "<script" not in shown
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in shown


def test_answer_text_is_escaped_and_only_markers_become_links() -> None:
    shown = answer_html("Area: <b>20.48</b> km² [1], see [2].", 3)
    assert "<b>" not in shown and "&lt;b&gt;20.48&lt;/b&gt;" in shown
    assert shown.count("<a ") == 2 and 'href="#src-3-1"' in shown and 'href="#src-3-2"' in shown


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("javascript:alert(document.domain)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("https://english.pudong.gov.cn", False),  # a site's home page says nothing of the document
        ("https://english.pudong.gov.cn/", False),
        ("https://english.pudong.gov.cn/2023/jinqiao.html", True),
        ("http://example.org/page?id=3", True),
    ],
)
def test_links_only_for_http_pages(url: str, linked: bool) -> None:
    assert (link_url(url) is not None) is linked


def _citation(**overrides) -> Citation:  # type: ignore[no-untyped-def]
    values = dict(n=1, source="a<b>.txt", title="<i>Title</i>", quote="covers 3 km", passage="It covers 3 km.",
                  passage_id="p1", score=1.0, quote_start=3, publisher="<Pub>", date="2024",
                  url="javascript:alert(document.domain)")  # fmt: skip
    values.update(overrides)
    return Citation(**values)  # type: ignore[arg-type]


def test_source_card_escapes_metadata_and_writes_no_javascript_link() -> None:
    html = sources_section(1, Answer(text="It covers 3 km. [1]", abstained=False, citations=[_citation()]), {})
    assert "javascript:" not in html and "<a " not in html
    assert "&lt;i&gt;Title&lt;/i&gt;" in html and "&lt;Pub&gt;" in html and "a&lt;b&gt;.txt" in html
    assert "<mark" in html and "Quoted from the sources" in html
    linked = sources_section(1, Answer(text="x [1]", abstained=False,
                                       citations=[_citation(url="https://example.org/doc")]), {})  # fmt: skip
    assert 'href="https://example.org/doc"' in linked


def test_document_cards_escape_and_link_only_http_pages() -> None:
    html = document_cards([{"source": "x.md", "title": "<script>x</script>", "url": "javascript:alert(1)",
                            "passages": 2, "chars": 1200}])  # fmt: skip
    assert "<script>" not in html and "javascript:" not in html and "1,200 characters" in html


def test_export_markdown_numbers_each_answers_sources() -> None:
    turns = [
        {"question": "How large?", "answer": "It covers 3 km. [1]", "abstained": False,
         "citations": [{"n": 1, "source": "a.txt", "title": "A", "quote": "covers 3 km", "publisher": "P",
                        "date": "2024", "url": "https://example.org/a"}]},
        {"question": "x" * 10, "problem": "too long"},
    ]  # fmt: skip
    md = conversation_markdown(turns)
    assert "## 1. How large?" in md and "It covers 3 km. [1]" in md
    assert '1. A (P, 2024), `a.txt`, <https://example.org/a>\n   > "covers 3 km"' in md
    assert "## 2. xxxxxxxxxx" in md and "*Not answered: too long*" in md


# -- corpus files and feedback through the Python API ---------------------------------------
@pytest.mark.parametrize(
    ("given", "stored"),
    [("../../etc/passwd.md", "passwd.md"), ("My Report (final).MD", "My Report (final).md"),
     (".hidden.txt", "hidden.txt"), ("C:\\docs\\zone.pdf", "zone.pdf")],
)  # fmt: skip
def test_upload_names_are_sanitised(given: str, stored: str) -> None:
    assert safe_name(given) == stored


def test_add_document_checks_type_content_and_existing_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert add_document(tmp_path, "new zone.md", b"# New zone\n\nIt is new.") == "new zone.md"
    assert (tmp_path / "new zone.md").read_bytes().startswith(b"# New zone")
    for name, data, reason in [("a.exe", b"MZ", "only"), ("b.txt", b"ab\0cd", "binary"), ("c.pdf", b"hello", "PDF"),
                               ("d.md", b"  ", "empty"), ("new zone.md", b"again", "already")]:  # fmt: skip
        with pytest.raises(CorpusError, match=reason):
            add_document(tmp_path, name, data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new zone.md"]  # nothing half-written left


def test_remove_document_deletes_file_and_sidecar_inside_the_corpus_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("A")
    (corpus / "a.md.meta.json").write_text("{}")
    (tmp_path / "outside.md").write_text("keep me")
    for bad in ("../outside.md", "a.md.meta.json", ""):
        with pytest.raises(CorpusError):
            remove_document(corpus, bad)
    remove_document(corpus, "a.md")
    assert list(corpus.iterdir()) == [] and (tmp_path / "outside.md").exists()


def test_thumbs_down_answers_become_draft_qa_items(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "feedback.jsonl"
    turn = {"question": "How large is Jinqiao?", "answer": "It is big. [1]", "abstained": False,
            "citations": [{"n": 1, "source": "jinqiao-development-zone.txt", "quote": "big"}]}  # fmt: skip
    record_feedback(log, {"question": "Fine?", "answer": "Yes."}, "up")
    record_feedback(log, turn, "down")
    record_feedback(log, turn, "down", "the figure is missing")
    assert len(log.read_text().splitlines()) == 3
    drafts = draft_qa_items(log)
    assert [d["question"] for d in drafts] == ["How large is Jinqiao?"]
    assert drafts[0]["source"] == "jinqiao-development-zone.txt"
    assert drafts[0]["draft"]["note"] == "the figure is missing"
    assert cli_main(["eval", "--from-feedback", str(log)]) == 0
    assert '"question": "How large is Jinqiao?"' in capsys.readouterr().out


def test_feedback_refuses_a_long_note_and_trims_a_long_history_oldest_first(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zonebot.errors import FeedbackRefused
    from zonebot.feedback import FeedbackLimits

    log, limits = tmp_path / "feedback.jsonl", FeedbackLimits(note_chars=50, record_bytes=4096)
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " + "x" * 200} for i in range(60)]
    turn = {"question": "How large is Jinqiao?", "history": history, "answer": "20.48 km² [1]", "citations": []}
    with pytest.raises(FeedbackRefused, match="the note is 51 characters; notes can be up to 50"):
        record_feedback(log, turn, "down", "n" * 51, limits)
    assert not log.exists()
    entry = record_feedback(log, turn, "down", "too short", limits)
    line = log.read_bytes()
    assert len(line) <= 4096 and json.loads(line)["note"] == "too short"
    assert 0 < len(entry["history"]) < 60 and entry["history"][-1] == history[-1]  # the latest turns are kept
    assert len(turn["history"]) == 60  # the conversation itself is untouched


def test_the_feedback_file_rotates_and_keeps_its_backups(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zonebot.feedback import FeedbackLimits

    log, limits = tmp_path / "feedback.jsonl", FeedbackLimits(file_bytes=2048, backups=2)
    turn = {"question": "How large is Jinqiao?", "answer": "20.48 km² [1]" + " it is" * 40}
    for i in range(30):
        record_feedback(log, turn, "up", f"note {i}", limits)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["feedback.jsonl", "feedback.jsonl.1", "feedback.jsonl.2"]
    assert all(p.stat().st_size <= 2048 for p in tmp_path.iterdir())
    assert json.loads(log.read_text().splitlines()[-1])["note"] == "note 29"  # the newest stay in feedback.jsonl
    assert read_feedback(tmp_path / "feedback.jsonl.2")  # rotated files still read as feedback


def test_corpus_changes_need_loopback_or_a_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZONEBOT_AUTH", raising=False)
    assert server_options().corpus_changes_allowed
    assert not server_options(host="0.0.0.0").corpus_changes_allowed
    monkeypatch.setenv("ZONEBOT_AUTH", "analyst:s3cret")
    assert server_options(host="0.0.0.0").corpus_changes_allowed


def test_without_corpus_changes_the_page_has_no_upload_and_says_why(bot) -> None:  # type: ignore[no-untyped-def]
    config = json.dumps(build_app(bot, allow_corpus_changes=False).config, default=str)
    assert "zb-upload" not in config and "zb-confirm-delete" not in config
    assert "Adding and deleting documents is turned off" in config


def test_a_second_ingest_from_the_page_says_one_is_running(bot) -> None:  # type: ignore[no-untyped-def]
    from zonebot.index import ingest_lock
    from zonebot.ui.documents import BUSY, run_ingest

    with ingest_lock(bot.settings.index_dir, wait=False):  # as if another ingest held the index
        shown = run_ingest(bot, lambda *_args, **_kwargs: None)
    assert html.escape(BUSY) in shown and "zb-problem" in shown


def test_errors_in_the_chat_name_no_settings() -> None:
    from zonebot import IndexMissingError, InvalidQuestionError
    from zonebot.ui.chat import plain_words

    too_long = InvalidQuestionError("the question is 3,000 characters; the limit is 2,000 (ZONEBOT_MAX_QUESTION_CHARS)")
    assert plain_words(too_long) == "The question is 3,000 characters; the limit is 2,000"
    assert "Documents tab" in plain_words(IndexMissingError("no index in index: run `zonebot ingest` first"))
    assert "Traceback" not in plain_words(RuntimeError("boom")) and "boom" not in plain_words(RuntimeError("boom"))
