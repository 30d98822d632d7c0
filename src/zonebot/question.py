"""Reading a question: question + history -> ``QuestionPlan``.

The plan holds what the rest of the path needs and nothing of the index: the text with
misspellings corrected, the asks it is made of (a two-part question or a comparison of
several subjects becomes several ``Part`` s), for each the kind of fact asked, the subject
names the evidence must speak of, and the years it is about. Everything here is general
English; the corpus enters only through the ``Lexicon`` (its words and names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from . import facts
from .lexicon import Lexicon, english_words, script_of, words
from .tokens import STOPWORDS, tokenize

Message = dict[str, Any]

# Words before "number" that make it a quantity ("the total number of"), not an identifier ("the plot number").
_QUANTITY_WORDS = """total overall average combined whole same exact actual estimated approximate rough large larger
    largest small smaller smallest great greater greatest high higher highest low lower lowest growing rising increasing
    record maximum minimum net annual current big huge certain good limited"""
_QUANTITY = "|".join(sorted(STOPWORDS) + _QUANTITY_WORDS.split())
# (kind, question pattern), first match wins.
_KINDS: list[tuple[str, re.Pattern[str]]] = [
    # "What is the hotline number of ...", "the plot number", "what is its phone": an identifier, not a count.
    ("code", re.compile(rf"^(?!.*\bhow many\b).*(?:\b(?!(?:{_QUANTITY})\b)[a-z]+[ -](?:number|no\.)(?!s? of \w+s\b)|"
                        r"\b(?:hotline|phone|telephone|fax|postcode|zip code)(?=\s*(?:[?.]|$|(?:of|for|at)\b)))", re.I)),
    ("percent", re.compile(r"\b(what|which|how (big|large|much)( of)?) (a )?(share|percentage|proportion|fraction|part|portion|piece|slice)\b|"
                           r"\bhow much of\b|\bper ?cent|\bwhat share\b", re.I)),
    ("year", re.compile(r"\b(what|which|in what) year\b|\bsince when\b|\bwhat year\b", re.I)),
    ("time", re.compile(r"^\s*(and )?when\b|\b(what|which) (date|day|month)\b|\bby when\b|\bhow long ago\b|"
                        r"\bwhen (was|were|did|is|will|does|do|has)\b|\b(older|oldest|newer|newest|younger|youngest|"
                        r"earlier|earliest|first|later)\b(?=.*\b(or|than)\b)", re.I)),
    ("size", re.compile(r"\bhow (large|big|much land|much area|wide|much space)\b|\b(size|acreage|footprint|"
                        r"square kilomet\w*|km2|km²|hectares?)\b|\b(total|land|planned|floor) area\b|\b(what|the) area of\b|"
                        r"\b(bigger|larger|smaller|biggest|largest|smallest)\b(?! (share|part|output|number))", re.I)),
    ("money", re.compile(r"\bhow much (money|investment|capital|revenue|output)\b|\b(gdp|revenue|turnover|budget|price|"
                         r"cost|salary|wage)s?\b|\b(worth|how much .*(invest|worth|cost|"
                         r"fund|contract|yuan|revenue|output|earn))", re.I)),
    ("count", re.compile(r"\bhow many\b|\bnumber of\b|\bpopulation\b|\b(more|fewer|most|fewest) (\w+ ){0,2}(companies|firms|"
                         r"enterprises|people|workers|employees|staff|projects|businesses|parks|zones)\b|\bhow much\b", re.I)),
]  # fmt: skip
_LIST = re.compile(
    r"\b(which|what) (\w+ ){0,3}(parks|zones|industries|industrial|types|sectors|companies|areas|fields|products|"
    r"segments|clusters|roads|districts|enterprises|elements|requirements|facilities|kinds|services)\b|\blist\b|"
    r"\bname (the|all|some)\b|\bwhat are\b|\bwhat (kinds|sorts|types)\b",
    re.I,
)
# "How many <high-tech companies> ...", "what share of <Pudong's output>": what is counted.
_FOCUS = re.compile(
    r"\b(?:how many|how much|number of|(?:what|which) (?:share|percentage|proportion|fraction|part) of)\s+(.{3,60}?)"
    r"(?=\s+(?:is|are|was|were|do|does|did|has|have|had|will|can|could|comes?|came|in|at|on|located|based|per)\b|[?,]|$)",
    re.I,
)
_ROLE = re.compile(
    r"\bwho (?:is|was|are|were) (?:the |its |their |his |her )(.{3,40}?)(?=\s+(?:of|in|at|for)\b|[?,]|$)", re.I
)
# "What is the <population> of ...", "What is M-Fine's <annual revenue>?": the attribute asked about.
_ATTRIBUTE = re.compile(
    r"\b(?:what|which)(?: is| are| was| were|'s|’s) (?:the |its |their )((?:[\w-]+ ){0,2}[\w-]+?)(?= (?:of|for|in|at)\b)"
    r"|\b[\w-]+(?:'s|’s) ((?:[\w-]+ ){0,2}[\w-]+?)(?=\s+(?:in|last|this|during|for|since)\b|\s*\?|\s*$)",
    re.I,
)
_TYPE_WORDS = re.compile(
    r"\bhow (large|big|many|much|wide|long)\b|\b(size|when|what year|which year|percentage|proportion|share)\b", re.I
)
_POLAR = re.compile(r"^\s*(is|are|was|were|does|do|did|has|have|had|can|could|will|would|should|isn't|aren't|"
                    r"doesn't|don't|didn't|wasn't|hasn't)\b", re.I)  # fmt: skip
_PRONOUN = re.compile(r"\b(it|its|it's|they|them|their|there|he|she|his|her)\b", re.I)
# Where a second ask starts: ", and how large is it", "; when was it approved".
_ASK_BREAK = re.compile(
    r"\s*(?:[,;]\s*(?:and\s+|also\s+|plus\s+)?|\s+and\s+(?:also\s+)?)(?=(?:what|when|where|which|who|how|is|are|was|"
    r"were|does|do|did|has|have|can)\b)",
    re.I,
)
# Between two compared subjects: "or", "and", "vs", with at most a few words ("zone or the").
_JOINERS = re.compile(r"^[\s,:;]*(?:[\w-]+\s+){0,2}(?:or|and|vs\.?|versus|than|compared (?:to|with)|,)\s+(?:the\s+)?$", re.I)
# "Are there more X or more Y?" asks which, not whether.
_ALTERNATIVES = re.compile(r"\bor\b(?! not\b)", re.I)
# A word of Latin letters, with inner apostrophes and hyphens ("M-Fine", "Jinqiao's").
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
_FOREIGN_HINT = re.compile(r"[¿¡]|[^\x00-\x7f]")


@dataclass(frozen=True)
class Part:
    """One ask of a question, standing alone."""

    text: str  #: the ask, with its subject filled in from the rest of the question or the conversation
    kind: str | None = None  #: count, size, time, year, money, percent; None for anything else
    also: tuple[str, ...] = ()  #: other kinds that answer it too ("how big was the contract": an amount)
    names: tuple[str, ...] = ()  #: subject names the evidence must speak of
    name_words: tuple[str, ...] = ()  #: every word of the names in the ask ("advanced", "materials", "park")
    subject: str = ""  #: the subject as the user wrote it, for messages
    years: tuple[int, ...] = ()  #: years asked about by number
    relative: tuple[int, ...] = ()  #: years asked about relative to the document's date ("last year": -1)
    focus: tuple[str, ...] = ()  #: what a count or share counts ("high-tech companies")
    role: tuple[str, ...] = ()  #: the role a "who is the ..." question asks the holder of ("deputy director")
    codes: tuple[str, ...] = ()  #: identifiers asked about ("RS-0417", "0571-8800-4417"): matched exactly
    polar: bool = False  #: a yes/no question
    wants_list: bool = False


@dataclass
class QuestionPlan:
    """A question read: what the retrieval, the evidence scorer and the answerer work from."""

    question: str  #: as asked
    text: str  #: normalised, misspellings corrected
    parts: list[Part] = field(default_factory=list)
    corrections: list[tuple[str, str]] = field(default_factory=list)  #: (as written, as read)
    unknown: list[str] = field(default_factory=list)  #: names the corpus never uses
    comparison: bool = False  #: several subjects compared on one fact
    language: str | None = None  #: the question's language, when the sources are in others
    clarify: bool = False  #: a pronoun with nothing to refer to
    follow_up: bool = False
    history_text: str = ""  #: the last turns, for a follow-up

    @property
    def search_query(self) -> str:
        return " | ".join(p.text for p in self.parts) or self.text


def plan(question: str, history: list[Message], lexicon: Lexicon) -> QuestionPlan:
    """Read ``question`` (with the conversation ``history``) against the corpus's ``lexicon``."""
    text = " ".join(question.split())
    result = QuestionPlan(question=question, text=text)
    result.language = _foreign(text, lexicon)
    if result.language:
        return result
    result.text, result.corrections, result.unknown = _spell(text, lexicon)
    asks = _asks(result.text)
    carried, surface = _carried(history, lexicon) if history else ([], "")
    parts: list[Part] = []
    for ask in dict.fromkeys(asks):  # an ask pasted twice is answered once
        parts.extend(_parts(ask, lexicon, result))
    own = [n for p in parts for n in p.names]
    # The conversation supplies a subject only when the question names none, and never a fact: the part
    # carries the subject's name, not the last turn's words (its figure, its year).
    if history and not own and not result.unknown:
        result.follow_up = True
        users, assistants = _turns(history)
        result.history_text = " ".join(users[-1:] + assistants[-1:])
        parts = [_with_context(p, carried, surface) for p in parts]
    elif not own and not history and _PRONOUN.search(asks[0]) and not _has_any_name(result.text, lexicon):
        result.clarify = True
    # A later ask with no subject of its own ("..., and how large is it?") is about the earlier one's.
    for i in range(1, len(parts)):
        if not parts[i].names and not result.comparison:
            parts[i] = replace(parts[i], names=parts[i - 1].names, subject=parts[i - 1].subject,
                               codes=parts[i].codes or parts[i - 1].codes,
                               text=f"{parts[i].text} ({parts[i - 1].subject or parts[i - 1].text})")  # fmt: skip
    result.parts = parts
    return result


def _turns(history: list[Message]) -> tuple[list[str], list[str]]:
    """The user's and the assistant's messages, in order."""
    said = [(m.get("role"), str(m.get("content", ""))) for m in history]
    return [t for r, t in said if r == "user"], [t for r, t in said if r == "assistant"]


def _key(word: str) -> str:
    """A word as the lexicon knows it: lower case, straight apostrophe, no possessive."""
    return word.lower().replace("’", "'").removesuffix("'s")


def _foreign(text: str, lexicon: Lexicon) -> str | None:
    """The question's writing system or language when no indexed document is in it."""
    script = script_of(text)
    if script is None:
        return None
    if script != "Latin":
        return script if script not in lexicon.scripts else None
    if not _FOREIGN_HINT.search(text) and any(w.lower() in STOPWORDS for w in words(text)):
        return None
    ws = [w.lower() for w in words(text) if len(w) >= 3]
    strange = [w for w in ws if not lexicon.knows(w) and lexicon.correct(w) is None]
    english = [w for w in ws if w in STOPWORDS]
    return "a language other than English" if strange and not english and "Latin" in lexicon.scripts else None


def _spell(text: str, lexicon: Lexicon) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The text with misspelled words replaced by the corpus words they are nearest to; the
    corrections; and capitalised words that are no corpus word at all (unknown names)."""
    corrections: list[tuple[str, str]] = []
    unknown: list[str] = []
    lowered = text == text.lower()
    out = text
    for i, m in enumerate(_LATIN_WORD.finditer(text)):
        raw = m.group(0)
        word = _key(raw)
        if word in STOPWORDS or lexicon.knows(word) or all(lexicon.knows(p) for p in word.split("-") if p):
            continue
        fixed = lexicon.correct(word)
        if fixed is not None:
            shown = fixed.capitalize() if raw[0].isupper() else fixed
            corrections.append((raw, shown))
            out = re.sub(rf"\b{re.escape(raw)}\b", shown, out, count=1)
            continue
        capitalised = raw[0].isupper() and i > 0 and not raw.isupper()
        if len(word) >= 4 and (capitalised or (lowered and not _english_stem(word))):
            unknown.append(word)
    for i, m in enumerate(_LATIN_WORD.finditer(out)):
        # A capitalised word the corpus never uses, English or not ("Python", "Paris"): a subject it does not cover.
        word = _key(m.group(0))
        known = word in lexicon.counts or all(p in lexicon.counts or p in STOPWORDS for p in word.split("-") if p)
        if i > 0 and m.group(0)[0].isupper() and not m.group(0).isupper() and not known \
                and word not in STOPWORDS and word not in unknown and len(word) >= 3:
            unknown.append(word)
    return out, corrections, unknown


def _english_stem(word: str) -> bool:
    """``word`` starts an English word ("pharma" -> "pharmaceutical"): a clipping, not a name."""
    return len(word) >= 4 and any(w.startswith(word) for w in english_words())


def _asks(text: str) -> list[str]:
    """The separate asks of a question: "When was X approved, and how large is it?" -> two."""
    asks: list[str] = []
    for sentence in re.split(r"(?<=\?)\s+", text):
        pieces = _ASK_BREAK.split(sentence)
        asks += [p.strip(" ,;") for p in pieces if len(re.findall(r"\w+", p)) >= 2]
    return asks or [text]


def _groups(text: str, lexicon: Lexicon, named: bool = True) -> list[tuple[int, int, list[str]]]:
    """Runs of name words ("Bay Area High-tech Zone"): their span and the subject names in them;
    only runs that hold a subject name unless ``named`` is False."""
    out: list[tuple[int, int, list[str]]] = []
    lowered = text == text.lower()  # no capitals to go by: a corpus name is a name
    for m in _LATIN_WORD.finditer(text):
        word = _key(m.group(0))
        # Written in lower case in a question that has capitals ("which district"), a word is not a name.
        is_name = word in lexicon.names and (lowered or m.group(0)[0].isupper())
        capital = m.group(0)[0].isupper() and m.start() > 0 and word not in STOPWORDS
        if not (is_name or capital):
            continue
        subject = [word] if lexicon.is_subject(word) else []
        between = text[out[-1][1] : m.start()] if out else ""
        previous = text[: out[-1][1]].split()[-1].lower() if out else ""
        if out and (re.fullmatch(r"[\s-]*", between) or (re.fullmatch(r"\s+(of|and)\s+(the\s+)?", between)
                                                          and (previous, word) in lexicon.joined)):
            start, _, names = out[-1]
            out[-1] = (start, m.end(), names + [w for w in subject if w not in names])
        else:
            out.append((m.start(), m.end(), subject))
    return [g for g in out if g[2] or not named]


def _parts(ask: str, lexicon: Lexicon, result: QuestionPlan) -> list[Part]:
    """One part, or one per subject when several subjects are compared or joined."""
    groups = _groups(ask, lexicon)
    base = _part(ask, [n for g in groups for n in g[2]], ", ".join(ask[a:b] for a, b, _ in groups))
    name_words = {w.lower().removesuffix("'s") for a, b, _ in _groups(ask, lexicon, named=False) for w in words(ask[a:b])}
    base = replace(base, name_words=tuple(sorted(name_words)))
    thing = _SIZE_OF.search(ask)
    if base.kind == "size" and thing and thing.group(1).lower() in name_words | {"it", "they"}:
        base = replace(base, also=())  # "how large is the Bay Area zone": a place's size, not an amount
    if len(groups) < 2:
        return [base]
    joined = all(_JOINERS.match(ask[groups[i][1] : groups[i + 1][0]]) for i in range(len(groups) - 1))
    if not joined:
        return [base]
    result.comparison = True
    first, last = groups[0][0], groups[-1][1]
    parts = []
    for a, b, names in groups:
        # The ask with the compared subjects replaced by this one: "Which is older, Jinqiao zone?"
        own = ask[:first] + ask[a:b] + ask[last:]
        own = " ".join(re.sub(r"\b(both|either)\s+", "", own, flags=re.I).split())
        parts.append(replace(base, text=own, names=tuple(names), subject=ask[a:b]))
    return parts


#: Nouns that only name the kind of fact asked ("the area of", "the number of"): the kind check covers them.
_KIND_NOUNS = frozenset(tokenize("area size number amount total percentage share proportion year date time figure"))

#: Kinds a question's wording leaves open: "how big" may ask for an area or an amount.
_ALSO = {"size": ("money",), "time": ("year",)}


_SIZE_OF = re.compile(r"\bhow (?:big|large) (?:is|was|are|were) (?:the |its |their )?([\w'-]+)", re.I)
_NAMES_AREA = re.compile(r"\barea\b(?!\s+(high|zone|park))|square|\bkm|hectare|acre", re.I)


def _part(text: str, names: list[str], subject: str) -> Part:
    kind = next((k for k, rx in _KINDS if rx.search(text)), None)
    focus: list[str] = []
    role_match = _ROLE.search(text)
    m = _FOCUS.search(text) or role_match or _ATTRIBUTE.search(text)
    if m and kind != "code":  # "the hotline number of X" counts nothing
        name_tokens = {t for n in names for t in tokenize(n)}
        head = " ".join(m.group(m.lastindex or 1).split()[:2])  # the noun phrase's head, not what follows
        focus = [t for t in tokenize(head) if t not in name_tokens and t not in _KIND_NOUNS]
    return Part(
        text=text, kind=kind, also=() if _NAMES_AREA.search(text) else _ALSO.get(kind or "", ()), names=tuple(dict.fromkeys(names)), subject=subject,
        years=tuple(sorted(facts.years_in(text))), relative=tuple(facts.relative_years(text)),
        focus=tuple(focus), codes=tuple(facts.codes(text)), polar=bool(_POLAR.match(text)) and not _ALTERNATIVES.search(text),
        role=tuple(focus) if role_match is not None and m is role_match else (),
        wants_list=bool(_LIST.search(text)),
    )  # fmt: skip


def _carried(history: list[Message], lexicon: Lexicon) -> tuple[list[str], str]:
    """The subject of the conversation so far: the names of the latest turn that has any, and their words
    as written there ("the Jinqiao zone")."""
    users, assistants = _turns(history)
    for text in [*reversed(users[-3:]), *assistants[-1:]]:
        groups = [(a, b, names) for a, b, names in _groups(text, lexicon) if names]
        if groups:
            return [n for g in groups for n in g[2]], ", ".join(text[a:b] for a, b, _ in groups)
    return [], ""


def _with_context(part: Part, carried: list[str], context: str) -> Part:
    names = part.names + tuple(n for n in carried if n not in part.names)
    text = f"{part.text} ({context})" if context else part.text
    return replace(part, names=names, text=text, subject=part.subject or ", ".join(carried))


def _has_any_name(text: str, lexicon: Lexicon) -> bool:
    return any(w.lower() in lexicon.names for w in words(text))


def statement(text: str, lexicon: Lexicon) -> Part:
    """A claim (a sentence of an LLM's reply) read as an ask, to check what supports it."""
    groups = _groups(text, lexicon)
    name_words = {w.lower().removesuffix("'s") for a, b, _ in _groups(text, lexicon, named=False) for w in words(text[a:b])}
    return Part(text=text, names=tuple(dict.fromkeys(n for g in groups for n in g[2])),
                name_words=tuple(sorted(name_words)), subject=", ".join(text[a:b] for a, b, _ in groups))  # fmt: skip


def asked_words(part: Part) -> str:
    """The part's text without the words that only say which kind of fact is asked."""
    return _TYPE_WORDS.sub(" ", part.text) if part.kind else part.text
