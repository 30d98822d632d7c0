"""Removing page chrome from raw text so that only prose becomes passages.

The raw texts are copied from web pages: navigation headers ("Government News"),
sign-in widgets, status tables, Q&A teasers, "view more" links, photo captions and
"Source:" lines. None of it may answer a question, so a line is kept only when it
reads as prose: enough words and closing punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
        r"^(updated|published|editor|source|author)\s*[:：]",
        r"\bupdated\s*:\s*\d{4}-\d{2}-\d{2}",
        r"\ball rights reserved\b",
        r"^copyright\b",
        r"^(share|print|close|back to top)\b",
        r"\.\.\.$|…$",  # truncated teasers
    )
]


@dataclass
class CleanResult:
    text: str
    title: str | None = None
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    dropped: list[str] = field(default_factory=list)


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
    if any(p.search(s) for p in _CHROME_PATTERNS):
        return False
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


def clean_text(raw: str) -> CleanResult:
    """Keep prose lines, drop chrome, and pick up title/publisher/date where the text states them."""
    result = CleanResult(text="")
    kept: list[str] = []
    first_content: str | None = None
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        s = re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip()
        if not s:
            continue
        src = re.match(r"^source\s*[:：]\s*(.+)$", s, re.IGNORECASE)
        if src and result.publisher is None:
            result.publisher = src.group(1).strip()
        upd = re.search(r"^(\S+\.\w{2,})\s+updated\s*:\s*(\d{4}-\d{2}-\d{2})", s, re.IGNORECASE)
        if upd:
            result.url = result.url or f"https://{upd.group(1)}"
            result.publisher = result.publisher or upd.group(1)
            result.date = result.date or upd.group(2)
        if kept and kept[-1].endswith((":", "：", ";")) and not any(p.search(s) for p in _CHROME_PATTERNS):
            # A list item under "... five key industries:" joins its intro, so the sentence holds the list.
            bullet = _BULLET.match(s)
            text = bullet.group(1) if bullet else s
            words = _word_count(text)
            if (bullet and words <= 25) or (not bullet and not is_prose(s) and words <= 12):
                kept[-1] = kept[-1] + " " + text.rstrip(" .;。；") + ";"
                continue
        if is_prose(s):
            _close_list(kept)
            kept.append(s)
            continue
        _close_list(kept)
        result.dropped.append(s)
        # A headline is a short line with no closing punctuation before the body starts.
        if (
            first_content is None
            and not kept
            and not any(p.search(s) for p in _CHROME_PATTERNS)
            and _word_count(s) >= 3
            and not re.match(r"^(government|city) news$", s, re.I)
        ):
            first_content = s
    result.date = result.date or stated_date(raw[:1500])
    if first_content:
        date = _DATE.search(first_content)
        if date and result.date is None:
            result.date = date.group(0)
        result.title = _DATE.sub("", first_content).strip(" -|")
    _close_list(kept)
    result.text = "\n\n".join(kept)
    return result


def _close_list(kept: list[str]) -> None:
    """End a joined list with a full stop, as in "... industries: chips; biomedicine."."""
    if kept and kept[-1].endswith(";") and re.search(r"[:：] .+;$", kept[-1]):
        kept[-1] = kept[-1][:-1] + "."
