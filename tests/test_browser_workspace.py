"""In headless Chromium: chats kept in the browser, questions kept to chosen documents, documents managed like
files, and a laptop screen that shows what it should."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import OUTPUT, free_port
from tests.test_browser import QUESTION, ask
from tests.test_document_files import FIELD_CASE, PARK_V1, PARK_V2

pytestmark = pytest.mark.browser

JINQIAO = "jinqiao-development-zone.txt"
JINSHAN = "jinshan-district-industrial-parks.txt"


def answered(page, turn: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until answer number ``turn`` has its sources section."""
    page.locator("#zb-sources .zb-turn").nth(turn - 1).wait_for(state="attached", timeout=30_000)


# -- chats that survive a reload -------------------------------------------------------------------
def test_a_conversation_is_still_there_after_a_reload(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    ask(page, QUESTION)
    answered(page, 1)
    ask(page, "How big is it?")
    answered(page, 2)
    page.wait_for_timeout(500)  # the chat is kept once the answer is complete
    page.reload()
    page.locator("#zb-chat .zb-answer").nth(1).wait_for(timeout=20_000)
    shown = page.locator("#zb-chat").inner_text()
    assert QUESTION in shown and "How big is it?" in shown and shown.count("20.48") >= 2
    page.locator("#src-2-1").wait_for(timeout=10_000)  # the latest answer's sources, rendered again
    page.locator('#zb-chat a[href="#src-1-1"]').first.click()  # and an earlier answer's still reachable
    page.locator("#src-1-1").wait_for(state="visible", timeout=5_000)
    ask(page, "When was it approved?")  # the conversation goes on where it was
    answered(page, 3)
    assert "1990" in page.locator("#zb-chat .zb-answer").nth(2).inner_text()
    page.screenshot(path=str(OUTPUT / "chat-after-reload.png"))
    page.close()


def test_past_chats_can_be_reopened_renamed_and_deleted(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    ask(page, "Which industries will Jinshan District concentrate on?")
    answered(page, 1)
    page.locator("#zb-clear").click()
    page.locator("#zb-sources .zb-turn").first.wait_for(state="detached", timeout=5_000)
    ask(page, QUESTION)
    answered(page, 1)
    page.locator("#zb-chats").get_by_text("Past chats").click()
    chats = page.locator("#zb-past label")
    chats.nth(1).wait_for(timeout=10_000)
    assert chats.count() == 2 and "How large is the Jinqiao" in chats.first.inner_text()  # latest first

    chats.nth(1).click()  # reopen the first chat
    page.wait_for_function("document.querySelector('#zb-chat').innerText.includes('Jinshan District concentrate')")
    assert "How large is the Jinqiao" not in page.locator("#zb-chat").inner_text()
    page.locator("#zb-chat-name textarea, #zb-chat-name input").first.fill("Jinshan industries")
    page.locator("#zb-rename").click()
    page.locator("#zb-past").get_by_text("Jinshan industries").wait_for(timeout=10_000)
    page.screenshot(path=str(OUTPUT / "past-chats.png"))

    page.locator("#zb-forget").click()  # delete the chat on screen
    page.wait_for_function("document.querySelectorAll('#zb-past label').length === 1", timeout=10_000)
    assert page.locator("#zb-chat .zb-answer").count() == 0
    page.reload()
    page.locator("#zb-chats").get_by_text("Past chats").click()
    page.locator("#zb-past label").first.wait_for(timeout=10_000)
    assert page.locator("#zb-past label").count() == 1
    assert "Jinshan industries" not in page.locator("#zb-past").inner_text()
    page.close()


# -- asking chosen documents ----------------------------------------------------------------------
def test_with_documents_chosen_no_answer_cites_another(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server_url)
    page.locator("#zb-scope input").click()
    page.get_by_role("option", name=f"({JINSHAN})").click()
    page.keyboard.press("Escape")
    ask(page, QUESTION)  # answered from the Jinqiao document, which is not chosen
    answered(page, 1)
    assert page.locator("#zb-chat .zb-abstain").count() == 1
    sources = page.locator("#zb-sources").inner_text()
    assert JINQIAO not in sources and JINSHAN in sources
    ask(page, "Which industries will Jinshan District concentrate on?")
    answered(page, 2)
    cited = page.locator("#zb-sources .zb-turn").nth(1).locator(".zb-src:not(.zb-near) .zb-where").all_inner_texts()
    assert cited and all(JINSHAN in c for c in cited)
    page.screenshot(path=str(OUTPUT / "chosen-documents.png"))
    page.close()


# -- a laptop screen ---------------------------------------------------------------------------------
def test_a_laptop_screen_shows_the_examples_and_the_feedback_note(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server_url)
    examples = page.locator("#zb-chat").get_by_role("button", name="Not in the sources")
    examples.wait_for(timeout=10_000)
    assert examples.bounding_box()["y"] + examples.bounding_box()["height"] <= 900  # type: ignore[index]
    ask(page, QUESTION)
    answered(page, 1)
    page.locator("#zb-chat").get_by_role("button", name="Dislike").first.click()
    note = page.locator("#zb-note")
    note.wait_for(timeout=10_000)
    box = note.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900, box
    assert page.locator("#zb-chat").get_by_role("button", name="Clear").is_hidden()  # "New chat" is the one
    page.screenshot(path=str(OUTPUT / "laptop-1366x900.png"))
    page.close()


def test_copy_answer_copies_the_latest_answer(browser, server_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server_url)
    ask(page, QUESTION)
    answered(page, 1)
    ask(page, "When was it approved?")
    answered(page, 2)
    page.locator('#zb-chat a[href="#src-1-1"]').first.click()  # the first answer's sources are shown
    page.locator("#src-1-1").wait_for(state="visible", timeout=5_000)
    page.locator("#zb-copy").click()
    page.wait_for_function("document.querySelector('#zb-copy').textContent.includes('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("1990") and "Sources:" in copied, copied
    context.close()


# -- documents managed like files (an app over its own copy of the corpus) -----------------------------
@pytest.fixture(scope="module")
def files_app(bot, seed_dirs, tmp_path_factory):  # type: ignore[no-untyped-def]
    """An app over a copy of the seed corpus and index, with a copy of the Jinshan page under a name that
    sorts first."""
    from zonebot import ZoneBot
    from zonebot.ui import build_app, launch

    base = tmp_path_factory.mktemp("files")
    corpus, index = base / "corpus", base / "index"
    shutil.copytree(seed_dirs[0], corpus)
    shutil.copytree(seed_dirs[1], index, ignore=shutil.ignore_patterns(".lock", "feedback.jsonl"))
    (corpus / "a-copy.txt").write_bytes((corpus / JINSHAN).read_bytes())
    managed = ZoneBot(corpus_dir=corpus, index_dir=index)
    managed.ingest()
    demo = build_app(managed)
    _, url, _ = launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield url, managed
    demo.close()


def _documents(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#zb-docs .zb-doc").first.wait_for(timeout=10_000)


def _upload(page, *files: Path) -> None:  # type: ignore[no-untyped-def]
    page.locator("#zb-upload input[type=file]").set_input_files([str(f) for f in files])
    page.wait_for_function(f"document.querySelectorAll('#zb-upload tr').length >= {len(files)}", timeout=10_000)
    page.locator("#zb-add").click()


def test_a_card_click_shows_the_document_and_a_duplicate_is_shown_and_removable(browser, files_app) -> None:  # type: ignore[no-untyped-def]
    url, managed = files_app
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _documents(page, url)
    page.locator(f'#zb-docs .zb-doc[data-source="{JINQIAO}"]').click()
    page.wait_for_function(
        "document.querySelector('#zb-doc-text textarea')?.value.includes('20.48 square kilometers')", timeout=10_000
    )
    duplicate = page.locator('#zb-docs .zb-skipped[data-source="a-copy.txt"]')
    assert f"Duplicate of {JINSHAN}" in duplicate.inner_text()
    duplicate.press("Enter")  # cards work from the keyboard too
    page.wait_for_function("document.querySelector('#zb-doc-text textarea')?.value.includes('not indexed')")
    page.locator("#zb-delete").click()
    page.locator("#zb-confirm-delete").click()
    page.locator('#zb-docs .zb-skipped[data-source="a-copy.txt"]').wait_for(state="detached", timeout=60_000)
    assert not (managed.settings.corpus_dir / "a-copy.txt").exists()
    assert JINSHAN in page.locator("#zb-docs").inner_text()  # its twin stays
    page.close()


def test_a_replaced_document_is_answered_with_its_new_figure(browser, files_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, managed = files_app
    upload = tmp_path / "Lumen Harbour.md"
    upload.write_text(PARK_V1)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _documents(page, url)
    _upload(page, upload)
    page.locator("#zb-corpus-status").get_by_text("Added: Lumen Harbour.md").wait_for(timeout=60_000)
    upload.write_text(PARK_V2)
    _upload(page, upload)
    page.locator("#zb-clash").get_by_text("already in the corpus").wait_for(timeout=20_000)
    page.screenshot(path=str(OUTPUT / "replace-confirm.png"), full_page=True)
    page.locator("#zb-replace").click()
    page.locator("#zb-corpus-status").get_by_text("Updated: Lumen Harbour.md").wait_for(timeout=60_000)
    assert "Added" not in page.locator("#zb-corpus-status").inner_text()  # that file re-indexed alone
    page.get_by_role("tab", name="Chat").click()
    ask(page, "How large is Lumen Harbour Park?")
    answered(page, 1)
    assert "4.7 square kilometers" in page.locator("#zb-chat").inner_text()
    assert "3.2" not in page.locator("#zb-chat").inner_text()
    page.close()


def test_the_four_field_case_names_are_kept_distinct_and_readable(browser, files_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, managed = files_app
    files = []
    for f in sorted(FIELD_CASE.iterdir()):  # as a Mac sends them: decomposed umlauts
        files.append(tmp_path / unicodedata.normalize("NFD", f.name))
        files[-1].write_bytes(f.read_bytes())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _documents(page, url)
    _upload(page, *files)
    page.locator("#zb-corpus-status").get_by_text("Added:").wait_for(timeout=60_000)
    names = [unicodedata.normalize("NFC", f.name) for f in files]
    shown = page.locator("#zb-docs .zb-doc-file").all_inner_texts()
    assert set(names) <= set(shown), shown
    assert {n for n in names if (managed.settings.corpus_dir / n).is_file()} == set(names)
    page.screenshot(path=str(OUTPUT / "upload-names.png"), full_page=True)
    summary = json.dumps(page.locator("#zb-corpus-status").inner_text(), ensure_ascii=False)
    assert "document.txt" not in summary and "already" not in summary
    page.close()
