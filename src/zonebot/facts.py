"""What a sentence states: kinds of fact (a count, a size, a date, an amount, a share), the exact
span that states it, and the years it speaks of. General English and units, nothing corpus-specific.
"""

from __future__ import annotations

import re

KINDS = ("count", "size", "time", "year", "money", "percent")

_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|dozens|hundreds|thousands)"
)
_NUM = r"\d[\d,]*(?:\.\d+)?"
_SCALE = r"(?:\s*(?:million|billion|trillion|thousand|hundred|mln|bn))?"
YEAR = r"\b(1[89]\d\d|20\d\d)\b"
_MONTH = r"january|february|march|april|may|june|july|august|september|october|november|december"

# Spans that state each kind of fact, most specific first; the first match is the direct answer.
SPANS: dict[str, re.Pattern[str]] = {
    "size": re.compile(
        rf"(?:about |around |nearly |over |more than )?{_NUM}{_SCALE}\s*(?:square\s+(?:kilomet|met|mile)\w*|"
        r"sq\.?\s*(?:km|m|mi)\b|km2|km²|hectares?|acres?|mu\b)|[\d.]+\s*(?:平方公里|平方米|公顷|亩)",
        re.I,
    ),
    "money": re.compile(
        rf"(?:(?:more than|over|about|nearly|around|up to)\s+)?(?:(?:US)?\$\s?{_NUM}{_SCALE}|"
        rf"{_NUM}{_SCALE}[\s-]*(?:yuan|rmb|dollars?|euros?|usd)\b(?:\s*\((?:US)?\$[^)]*\))?)|[\d.]+\s*(?:亿|万)?元",
        re.I,
    ),
    "percent": re.compile(rf"{_NUM}\s*(?:per ?cent|%)|[\d.]+\s*%", re.I),
    "year": re.compile(YEAR),
    "time": re.compile(
        rf"\b(?:(?:{_MONTH})\s+\d{{1,2}},?\s+)?(?:(?:{_MONTH})\s+)?(?:1[89]\d\d|20\d\d)\b|"
        rf"\b(?:{_MONTH})\s+\d{{1,2}}\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
        r"\b(?:yesterday|today|last year|this year|last month)\b|\d{4}\s*年",
        re.I,
    ),
    "count": re.compile(
        rf"(?:(?:more than|over|about|nearly|around|almost|some|up to)\s+)?(?:{_NUM}{_SCALE}|\b{_NUMBER_WORDS}\b(?!-))",
        re.I,
    ),
}
_STATES_AREA = re.compile(r"\b(covers?|covering|spans?|total area|area of|stretch(es|ing)?)\b", re.I)
_PRECISE_DATE = re.compile(rf"{YEAR}|\b({_MONTH})\b", re.I)
_LIST_SHAPE = re.compile(r"[:：][^;；]+[;；][^;；]+[;；]|(?:,[^,]+){2,}")


def states(kind: str | None, text: str) -> bool:
    """True when ``text`` states a fact of ``kind`` (any text does, for no kind)."""
    if kind is None or kind not in SPANS:
        return True
    if kind == "count":
        return bool(SPANS["count"].search(_counts_only(text)))
    return bool(SPANS[kind].search(text))


def in_form(kind: str | None, wants_list: bool, text: str) -> bool:
    """States the fact in the form expected: an area, a precise date, a list."""
    return (
        (kind == "size" and bool(_STATES_AREA.search(text)))
        or (kind in ("time", "year") and bool(_PRECISE_DATE.search(text)))
        or (wants_list and bool(_LIST_SHAPE.search(text)))
    )


# "3. For enterprises ...": a list item's number, not a count.
_ENUMERATOR = re.compile(r"^\s*\d{1,2}[.)](?=\s)")


def _counts_only(text: str) -> str:
    """``text`` with its years, sizes, amounts, shares and list numbers blanked (same length):
    "2 percent of land" or "in 2022" say nothing about how many."""
    for kind in ("size", "money", "percent", "time"):
        text = SPANS[kind].sub(lambda m: " " * len(m.group(0)), text)
    return _ENUMERATOR.sub(lambda m: " " * len(m.group(0)), text)


def span(kind: str | None, text: str, near: list[str] | None = None) -> str | None:
    """The exact words of ``text`` that state the ``kind`` of fact asked; the one nearest to
    ``near`` (the question's words) when there are several."""
    if kind not in SPANS:
        return None
    pattern = SPANS[kind]
    source = _counts_only(text) if kind == "count" else text
    found = [m for m in pattern.finditer(source) if m.group(0).strip()]
    if not found:
        return None
    if len(found) == 1 or not near:
        return text[found[0].start() : found[0].end()].strip()
    lowered = text.lower()
    anchors = [m.start() for w in near for m in re.finditer(rf"\b{re.escape(w)}", lowered)]
    if not anchors:
        return text[found[0].start() : found[0].end()].strip()
    best = min(found, key=lambda m: min(abs(m.start() - a) for a in anchors))
    return text[best.start() : best.end()].strip()


_RELATIVE = [
    (re.compile(r"\bthis year\b|\bthe current year\b|\bso far this year\b", re.I), 0),
    (re.compile(r"\blast year\b|\bthe previous year\b|\ba year (ago|earlier)\b|\bthe year before\b", re.I), -1),
    (re.compile(r"\btwo years ago\b|\bthe year before last\b", re.I), -2),
    (re.compile(r"\bnext year\b", re.I), 1),
]


def relative_years(text: str) -> list[int]:
    """Offsets of the relative years ``text`` speaks of ("last year" -> -1)."""
    return [offset for rx, offset in _RELATIVE if rx.search(text)]


def years_in(text: str) -> set[int]:
    return {int(y) for y in re.findall(YEAR, text)}


def doc_year(date: str | None) -> int | None:
    m = re.search(YEAR, date or "")
    return int(m.group(0)) if m else None


def sentence_years(text: str, date: str | None) -> set[int]:
    """The years a sentence speaks of: the ones it names, and its relative ones resolved against
    its document's date."""
    years = years_in(text)
    base = doc_year(date)
    if base is not None:
        years |= {base + off for off in relative_years(text)}
    return years


def numbers(text: str) -> set[str]:
    return {m.group(0).replace(",", "").rstrip(".") for m in re.finditer(_NUM, text)}
