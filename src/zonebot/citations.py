"""The one place citations are built: each quoted sentence gets a number, in the order first cited."""

from __future__ import annotations

from .models import Citation, Sentence

#: Marks a quote may open with; such a quote is shown without marks of ours, which would double them.
_OPENING_MARKS = "\"'“”‘’„‚«»‹›「『〝＂"


def quoted(text: str) -> str:
    """A quote as plain text shows it: in double quotation marks, unless it opens with a quotation mark itself."""
    return text if text[:1] in _OPENING_MARKS else f'"{text}"'


class Citations:
    """Numbers quotes as they are cited; citing the same sentence twice gives the same number."""

    def __init__(self) -> None:
        self.items: list[Citation] = []
        self._numbers: dict[tuple[str, int], int] = {}

    def cite(self, sentence: Sentence, score: float) -> int:
        p = sentence.passage
        key = (p.id, sentence.start)
        if key not in self._numbers:
            n = self._numbers[key] = len(self.items) + 1
            self.items.append(Citation(
                n=n, source=p.source, title=p.title, quote=sentence.text, passage=p.text, passage_id=p.id,
                score=round(score, 4), quote_start=sentence.start, publisher=p.publisher, date=p.date, url=p.url,
                doc_start=p.start, ordinal=p.ordinal,
            ))  # fmt: skip
        return self._numbers[key]
