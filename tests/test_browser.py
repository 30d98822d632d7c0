"""The chat page in headless Chromium: ask, follow a citation, read the highlighted quote."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import OUTPUT

pytestmark = pytest.mark.browser

QUESTION = "How large is the Jinqiao Economic and Technological Development Zone?"


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#zb-question textarea").fill(question)
    page.locator("#zb-question textarea").press("Enter")


def choose_document(page, source: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#zb-doc-pick input").click()
    page.get_by_role("option", name=source).first.click()


def test_answer_streams_with_markers_that_open_the_quoted_passage(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    ask(page, QUESTION)
    marker = page.locator('#zb-chat a[href^="#src-1-1"]').first
    marker.wait_for(timeout=20_000)
    assert "[1]" in marker.inner_text()
    assert "20.48" in page.locator("#zb-chat").inner_text()
    card = page.locator("#src-1-1")
    card.wait_for(timeout=10_000)
    assert "20.48" in card.locator("mark").first.inner_text()
    assert "Jinqiao" in card.locator(".zb-title").inner_text()
    assert "passage" in card.locator(".zb-where").inner_text()
    marker.click()
    page.wait_for_function("document.querySelector('#src-1-1').classList.contains('zb-flash')", timeout=5_000)
    page.screenshot(path=str(OUTPUT / "chat-desktop.png"), full_page=True)

    ask(page, "How big is it?")  # a follow-up: its own markers and sources, the first answer's still reachable
    page.locator("#src-2-1").wait_for(timeout=20_000)
    assert page.locator("#src-1-1").is_hidden()
    page.locator('#zb-chat a[href="#src-1-1"]').first.click()
    page.locator("#src-1-1").wait_for(state="visible", timeout=5_000)
    page.close()


def test_abstention_is_shown_as_not_in_the_sources(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    ask(page, "What is the population of Tokyo?")
    page.locator("#zb-chat .zb-abstain").wait_for(timeout=20_000)
    assert "Not in the sources" in page.locator("#zb-sources").inner_text()
    assert page.locator("#zb-sources .zb-near").count() >= 1
    bubbles = page.locator("#zb-chat .message").count()
    ask(page, "   ")  # an empty Enter does nothing: no bubble, no error
    page.wait_for_timeout(800)
    assert page.locator("#zb-chat .message").count() == bubbles
    assert page.locator("#zb-chat .zb-problem").count() == 0
    page.close()


def test_documents_tab_lists_documents_and_shows_text(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#zb-docs .zb-doc").first.wait_for(timeout=10_000)
    assert "jinqiao-development-zone.txt" in page.locator("#zb-docs").inner_text()
    assert "index built" in page.locator("#zb-index").inner_text()
    choose_document(page, "jinqiao-development-zone.txt")
    page.wait_for_function(
        "document.querySelector('#zb-doc-text textarea')?.value.includes('20.48 square kilometers')", timeout=10_000
    )
    page.screenshot(path=str(OUTPUT / "documents.png"), full_page=True)
    page.close()


def test_phone_width_has_no_horizontal_scroll(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.goto(server_url)
    ask(page, "Which industries will Jinshan District concentrate on?")
    page.locator("#src-1-1 mark").first.wait_for(timeout=20_000)
    page.locator('#zb-chat a[href="#src-1-1"]').first.click()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.screenshot(path=str(OUTPUT / "chat-phone.png"), full_page=True)
    assert width[0] <= width[1], f"page is {width[0]}px wide in a {width[1]}px viewport"
    page.close()


# -- safe rendering -----------------------------------------------------------------------
def test_markup_in_a_question_is_shown_as_text_and_never_loaded(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(server_url)
    question = '<img src=x onerror="window.__zbXss=1"> <script>window.__zbXss=2</script> How large is Jinqiao?'
    ask(page, question)
    page.locator("#zb-sources .zb-turn").wait_for(timeout=20_000)
    shown = page.locator("#zb-chat .zb-user").first.inner_text()
    assert '<img src=x onerror="window.__zbXss=1">' in shown and "<script>window.__zbXss=2</script>" in shown
    assert page.locator("#zb-chat .message img, #zb-chat .message script").count() == 0
    assert page.evaluate("window.__zbXss") is None
    assert not [u for u in requested if urlsplit(u).path.endswith("/x")], "the <img> was loaded"
    labels = page.locator('#zb-chat [aria-label*="message: "]').evaluate_all("els => els.map(e => e.ariaLabel)")
    # Screen readers get the words shown, not the markup zonebot wraps them in (nor its escaping).
    assert labels and not [x for x in labels if re.search(r"class=|<span|<div|<a |&lt;|&amp;", x)], labels
    assert f"message: {question}" in labels[0]
    page.screenshot(path=str(OUTPUT / "markup-as-text.png"), full_page=True)
    page.close()


# -- dark mode and phone --------------------------------------------------------------------
def _luminance(rgb: str) -> float:
    channels = [int(x) / 255 for x in re.findall(r"\d+", rgb)[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_highlighted_quote_is_readable(browser, server_url: str, scheme: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page.goto(server_url)
    ask(page, QUESTION)
    mark = page.locator("#zb-sources mark").first
    mark.wait_for(timeout=20_000)
    assert mark.evaluate("el => !!el.closest('.dark')") is (scheme == "dark")
    fg, bg = mark.evaluate("el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]")
    ratio = contrast(fg, bg)
    page.screenshot(path=str(OUTPUT / f"highlight-{scheme}.png"), full_page=True)
    assert ratio >= 4.5, f"{fg} on {bg} is {ratio:.2f}:1 in {scheme} mode"
    page.close()


BROKEN_WORDS_JS = """
root => {
  const broken = [], walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}
"""


def test_phone_documents_are_cards_with_no_word_broken(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.goto(server_url)
    page.get_by_role("tab", name="Documents").click()
    cards = page.locator("#zb-docs .zb-doc")
    cards.first.wait_for(timeout=10_000)
    assert cards.count() == 3
    lefts = {round(b["x"]) for b in (cards.nth(i).bounding_box() for i in range(3)) if b}
    assert len(lefts) == 1, "cards are not one column on a phone"
    broken = page.locator("#zb-docs").evaluate(BROKEN_WORDS_JS)
    page.screenshot(path=str(OUTPUT / "documents-phone.png"), full_page=True)
    assert broken == [], f"words broken across lines: {broken}"
    cut = page.locator("#zb-docs .zb-doc-file").evaluate_all(
        "els => els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.textContent)"
    )
    assert cut == [], f"file names cut off: {cut}"
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    page.close()


# -- errors where the user looks ------------------------------------------------------------
def test_too_long_question_is_explained_beside_it_and_clears_sources(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    ask(page, QUESTION)
    page.locator("#src-1-1").wait_for(timeout=20_000)
    box = page.locator("#zb-question textarea")
    box.fill("How large is Jinqiao? " * 100)  # 2,200 characters: over the 2,000 limit
    box.dispatch_event("input")
    assert "2,200 / 2,000" in page.locator("#zb-counter").inner_text()
    box.press("Enter")
    problem = page.locator("#zb-chat .zb-problem")
    problem.wait_for(timeout=10_000)
    assert "up to 2,000" in problem.inner_text() and "ZONEBOT_" not in problem.inner_text()
    assert len(box.input_value()) == 2200, "the question should stay in the box to be shortened"
    assert page.locator("#src-1-1").is_hidden()
    assert "No answer to that question" in page.locator("#zb-sources").inner_text()
    page.locator("#zb-copy").click()
    page.wait_for_function("document.querySelector('#zb-copy').textContent.includes('Nothing to copy')")
    page.screenshot(path=str(OUTPUT / "too-long.png"), full_page=True)
    page.close()


# -- feedback and export --------------------------------------------------------------------
def test_thumbs_down_with_a_note_writes_feedback_lines(browser, server_url: str, bot) -> None:  # type: ignore[no-untyped-def]
    log = Path(bot.settings.index_dir) / "feedback.jsonl"
    before = len(log.read_text().splitlines()) if log.exists() else 0
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    ask(page, QUESTION)
    page.locator("#src-1-1").wait_for(timeout=20_000)
    page.locator("#zb-chat").get_by_role("button", name="Dislike").first.click()
    page.locator("#zb-feedback-status .zb-ok").wait_for(timeout=10_000)
    page.locator("#zb-note textarea").fill("Should also say when it was approved")
    page.locator("#zb-send-note").click()
    page.get_by_text("Note saved").wait_for(timeout=10_000)
    page.screenshot(path=str(OUTPUT / "feedback.png"), full_page=True)
    lines = [json.loads(x) for x in log.read_text().splitlines()[before:]]
    assert [x["verdict"] for x in lines] == ["down", "down"]
    assert lines[-1]["note"] == "Should also say when it was approved"
    assert lines[-1]["question"] == QUESTION and "20.48" in lines[-1]["answer"]
    assert lines[-1]["citations"][0]["source"] == "jinqiao-development-zone.txt"
    page.close()


def test_example_click_asks_and_export_downloads_markdown_with_sources(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    page.get_by_role("button", name=re.compile("Jinqiao · figure")).click()
    page.locator("#src-1-1").wait_for(timeout=20_000)
    with page.expect_download() as info:
        page.locator("#zb-export").click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    page.screenshot(path=str(OUTPUT / "export.png"), full_page=True)
    assert download.suggested_filename == "zonebot-conversation.md"
    assert f"## 1. {QUESTION}" in text and "20.48" in text and "[1]" in text
    assert "Sources:" in text and "1. Jinqiao Economic and Technological Development Zone" in text
    assert "`jinqiao-development-zone.txt`" in text
    page.close()


def test_phone_sources_toggle_goes_to_sources_and_back(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.goto(server_url)
    ask(page, QUESTION)
    page.locator("#src-1-1").wait_for(timeout=20_000)
    in_view = "el => { const r = el.getBoundingClientRect(); return r.top > -20 && r.top < innerHeight / 2; }"
    page.locator("#zb-to-sources").click()
    page.wait_for_function(f"({in_view})(document.getElementById('zb-sources-col'))", timeout=5_000)
    page.screenshot(path=str(OUTPUT / "phone-sources.png"))
    page.locator("#zb-to-chat").click()
    page.wait_for_function(f"({in_view})(document.getElementById('zb-chat-col'))", timeout=5_000)
    page.close()


# -- managing the corpus from the browser (its own app over a writable copy) -------------------
ODD_DOC = ("# Lumen Harbour Park\n\nLumen Harbour Park is a riverside business park in Shanghai. "
           "Lumen Harbour Park covers an area of 3.2 square kilometers.\n")  # fmt: skip
NEW_DOC = ("# Zhoupu Quantum Valley\n\nThe Zhoupu Quantum Valley is a science park in Pudong, Shanghai. "
           "The Zhoupu Quantum Valley covers an area of 7.5 square kilometers and opened in 2021.\n")  # fmt: skip


@pytest.fixture(scope="module")
def corpus_app(bot, seed_dirs, tmp_path_factory):  # type: ignore[no-untyped-def]
    """An app over a copy of the seed corpus and its built index, plus a document whose sidecar URL is a script."""
    from zonebot import ZoneBot
    from zonebot.ui import build_app, launch

    from .conftest import free_port

    base = tmp_path_factory.mktemp("managed")
    corpus, index = base / "corpus", base / "index"
    shutil.copytree(seed_dirs[0], corpus)
    shutil.copytree(seed_dirs[1], index, ignore=shutil.ignore_patterns(".lock", "feedback.jsonl"))
    (corpus / "lumen-harbour.md").write_text(ODD_DOC)
    (corpus / "lumen-harbour.md.meta.json").write_text(
        json.dumps({"title": "Lumen Harbour Park", "url": "javascript:alert(document.domain)"})
    )
    managed = ZoneBot(corpus_dir=corpus, index_dir=index)
    managed.ingest()  # embeds only the added document: the rest comes with the copied index
    demo = build_app(managed)
    _, url, _ = launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield url, managed
    demo.close()


def test_javascript_url_in_a_sidecar_is_not_a_link(browser, corpus_app) -> None:  # type: ignore[no-untyped-def]
    url, _ = corpus_app
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    ask(page, "How large is Lumen Harbour Park?")
    card = page.locator("#src-1-1")
    card.wait_for(timeout=20_000)
    assert "Lumen Harbour Park" in card.locator(".zb-title").inner_text()
    assert card.locator("a").count() == 0
    page.screenshot(path=str(OUTPUT / "javascript-url-chat.png"), full_page=True)
    page.get_by_role("tab", name="Documents").click()
    page.locator('#zb-docs .zb-doc[data-source="lumen-harbour.md"]').wait_for(timeout=10_000)
    assert page.locator('a[href^="javascript:" i]').count() == 0
    page.screenshot(path=str(OUTPUT / "javascript-url-documents.png"), full_page=True)
    page.close()


def _ask_and_wait(page, question: str) -> None:  # type: ignore[no-untyped-def]
    turns = page.locator("#zb-sources .zb-turn").count()
    ask(page, question)
    page.locator("#zb-sources .zb-turn").nth(turns).wait_for(state="attached", timeout=20_000)


def test_uploaded_document_is_answered_then_never_cited_after_delete(browser, corpus_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, managed = corpus_app
    upload = tmp_path / "Zhoupu Quantum Valley.md"
    upload.write_text(NEW_DOC)
    stored, question = "Zhoupu Quantum Valley.md", "How large is the Zhoupu Quantum Valley?"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#zb-upload input[type=file]").set_input_files(str(upload))
    page.locator("#zb-upload").get_by_text("Zhoupu Quantum Valley.md").wait_for(timeout=10_000)
    page.locator("#zb-add").click()
    page.locator("#zb-corpus-status").get_by_text(f"Added: {stored}").wait_for(timeout=60_000)
    assert stored in page.locator("#zb-docs").inner_text() and (managed.settings.corpus_dir / stored).exists()
    page.screenshot(path=str(OUTPUT / "upload-added.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    _ask_and_wait(page, question)
    assert stored in page.locator("#src-1-1 .zb-where").inner_text()
    assert "7.5 square kilometers" in page.locator("#zb-chat").inner_text()
    page.screenshot(path=str(OUTPUT / "upload-answer.png"), full_page=True)

    page.get_by_role("tab", name="Documents").click()
    choose_document(page, stored)
    page.locator("#zb-delete").click()
    assert stored in page.locator("#zb-confirm").inner_text()
    page.locator("#zb-confirm-delete").click()
    page.locator("#zb-corpus-status").get_by_text(f"Removed: {stored}").wait_for(timeout=60_000)
    assert stored not in page.locator("#zb-docs").inner_text()

    page.get_by_role("tab", name="Chat").click()
    page.locator("#zb-clear").click()
    page.locator("#zb-sources .zb-turn").first.wait_for(state="detached", timeout=5_000)
    _ask_and_wait(page, question)
    assert stored not in page.locator("#zb-sources").inner_text()
    page.screenshot(path=str(OUTPUT / "upload-deleted.png"), full_page=True)
    assert stored not in {c.source for c in managed.ask(question).citations}
    page.close()
