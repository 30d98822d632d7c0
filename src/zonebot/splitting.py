"""Splitting cleaned documents into sentences and sentence-aligned passages.

Passages never exceed ``max_tokens`` word pieces of the embedding model (which
silently truncates past 256), keep character offsets into the cleaned document,
and get a stable id from their source, place and content.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from .models import Document, Passage

_ABBREVIATIONS = {
    "co", "ltd", "inc", "corp", "mr", "mrs", "ms", "dr", "prof", "no", "nos", "st", "jr", "sr",
    "vs", "etc", "e.g", "i.e", "u.s", "u.k", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "fig", "approx", "dept", "gov", "govt", "rd", "ave",
}  # fmt: skip
# A sentence ends at . ! ? (or the Arabic ؟ ۔ and Devanagari । ॥), optionally followed by closing
# quotes/brackets, before white space and a word that does not start in lower case (a capital, a
# digit, or a letter of a script without case: Arabic, Hebrew, CJK); or at CJK full stops anywhere.
_BOUNDARY = re.compile(r"(?P<stop>[.!?؟۔।॥][\"'”’)\]]*)\s+(?=[\"'“‘(\[]?(?P<next>\w))|(?P<cjk>[。！？]+[”’」』）]*)")

_LAST_WORD = re.compile(r"([\w.]+)\.$")
_LIST_MARKER = re.compile(r"\(?(\d{1,2}|[ivx]{1,4})", re.I)

TokenCounter = Callable[[str], int]
BatchTokenCounter = Callable[[list[str]], list[int]]
#: Near the limit a packed passage is counted exactly; below it, sentence counts are summed.
_MARGIN = 4


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` in ``text``, in any script; paragraphs (blank-line separated) always break.

    The project's one sentence splitter: answerers that need sentences use this too.
    """
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        base, chunk = para.start(), para.group(0)
        start = 0
        for m in _BOUNDARY.finditer(chunk):
            if m.group("stop") and m.group("next").islower():
                continue  # "approx. two", "т.е. это": the next word goes on the sentence
            end = m.end("stop") if m.group("stop") else m.end("cjk")
            if m.group("stop") and m.group("stop")[0] == ".":
                # Only the word before the stop is read (not the sentence so far): linear on any line.
                word = _LAST_WORD.search(chunk, max(start, m.start("stop") - 24), m.start("stop") + 1)
                token = (word.group(1) if word else "").lower()
                if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                    continue
                if m.start("stop") - start <= 8 and _LIST_MARKER.fullmatch(chunk[start : m.start("stop")].strip()):
                    continue  # a list marker such as "1." or "iv."

            if chunk[start:end].strip():
                spans.append(_strip(text, base + start, base + end))
            start = m.end()
        if chunk[start:].strip():
            spans.append(_strip(text, base + start, base + len(chunk)))
    return spans


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _fit(
    text: str, span: tuple[int, int], count: TokenCounter, limit: int, count_many: BatchTokenCounter | None = None
) -> list[tuple[int, int]]:
    """Break a too-long sentence at clause punctuation, else at spaces, else every ``limit - 2`` characters,
    into parts of at most ``limit`` word pieces. Linear in the sentence's length: the pieces are counted
    in one batch and packed by their sums (word pieces add up across white space and CJK characters),
    counted exactly only near the limit."""
    a, b = span
    if count(text[a:b]) <= limit:
        return [span]
    for pattern in (r"[;；]\s*", r"[,，、]\s*", r"\s+"):
        bounds = sorted({a, b, *(a + m.end() for m in re.finditer(pattern, text[a:b]))})
        if len(bounds) > 2:
            break
    else:  # no spaces at all (CJK, a long code): a word piece is at least one character
        step = max(1, limit - 2)
        return [p for i in range(a, b, step) if (p := _strip(text, i, min(i + step, b)))[1] > p[0]]
    pieces = [p for x, y in zip(bounds, bounds[1:], strict=False) if (p := _strip(text, x, y))[1] > p[0]]
    counts = (count_many or (lambda ts: [count(t) for t in ts]))([text[x:y] for x, y in pieces])
    out: list[tuple[int, int]] = []
    group: list[tuple[int, int]] = []
    total = 0
    for piece, n in zip(pieces, counts, strict=True):
        if n > limit:  # too long by itself: cut it finer
            if group:
                out.append((group[0][0], group[-1][1]))
                group, total = [], 0
            out.extend(_fit(text, piece, count, limit, count_many))
            continue
        estimate = total + n - 2 if group else n
        if group and estimate > limit - _MARGIN and (
            estimate > limit + _MARGIN or count(text[group[0][0] : piece[1]]) > limit
        ):
            out.append((group[0][0], group[-1][1]))
            group, estimate = [], n
        group.append(piece)
        total = estimate
    if group:
        out.append((group[0][0], group[-1][1]))
    return out


def passage_id(source: str, start: int, text: str) -> str:
    return hashlib.sha256(f"{source}\0{start}\0{text}".encode()).hexdigest()[:20]


def split_document(
    doc: Document, count: TokenCounter, max_tokens: int, count_many: BatchTokenCounter | None = None
) -> list[Passage]:
    """Pack whole sentences into passages of at most ``max_tokens`` word pieces.

    ``count_many`` (optional) counts a list of texts in one tokenizer call: much faster
    than one ``count`` call per sentence on large corpora.
    """
    spans = split_sentences(doc.text)
    texts = [doc.text[a:b] for a, b in spans]
    counts = count_many(texts) if count_many is not None else [count(t) for t in texts]
    sentences: list[tuple[int, int, int]] = []  # start, end, tokens
    for span, n in zip(spans, counts, strict=True):
        if n <= max_tokens:
            sentences.append((span[0], span[1], n))
            continue
        for a, b in _fit(doc.text, span, count, max_tokens, count_many):
            sentences.append((a, b, count(doc.text[a:b])))
    passages: list[Passage] = []
    group: list[tuple[int, int, int]] = []

    def flush() -> None:
        if not group:
            return
        start, end = group[0][0], group[-1][1]
        text = doc.text[start:end]
        passages.append(
            Passage(
                id=passage_id(doc.source, start, text),
                source=doc.source,
                title=doc.title,
                ordinal=len(passages),
                start=start,
                end=end,
                text=text,
                sentences=[(a - start, b - start) for a, b, _ in group],
                publisher=doc.publisher,
                date=doc.date,
                url=doc.url,
            )
        )
        group.clear()

    # Sentences are joined by white space, where the tokenizer always splits, so a group's
    # word pieces are the sum of its sentences' (less their [CLS]/[SEP]); near the limit
    # the joined text is counted exactly to be sure.
    pieces = 0
    for sent in sentences:
        if group:
            estimate = pieces + sent[2] - 2
            if estimate > max_tokens - _MARGIN and (
                estimate > max_tokens + _MARGIN or count(doc.text[group[0][0] : sent[1]]) > max_tokens
            ):
                flush()
                pieces = 0
        pieces = sent[2] if not group else pieces + sent[2] - 2
        group.append(sent)
    flush()
    return passages
