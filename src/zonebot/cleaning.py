"""Removing page chrome from raw text so that only prose becomes passages.

The raw texts are copied from web pages: navigation headers ("Government News"),
sign-in widgets, status tables, Q&A teasers, "view more" links, photo captions and
"Source:" lines. None of it may answer a question, so a line is kept only when it
reads as prose: enough words and closing punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .readers import Block

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Scripts written without spaces between words (CJK ideographs, kana, Thai): counted by characters.
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# A word of any script: a letter or digit, then word characters and in-word punctuation.
_WORD = re.compile(r"[^\W_][\w'’\-.$%]*")
_DATE = re.compile(r"\b((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")  # fmt: skip
# "Published: November 6, 2023", "Updated: 2023-04-10", "Date: 6 November 2023" near the top of a page.
_DATE_LINE = re.compile(
    r"\b(?:published|updated|date|dated|posted|issued|released)\s*(?:on\s*)?[:：]?\s*"
    r"(?:(?P<iso>(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2})|(?P<m1>[A-Za-z]+)\.?\s+(?P<d1>\d{1,2}),?\s+(?P<y1>(?:19|20)\d{2})"
    r"|(?P<d2>\d{1,2})\s+(?P<m2>[A-Za-z]+)\.?,?\s+(?P<y2>(?:19|20)\d{2}))",
    re.I,
)
_TERMINAL = tuple(".!?:;\"')”’。！？：；）)؟۔।॥")  # Arabic question mark and full stop, Devanagari danda

_CHROME_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^sign (in|up)\b",
        r"\bforgot password\b",
        r"\bsign-up\b",
        r"^(application|inquiry) status$",
        r"^view more\b",
        r"^(q|a)\s*:",  # Q&A teasers
        r"\[photo\b",  # photo captions carry a credit
        r"^photo\s*:",
        r"^(home|首页)\s*>",  # breadcrumbs
        r"^\d{2}-\d{2}\s+\d+\s+\w+$",  # status-table rows
        r"^(updated|published|editor|source|author|date|dated|posted|issued|released|reporter|writer|"
        r"translator|tags?|keywords|categor(y|ies)|credits?|views|comments|read more|related)\s*[:：]",
        r"\bupdated\s*:\s*\d{4}-\d{2}-\d{2}",
        r"\ball rights reserved\b",
        r"^copyright\b",
        r"^(share|print|close|back to top)\b",
        r"\.\.\.$|…$",  # truncated teasers
    )
]




def _is_chrome(s: str) -> bool:
    # One pattern at a time: each scans fast for its own literal; one alternation of all is twice as slow.
    return any(p.search(s) for p in _CHROME_PATTERNS)


@dataclass
class CleanResult:
    text: str
    title: str | None = None
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    dropped: list[str] = field(default_factory=list)
    extracted: int = 0  #: characters (not counting white space) of the text the reader extracted
    kept: int = 0  #: of them, characters kept in ``text``
    #: Line-end hyphen breaks left as written ("photo-resist") because neither the joined word nor the
    #: parts told which was meant: ``(as written, joined)``; the ingest joins them when the corpus knows the word.
    open_breaks: list[tuple[str, str]] = field(default_factory=list)


# A bullet or numbered list item.
_BULLET = re.compile(r"^(?:[-*•·–]\s+|\(?\d{1,2}[.)]\s+|[a-z][.)]\s+)(.+)$")


def _word_count(line: str) -> int:
    """Words of any script (Cyrillic, Arabic, Hebrew as much as Latin); unspaced scripts count two characters
    as a word."""
    unspaced = len(_UNSPACED.findall(line))
    return len(_WORD.findall(_UNSPACED.sub(" ", line))) + unspaced // 2


def is_prose(line: str) -> bool:
    """True when ``line`` reads as a sentence (or list item) rather than page chrome."""
    s = line.strip()
    if not s:
        return False
    return not _is_chrome(s) and _prose_shape(s)


def _prose_shape(s: str) -> bool:
    """Enough words and closing punctuation (a stripped line, chrome not checked)."""
    words = _word_count(s)
    if s.endswith(":") or s.endswith("："):
        return words >= 5
    if not s.endswith(_TERMINAL):
        return False
    return words >= 6


def stated_date(text: str) -> str | None:
    """The date a page states for itself ("Published: November 6, 2023"), as ``YYYY-MM-DD``."""
    for m in _DATE_LINE.finditer(text):
        if m.group("iso"):
            y, mo, d = re.split(r"[-/.]", m.group("iso"))
        else:
            month = (m.group("m1") or m.group("m2")).lower()
            match = [i for i, name in enumerate(_MONTHS, 1) if name.startswith(month[:3]) and len(month) >= 3]
            if not match:
                continue
            y, mo, d = m.group("y1") or m.group("y2"), str(match[0]), m.group("d1") or m.group("d2")
        if 1 <= int(mo) <= 12 and 1 <= int(d) <= 31:
            return f"{int(y):04d}-{int(mo):02d}-{int(d):02d}"
    return None


# "Land area: 29.4 km2", "Year of establishment：1992": a key of a few words, then its value.
_KEY_VALUE = re.compile(r"^(?P<key>[^\W\d_][^:：.!?]{0,48}?)\s*[:：]\s*(?P<value>\S.{0,300})$")
_FIGURE = re.compile(r"\d")
_LETTERS = re.compile(r"[^\W\d_]+")
# A line-end hyphen: "manu-" then "facturers" on the next line.
_BREAK = re.compile(r"([^\W\d_]+)-$")
_CONTINUES = re.compile(r"^[a-z\d(]")
_SOURCE_LINE = re.compile(r"^source\s*[:：]\s*(.+)$", re.IGNORECASE)
_UPDATED_LINE = re.compile(r"^(\S+\.\w{2,})\s+updated\s*:\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


def _known_words(blocks: list[Block]) -> set[str]:
    """The document's own words, lower-cased, hyphenated compounds whole ("cold-chain") as well as apart."""
    words: set[str] = set()
    for b in blocks:
        text = b.text.lower()
        words.update(_LETTERS.findall(text))
        words.update(re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)+", text))
    return words


class _Cleaner:
    """One document's cleaning: blocks in, kept lines out, with what was learned on the way."""

    def __init__(self, blocks: list[Block]) -> None:
        self.result = CleanResult(text="")
        self.kept: list[str] = []
        self.first_content: str | None = None
        self.subject: str | None = None  # the nearest heading that names something
        self.passed: set[str] = set()  # lines dropped, or kept for their figures: the next time, passed over
        self._blocks = blocks
        self._own: set[str] | None = None

    # -- words ---------------------------------------------------------------------------------
    def _own_words(self) -> set[str]:
        if self._own is None:
            self._own = _known_words(self._blocks)
        return self._own

    def _joint(self, head: str, tail: str) -> str:
        """What goes between two wrapped lines: "" where "manu-" meets "facturers" (the hyphen dropped by
        the caller), "-" kept in "cold-" + "chain" when the document writes it so, else a space. A line-end
        hyphen is dropped when the joined word is known (the document's own or the dictionary's) or a part
        is no word at all; when both parts are words and the joined one is unknown ("photo-" + "resist"),
        the hyphen stays and the ingest decides (``open_breaks``)."""
        from .lexicon import english_words

        m, n = _BREAK.search(head), re.match(r"[^\W\d_]+", tail)
        if not m or not n or not tail[:1].islower():
            return " "
        a, b = m.group(1), n.group(0)
        own, english = self._own_words(), english_words()
        joined, written = (a + b).lower(), f"{a}-{b}".lower()
        if written in own:
            return "-"
        if joined in own or joined in english or not (a.lower() in english and b.lower() in english):
            return ""
        self.result.open_breaks.append((f"{a}-{b}", a + b))
        return "-"

    def unwrap(self, text: str) -> list[str]:
        """A block's lines as logical lines: lines wrapped from one paragraph rejoined, others apart.
        Linear in the block's length."""
        lines = [re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip() for line in text.split("\n")]
        out: list[list[str]] = []
        prev = ""
        for line in (line for line in lines if line):
            if out and self._wrapped(prev, line):
                joint = self._joint(prev, line)
                if joint != " ":  # a line-end hyphen: the previous part loses it, the joint puts it back or not
                    out[-1][-1] = out[-1][-1][:-1]
                out[-1].append(joint + line)
            else:
                out.append([line])
            prev = line
        return ["".join(parts) for parts in out]

    @staticmethod
    def _wrapped(prev: str, line: str) -> bool:
        if prev.endswith("-") and line[:1].isalpha():
            return True
        if prev.endswith(_TERMINAL) or (_KEY_VALUE.match(prev) and _KEY_VALUE.match(line)):
            return False
        return bool(_CONTINUES.match(line)) or (len(prev) >= 40 and not _BULLET.match(line))

    # -- lines ---------------------------------------------------------------------------------
    def add_line(self, s: str) -> None:
        """One logical line of prose as written: kept, joined to a list intro, made a row, or dropped."""
        if s in self.passed:  # seen before and not kept as prose: a log line, a repeated banner
            return
        result, kept = self.result, self.kept
        src = _SOURCE_LINE.match(s)
        if src and result.publisher is None:
            result.publisher = src.group(1).strip()
        upd = _UPDATED_LINE.match(s)
        if upd:
            result.url = result.url or f"https://{upd.group(1)}"
            result.publisher = result.publisher or upd.group(1)
            result.date = result.date or upd.group(2)
        chrome = _is_chrome(s)
        if kept and kept[-1].endswith((":", "：", ";")) and not chrome:
            # A list item under "... five key industries:" joins its intro, so the sentence holds the list.
            bullet = _BULLET.match(s)
            text = bullet.group(1) if bullet else s
            words = _word_count(text)
            if (bullet and words <= 25) or (not bullet and not _prose_shape(s) and words <= 12):
                kept[-1] = kept[-1] + " " + text.rstrip(" .;。；") + ";"
                result.kept += _chars(text)
                return
        if not chrome and _prose_shape(s):
            self._keep(s)
            return
        pair = _KEY_VALUE.match(s)
        started = bool(kept) or self.first_content is not None  # past the headline
        if pair and not chrome and started and _word_count(pair.group("key")) <= 6:
            self._keep_row([(pair.group("key"), pair.group("value").strip())], None, None, _chars(s))
            return
        if not chrome and started and _FIGURE.search(s) and _word_count(s) >= 3:
            # A line that states a figure is a fact, prose or not ("Total investment 3.2 billion yuan");
            # the same one over and over (a log, a repeated banner) is kept once.
            self.passed.add(s)
            self._keep(s)
            return
        _close_list(kept)
        result.dropped.append(s)
        self.passed.add(s)
        if self.first_content is None and not kept and not chrome and _word_count(s) >= 3:
            if not re.match(r"^(government|city) news$", s, re.I):
                self.first_content = s  # a headline: a short line with no closing punctuation before the body
        elif not chrome and _names_something(s) and _word_count(s) <= 12:
            self.subject = s

    def _keep(self, s: str, chars: int | None = None) -> None:
        """Keep a line; ``chars`` of the extracted text it stands for (default: its own)."""
        _close_list(self.kept)
        self.kept.append(s)
        self.result.kept += _chars(s) if chars is None else chars

    def add_heading(self, text: str) -> None:
        s = " ".join(text.split())
        if not s:
            return
        if self.first_content is None and not self.kept and _word_count(s) >= 2:
            self.first_content = s
        if _names_something(s):
            self.subject = s

    def _keep_row(self, cells: list[tuple[str, str]], label: str | None, caption: str | None, chars: int) -> None:
        subject = caption if caption and _names_something(caption) else self.subject or self.first_content
        self._keep(row_sentence(cells, label, subject), chars)

    def add(self, block: Block) -> None:
        if block.kind == "heading":
            self.add_heading(block.text)
        elif block.kind == "row":
            self.result.extracted += _chars(block.text)
            self._keep_row(block.cells, block.label, block.caption, _chars(block.text))
        else:
            self.result.extracted += _chars(block.text)
            for line in self.unwrap(block.text):
                for piece in _pieces(line, self.result.dropped):
                    self.add_line(piece)


#: A "line" longer than this (a whole file written on one line) is read as its sentences, a few at a time,
#: so that one phrase of chrome in it does not cost the rest.
_LONG_LINE = 2000


def _pieces(line: str, dropped: list[str]) -> list[str]:
    """A long line as groups of its sentences, chrome sentences ("All rights reserved.") left out."""
    if len(line) <= _LONG_LINE:
        return [line]
    from .splitting import split_sentences

    pieces: list[str] = []
    group: list[str] = []
    size = 0
    for a, b in split_sentences(line):
        sentence = line[a:b]
        if _is_chrome(sentence):
            dropped.append(sentence)
            continue
        if group and size + len(sentence) > _LONG_LINE // 2:
            pieces.append(" ".join(group))
            group, size = [], 0
        group.append(sentence)
        size += len(sentence) + 1
    if group:
        pieces.append(" ".join(group))
    return pieces


def _chars(text: str) -> int:
    return len(text) - text.count(" ") - text.count("\n") - text.count("\t")


def _names_something(text: str) -> bool:
    """A heading or row header that names a thing ("Dongxi Precision Park", "Xihu"), not a topic
    ("Land area", "Output"): a capitalised word outside the English dictionary, or two capitalised words."""
    from .lexicon import english_words

    words = [w for w in _LETTERS.findall(text) if len(w) > 1]
    capital = [w for w in words if w[0].isupper()]
    if any(w.lower() not in english_words() for w in capital):
        return True
    return len(capital) >= 2 and len(capital) >= len([w for w in words if len(w) > 3]) * 0.6


def row_sentence(cells: list[tuple[str, str]], label: str | None, subject: str | None) -> str:
    """A table row as one citable sentence: "<row subject> — <column>: <value>; ...".

    The row's own header leads when it names a thing; otherwise the table's subject leads and the
    row header heads each value ("<zone> — Output (2023): 62.4 billion yuan").
    """
    def value(v: str) -> str:
        return " ".join(v.split()).rstrip(" .;。；")

    if label and not _names_something(label) and subject:
        parts = [f"{label} ({h}): {value(v)}" if h else f"{label}: {value(v)}" for h, v in cells]
        lead = subject
    else:
        parts = [f"{h}: {value(v)}" if h else value(v) for h, v in cells]
        lead = label or subject
    body = "; ".join(parts)
    text = f"{lead} — {body}" if lead and lead.lower() not in body.lower()[: len(lead) + 2] else body
    return text + ("" if text.endswith(tuple(".!?。！？")) else ".")


def clean_blocks(blocks: list[Block]) -> CleanResult:
    """Keep prose and table rows, drop chrome, and pick up title/publisher/date where the text states them.

    Prose lines are kept when they read as sentences, state a figure, or are ``Key: value`` pairs (kept
    as rows); headings are never kept, but a heading that names something is the subject of the rows
    under it. Lines wrapped from one paragraph are rejoined first (a line-end hyphen removed when the
    joined word is a known word).
    """
    cleaner = _Cleaner(blocks)
    for block in blocks:
        cleaner.add(block)
    result = cleaner.result
    raw_start = "\n".join(b.text for b in blocks[:60])[:1500]
    result.date = result.date or stated_date(raw_start)
    if cleaner.first_content:
        date = _DATE.search(cleaner.first_content)
        if date and result.date is None:
            result.date = date.group(0)
        result.title = _DATE.sub("", cleaner.first_content).strip(" -|")
    _close_list(cleaner.kept)
    result.text = "\n\n".join(cleaner.kept)
    result.kept = min(result.kept, result.extracted)
    return result


def clean_text(raw: str) -> CleanResult:
    """``clean_blocks`` of plain text."""
    from .readers.text import text_blocks

    return clean_blocks(text_blocks(raw))


def _close_list(kept: list[str]) -> None:
    """End a joined list with a full stop, as in "... industries: chips; biomedicine."."""
    if kept and kept[-1].endswith(";") and re.search(r"[:：] .+;$", kept[-1]):
        kept[-1] = kept[-1][:-1] + "."
