"""Small things a user notices: quotes shown once-quoted, start-up output, where things sit on the page."""

from __future__ import annotations

import pytest

from zonebot.cli import main as cli_main
from zonebot.models import Answer, Citation
from zonebot.ui.render import conversation_markdown, copy_text

MOTTO = ('# Lumen Harbour Park\n\n"Green first" is the motto of the Lumen Harbour Park, which covers an area of '
         "3.2 square kilometers.\n")  # fmt: skip


def _answer(quote: str) -> Answer:
    cite = Citation(n=1, source="park.md", title="Lumen Harbour Park", quote=quote, passage=quote, passage_id="p",
                    score=1.0)  # fmt: skip
    return Answer(text=f"{quote} [1]", abstained=False, citations=[cite])


@pytest.mark.parametrize("quote", ['"Green first" is the motto.', "“Green first” is the motto.", "「緑」 is the motto."])
def test_a_quote_that_opens_with_a_quotation_mark_is_not_quoted_twice(quote: str) -> None:
    copied = copy_text(_answer(quote))
    assert copied.endswith(f"park.md: {quote}")
    turn = {"question": "Motto?", "answer": f"{quote} [1]", "citations": [
        {"n": 1, "source": "park.md", "title": "Lumen Harbour Park", "quote": quote}]}  # fmt: skip
    assert f"   > {quote}\n" in conversation_markdown([turn])


def test_other_quotes_keep_their_quotation_marks() -> None:
    assert copy_text(_answer("It covers 3 km.")).endswith('park.md: "It covers 3 km."')


def test_cli_shows_a_quote_that_opens_with_a_quotation_mark_once(make_bot, capsys) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot(seed=False)
    (bot.settings.corpus_dir / "park.md").write_text(MOTTO)
    bot.ingest()
    args = ["ask", "What is the motto of the Lumen Harbour Park?", "--corpus", str(bot.settings.corpus_dir),
            "--index", str(bot.settings.index_dir)]  # fmt: skip
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert '\n    "Green first" is the motto' in out and '""' not in out
