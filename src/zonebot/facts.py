"""What a sentence states: kinds of fact (a count, a size, a date, an amount, a share), the exact
span that states it, and the years it speaks of. General English and units, nothing corpus-specific.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

#: Sentences are read again for every question that retrieves them: what they state is kept.
_cached = lru_cache(maxsize=1 << 16)

KINDS = ("count", "size", "time", "year", "money", "percent", "code")

# Numbers written in words: "twenty-six", "three hundred and five", "a dozen": number words joined by spaces,
# hyphens or "and", taken whole ("twenty-six", never "six"). Each word matches one way, and a run is possessive
# and at most eleven words long, so that text full of number words costs linear time.
_ONES = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_BELOW_100 = rf"(?:{_TENS}|{_TEENS}|{_ONES})\b"
_MULTIPLIER = "hundred|thousand|million|billion|trillion"
_AFTER_MULTIPLIER = "(?:" + "|".join(f"(?<={m})" for m in _MULTIPLIER.split("|")) + ")"  # "one hundred and five"
#: A cardinal in words ("forty-two", "two thousand three hundred", "a hundred", "a dozen").
NUMBER_WORDS = (
    rf"\b(?:{_BELOW_100}|a(?=\s+(?:{_MULTIPLIER}|dozen)\b))"
    rf"(?:(?:\s+|-)(?:{_BELOW_100}|(?:{_MULTIPLIER}|dozen)\b)|{_AFTER_MULTIPLIER}\s+and\s+{_BELOW_100}){{0,10}}+"
)
_VAGUE = r"\b(?:dozens|hundreds|thousands|millions)\b"
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
#: A number in digits or in words.
NUMBER = _NUMBER = rf"(?:{_NUM}|{NUMBER_WORDS})"
_SCALE = r"(?:\s*(?:million|billion|trillion|thousand|hundred|mln|bn))?"
YEAR = r"\b(1[89]\d\d|20\d\d)\b"
_MONTH = r"january|february|march|april|may|june|july|august|september|october|november|december"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = "|".join(WEEKDAYS)
# Time stated relative to the document's date. A year: "last year", "the first half of this year" (a half
# or quarter with no year named is of the document's year); a day or month: "on Tuesday", "last month".
_OF_RELATIVE_YEAR = r"\s+of\s+(?:this|last|next|the\s+(?:current|previous))\s+year\b"
_RELATIVE_YEAR = (
    rf"\b(?:the\s+)?(?:first|second)\s+half(?:{_OF_RELATIVE_YEAR}|\b(?!\s+of\b))|"
    rf"\b(?:the\s+)?(?:first|second|third|fourth)\s+quarter(?:{_OF_RELATIVE_YEAR}|\b(?!\s+of\b))|"
    r"\b(?:(?:earlier|later)\s+)?(?:this|last|next)\s+year\b|\bthe\s+(?:current|previous)\s+year\b|"
    r"\b(?:a|one|two|three)\s+years?\s+ago\b|\bthe\s+year\s+before(?:\s+last)?\b"
)
_RELATIVE_DAY = (
    rf"\b(?:(?:last|next|this|this\s+coming|coming)\s+)?(?:{_WEEKDAY})\b(?!,?\s+(?:{_MONTH}|\d))|"
    r"\b(?:yesterday|today|tomorrow)\b|\b(?:(?:earlier|later)\s+)?(?:this|last|next)\s+month\b"
)

# Spans that state each kind of fact, most specific first; the first match is the direct answer.
SPANS: dict[str, re.Pattern[str]] = {
    "size": re.compile(
        rf"(?:about |around |nearly |over |more than )?{_NUMBER}{_SCALE}\s*(?:square\s+(?:kilomet|met|mile)\w*|"
        r"sq\.?\s*(?:km|m|mi)\b|km2|km²|hectares?|acres?|mu\b)|[\d.]+\s*(?:平方公里|平方米|公顷|亩)",
        re.I,
    ),
    "money": re.compile(
        rf"(?:(?:more than|over|about|nearly|around|up to)\s+)?(?:(?:US)?\$\s?{_NUM}{_SCALE}|"
        rf"{_NUMBER}{_SCALE}[\s-]*(?:yuan|rmb|dollars?|euros?|usd)\b(?:\s*\((?:US)?\$[^)]*\))?)|[\d.]+\s*(?:亿|万)?元",
        re.I,
    ),
    "percent": re.compile(rf"{_NUMBER}\s*(?:per ?cent|%)|[\d.]+\s*%", re.I),
    "year": re.compile(rf"{YEAR}|{_RELATIVE_YEAR}", re.I),
    "time": re.compile(
        rf"\b(?:(?:{_WEEKDAY}),?\s+)?(?:(?:{_MONTH})\s+\d{{1,2}},?\s+)?(?:(?:{_MONTH})\s+)?(?:1[89]\d\d|20\d\d)\b|"
        rf"\b(?:(?:{_WEEKDAY}),?\s+)?(?:{_MONTH})\s+\d{{1,2}}\b|{_RELATIVE_YEAR}|{_RELATIVE_DAY}|\d{{4}}\s*年",
        re.I,
    ),
    "count": re.compile(
        rf"(?:(?:more than|over|about|nearly|around|almost|some|up to)\s+)?(?:{_NUM}{_SCALE}|{NUMBER_WORDS}(?!-)|{_VAGUE})",
        re.I,
    ),
}
_STATES_AREA = re.compile(r"\b(covers?|covering|spans?|total area|area of|stretch(es|ing)?)\b", re.I)
_PRECISE_DATE = re.compile(rf"{YEAR}|\b({_MONTH})\b", re.I)
_LIST_SHAPE = re.compile(r"[:：][^;；]+[;；][^;；]+[;；]|(?:,[^,]+){2,}")


@_cached
def states(kind: str | None, text: str) -> bool:
    """True when ``text`` states a fact of ``kind`` (any text does, for no kind)."""
    if kind == "code":
        return bool(identifiers(text))
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


# -- identifiers: codes, phone, plot, part and model numbers ------------------------------------------
# A candidate is a run of letters and digits joined by "-", "/" or "." ("RS-0417", "0571-8800-4417", "No.88").
_TOKEN = re.compile(r"(?<![\w.+-])\+?[A-Za-z0-9]+(?:[-./][A-Za-z0-9]+)*")
# Letters with digits that are a measure or an order, not a name: "km2", "20km", "8bn", "10th", "1990s".
_NOT_A_CODE = re.compile(r"(?:\d[\d.]*)?(?i:[kcm]?m|sq|mi)[23²³]?|\d[\d.,]*[a-z]+|\d+'?s")
_DATE = re.compile(r"(?:1[89]|20)\d\d([-/])(0?[1-9]|1[0-2])\1(0?[1-9]|[12]\d|3[01])|\d{1,2}/\d{1,2}/(?:1[89]|20)\d\d")


@_cached
def identifiers(text: str) -> tuple[tuple[int, int], ...]:
    """Where ``text`` names something by a code (``(start, end)`` spans, in order): letters with digits
    ("RS-0417", "COVID-19", "5G", "No.88") or digit groups that are no date, range or decimal
    ("0571-8800-4417": three or more groups, a group with a leading zero, or seven digits or more)."""
    out = []
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if not any(c.isdigit() for c in token):
            continue
        if any(c.isalpha() for c in token):
            if not _NOT_A_CODE.fullmatch(token):
                out.append((m.start(), m.end()))
            continue
        groups = re.split(r"[-./]", token.lstrip("+"))
        if len(groups) < 2 or _DATE.fullmatch(token) or (len(groups) == 2 and "." in token) or _range(groups):
            continue
        leading_zero = any(g.startswith("0") for g in groups)
        if token.startswith("+") or len(groups) >= 3 or leading_zero or sum(map(len, groups)) >= 7:
            out.append((m.start(), m.end()))
    return tuple(out)


def _range(groups: list[str]) -> bool:
    """A range ("2021-2025", "10-15"): two numbers, the second the larger, neither with a leading zero."""
    return len(groups) == 2 and not any(g.startswith("0") for g in groups) and int(groups[1]) > int(groups[0])


def codes(text: str) -> list[str]:
    """The identifiers ``text`` names, as written."""
    return [text[a:b] for a, b in identifiers(text)]


def canonical(code: str) -> str:
    """A code as compared: lower case, separators dropped ("RS-0417" and "rs0417" are one code)."""
    return re.sub(r"[-./+\s]", "", code.lower())


def unstated(asked: list[str] | tuple[str, ...], text: str) -> list[str]:
    """The codes ``asked`` that ``text`` does not name exactly: RS-0417 is never met by RS-0471 or RS-04171."""
    if not asked:
        return []
    said = {canonical(c) for c in codes(text)}
    return [c for c in asked if canonical(c) not in said]


# -- numbers -----------------------------------------------------------------------------------------
# "3. For enterprises ...": a list item's number, not a count.
_ENUMERATOR = re.compile(r"^\s*\d{1,2}[.)](?=\s)")
# "the Fortune 500", "Industry 4.0", "No. 88": a number right after a capitalised word inside a sentence
# (not a possessive, not a month) belongs to a name.
_NAMED_NUMBER = re.compile(
    rf"(?<=[^\s.!?:;\"“(]\s)(?!(?:{_MONTH})\b)[A-Z][A-Za-z-]*(?<!'s)\.?\s+\d+(?:[.,]\d+)*(?![\w-])"
)


def _blank(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


@_cached
def _counts_only(text: str) -> str:
    """``text`` with its years, sizes, amounts, shares, codes, numbered names and list numbers blanked (same
    length): "2 percent of land", "in 2022", "COVID-19" or "Fortune 500" say nothing about how many."""
    for kind in ("size", "money", "percent", "time"):
        text = _blank(SPANS[kind], text)
    for a, b in identifiers(text):
        text = text[:a] + " " * (b - a) + text[b:]
    text = _blank(_NAMED_NUMBER, text)
    return _blank(_ENUMERATOR, text)


def _matches(kind: str, text: str) -> list[tuple[int, int]]:
    if kind == "code":
        return list(identifiers(text))
    source = _counts_only(text) if kind == "count" else text
    return [(m.start(), m.end()) for m in SPANS[kind].finditer(source) if m.group(0).strip()]


def span(kind: str | None, text: str, near: list[str] | None = None) -> str | None:
    """The exact words of ``text`` that state the ``kind`` of fact asked; when there are several, the one
    that starts nearest to one of ``near`` (the question's words); a count, the one fewest characters
    away: "twenty-six research institutes and forty-two drug makers" gives "forty-two" for "drug"."""
    if kind not in SPANS and kind != "code":
        return None
    found = _matches(kind, text)
    if not found:
        return None
    lowered = text.lower()
    anchors = [(m.start(), m.end()) for w in near or [] for m in re.finditer(rf"\b{re.escape(w)}", lowered)]

    def distance(f: tuple[int, int]) -> int:
        if kind == "count":  # a count stands next to what it counts: the characters between them
            return min(x - f[1] if x >= f[1] else max(0, f[0] - y) for x, y in anchors)
        return min(abs(f[0] - x) for x, _ in anchors)

    a, b = min(found, key=distance) if anchors else found[0]
    return text[a:b].strip()


_WORD_VALUE = re.compile(NUMBER_WORDS, re.I)


def word_value(phrase: str) -> int | None:
    """The value of a cardinal in words: "twenty-six" -> 26, "a dozen" -> 12, "three hundred and five" -> 305.
    None when ``phrase`` is not one."""
    from text_to_num import text2num

    ws = phrase.lower().replace("-", " ").split()
    if ws and ws[0] == "a":
        ws[0] = "one"
    factor = 1
    if ws and ws[-1] == "dozen":
        ws, factor = ws[:-1] or ["one"], 12
    try:
        return int(text2num(" ".join(ws), "en")) * factor
    except ValueError:
        return None


def value(number: str) -> float | None:
    """A number's value, in digits ("3,180,000", "2.5") or in words ("twenty-six"); None for anything else."""
    try:
        return float(number.replace(",", "").rstrip("."))
    except ValueError:
        found = word_value(number)
        return float(found) if found is not None else None


def figures(text: str) -> list[tuple[int, int, float]]:
    """Every figure ``text`` states, in order, as ``(start, end, value)``: digits or words ("twenty-six" ->
    26.0). A code or phone number is no figure, nor is a lone "one" ("one of the zones")."""
    rest = text
    for a, b in identifiers(text):
        rest = rest[:a] + " " * (b - a) + rest[b:]
    found = [(m.start(), m.end(), float(m.group(0).replace(",", ""))) for m in re.finditer(_NUM, rest)]
    for m in _WORD_VALUE.finditer(rest):
        number = word_value(m.group(0)) if m.group(0).lower() != "one" else None
        if number is not None:
            found.append((m.start(), m.end(), float(number)))
    return sorted(found)


def numbers(text: str) -> set[str]:
    """The numbers ``text`` states, each read whole: a code or phone number as one ("rs0417",
    "057188004417", never its "0571"), a figure without its thousands commas ("3180000"), a number in
    words as digits ("twenty-six" -> "26"; "two billion" -> "2", as "2 billion" gives)."""
    found = {canonical(text[a:b]) for a, b in identifiers(text)}
    rest = text
    for a, b in identifiers(text):
        rest = rest[:a] + " " * (b - a) + rest[b:]
    found |= {m.group(0).replace(",", "") for m in re.finditer(_NUM, rest)}
    for m in _WORD_VALUE.finditer(rest):
        if m.group(0).lower() == "one":  # "one of the zones", "the one": no figure
            continue
        phrase = re.sub(r"[\s-]+(?:million|billion|trillion)$", "", m.group(0), flags=re.I)
        value = word_value(phrase)
        if value is not None:
            found.add(str(value))
    return found


# -- time --------------------------------------------------------------------------------------------
_RELATIVE = [
    (re.compile(r"\bthis year\b|\bthe current year\b|\bso far this year\b", re.I), 0),
    (re.compile(r"\b(last|the previous) year\b|\b(a|one) year (ago|earlier)\b|\bthe year before\b(?! last)", re.I), -1),
    (re.compile(r"\btwo years ago\b|\bthe year before last\b", re.I), -2),
    (re.compile(r"\bthree years ago\b", re.I), -3),
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


def doc_date(date: str | None) -> dt.date | None:
    """The day a document is dated, when its date gives one ("2022-08-18")."""
    m = re.search(r"\b((?:1[89]|20)\d\d)-(\d\d)-(\d\d)\b", date or "")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        return None


@_cached
def sentence_years(text: str, date: str | None) -> frozenset[int]:
    """The years a sentence speaks of: the ones it names, and its relative ones ("last year", "on Tuesday")
    resolved against its document's date."""
    years = years_in(text)
    base = doc_year(date)
    if base is not None:
        years |= {base + off for off in relative_years(text)}
    day = doc_date(date)
    if day is not None:
        future = bool(_FUTURE.search(text))
        years |= {d.year for m in _DAY.finditer(text) if (d := _day(m.group(0), future, day)) is not None}
    return frozenset(years)


_DAY = re.compile(rf"\b(?:(?:last|next|this|this\s+coming|coming)\s+)?(?:{_WEEKDAY})\b(?!,?\s+(?:{_MONTH}|\d))|"
                  r"\b(?:yesterday|today|tomorrow)\b", re.I)  # fmt: skip
_MONTH_NAMES = _MONTH.split("|")
# A sentence that speaks of what is still to come: "will open on Tuesday".
_FUTURE = re.compile(r"\b(will|shall|(is|are) (due|set|scheduled|expected|going|planned|to)|plans? to)\b", re.I)


def _day(phrase: str, future: bool, dated: dt.date) -> dt.date | None:
    """The day "Tuesday", "last Friday", "yesterday" stands for in a text dated ``dated``: a weekday is the
    latest one on or before that date, the next one after it for "next ..." or in a sentence about the ``future``."""
    p = phrase.lower()
    shift = {"yesterday": -1, "today": 0, "tomorrow": 1}.get(p)
    if shift is not None:
        return dated + dt.timedelta(days=shift)
    weekday = next((i for i, name in enumerate(WEEKDAYS) if name in p), None)
    if weekday is None:
        return None
    back = (dated.weekday() - weekday) % 7
    if p.startswith(("next", "coming", "this coming")) or (future and not p.startswith("last")):
        return dated + dt.timedelta(days=(weekday - dated.weekday()) % 7 or 7)
    return dated - dt.timedelta(days=back or (7 if p.startswith("last") else 0))


def _long(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()].capitalize()}, {_MONTH_NAMES[day.month - 1].capitalize()} {day.day}, {day.year}"


def resolve(phrase: str, sentence: str, date: str | None) -> str:
    """``phrase`` (words of ``sentence`` that state a time) as the date it stands for in a document dated
    ``date``: "Tuesday" in an article of 2022-08-18 -> "Tuesday, August 16, 2022"; "last year" -> "2021";
    "the first half of this year" -> "the first half of 2022"; "last month" -> "July 2022"; "August 16" ->
    "August 16, 2022". A phrase that names its year, or a document with no date, leaves it as it is."""
    base, day = doc_year(date), doc_date(date)
    if base is None or years_in(phrase):
        return phrase
    p = phrase.lower()
    if _DAY.fullmatch(p):
        found = _day(p, bool(_FUTURE.search(sentence)), day) if day is not None else None
        return _long(found) if found is not None else phrase
    if re.fullmatch(rf"(?:(?:{_WEEKDAY}),?\s+)?(?:{_MONTH})\s+\d{{1,2}}", p):
        return f"{phrase}, {base}"
    month = re.fullmatch(r"(?:(?:earlier|later)\s+)?(this|last|next)\s+month", p)
    if month:
        if day is None:
            return phrase
        n = day.year * 12 + day.month - 1 + {"this": 0, "last": -1, "next": 1}[month.group(1)]
        return f"{_MONTH_NAMES[n % 12].capitalize()} {n // 12}"
    part = re.match(r"(?:the\s+)?((?:first|second|third|fourth)\s+(?:half|quarter))", p)
    year = base + next(iter(relative_years(p)), 0)
    return f"the {part.group(1)} of {year}" if part else str(year)
