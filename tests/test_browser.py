"""The chat page in headless Chromium: ask, follow a citation, read the highlighted quote."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"  # git-ignored; screenshots for a human look
QUESTION = "How large is the Jinqiao Economic and Technological Development Zone?"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


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
        "document.querySelector('#zb-doc-text textarea').value.includes('20.48 square kilometers')", timeout=10_000
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
