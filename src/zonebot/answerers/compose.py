"""Writing an answer from chosen evidence: the direct answer first, then the quotes, each cited.

Shared by the answerers: refusals (language, an unknown subject, a pronoun with nothing to
refer to), the direct span of a count, size, date, amount or share, "Yes"/"No" only when a
cited sentence states it, and the verdict of a comparison.
"""

from __future__ import annotations

import re

from .. import facts
from ..citations import Citations
from ..decision import Decision
from ..evidence import Scored, binder, opening_name
from ..lexicon import Lexicon
from ..models import Answer, Sentence
from ..question import Part
from ..tokens import STOPWORDS
from .base import AnswerRequest

_OVER = re.compile(
    r"\b(more than|over|exceed\w*|above|at least|greater than|higher than|larger than|bigger than|longer than)\s+"
    rf"(?:US\$|\$)?({facts.NUMBER})", re.I
)
_UNDER = re.compile(
    rf"\b(less than|under|below|fewer than|lower than|at most|smaller than|shorter than)\s+(?:US\$|\$)?({facts.NUMBER})",
    re.I,
)
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "mln": 1e6, "bn": 1e9}
_SMALLER_WINS = re.compile(r"\b(older|oldest|earlier|earliest|first|smaller|smallest|fewer|fewest|less|least|lower|lowest)\b", re.I)


def refusal(req: AnswerRequest) -> Answer | None:
    """The answer when the question cannot be taken as asked, or None."""
    plan = req.plan
    if plan.language:
        languages = " and ".join(sorted(_language(s) for s in req.scorer.lexicon.scripts)) or "English"
        return _abstain(req, f"The sources are in {languages}; please ask in {languages}.")
    if plan.clarify:
        subjects = "; ".join(sorted(req.scorer.lexicon.titles.values()))
        return _abstain(req, f"Which zone do you mean? The sources cover: {subjects}.")
    if plan.unknown:
        names = ", ".join(n.title() for n in plan.unknown)
        return _abstain(req, f"The sources don't cover {names}." + _closest(req))
    return None


def abstention(req: AnswerRequest) -> Answer:
    """Nothing found answers: say why, and where the closest passages are."""
    near = [s for ev in req.evidence for s in ev.ranked[:3]]
    wrong = [s for s in near if s.missing and s.probability >= req.scorer.decision.threshold]
    if wrong and not any(s.names_ok for s in near):
        names = ", ".join(dict.fromkeys(n.title() if n.islower() else n for s in wrong for n in s.missing))
        text = f"The sources don't say this about {names}; the closest statements they hold are about something else."
    else:
        text = "The sources don't cover this question."
    return _abstain(req, text + _closest(req))


def _abstain(req: AnswerRequest, text: str) -> Answer:
    return Answer(text=text, abstained=True, passages=req.passages, question=req.question,
                  search_query=req.search_query, reading=reading(req))  # fmt: skip


def _closest(req: AnswerRequest) -> str:
    titles = list(dict.fromkeys(p.title for p in req.passages[:3]))
    return " The closest passages are from: " + "; ".join(titles) + "." if titles else ""


def _language(script: str) -> str:
    return "English" if script == "Latin" else script


def reading(req: AnswerRequest) -> list[str]:
    return [f"Read '{a}' as '{b}'" for a, b in req.plan.corrections]


_SUBJECT_PRONOUN = re.compile(r"^(it|the (zone|park|town|district|development zone|area))\b", re.I)


def quote(scored: Scored, sentences: list[Sentence], book: Citations, lexicon: Lexicon) -> str:
    """The sentence verbatim with its marker; "It ..." shows its subject in brackets."""
    s = scored.sentence
    n = book.cite(s, scored.probability)
    text = s.text
    m = _SUBJECT_PRONOUN.match(text)
    subject = _subject(s, sentences, lexicon) if m else None
    if m and subject:
        text = f"[{subject}]" + text[m.end() :]
    return f"{text} [{n}]"


def _subject(s: Sentence, sentences: list[Sentence], lexicon: Lexicon) -> str | None:
    """The name an "It ..." sentence speaks of: the one the sentence binding it opens with."""
    bound = binder(s, sentences, lexicon)
    return opening_name(bound.text, lexicon) if bound is not None and bound is not s else None


def disagreement(ev, best: Scored, lead: str, rival: tuple[Scored, str], book: Citations, lexicon: Lexicon) -> str:  # type: ignore[no-untyped-def]
    """Two documents state different figures for the same ask: both, each with its document's title and
    date and its own quote, never one picked silently."""
    other, figure = rival
    said = [f"{span} according to {_document(s)} [{book.cite(s.sentence, s.probability)}]"
            for s, span in ((best, lead), (other, figure))]  # fmt: skip
    quotes = " ".join(quote(s, ev.sentences, book, lexicon) for s in (best, other))
    return f"The sources disagree: {said[0]}; {said[1]}. {quotes}"


def _document(s: Scored) -> str:
    p = s.sentence.passage
    return f"“{p.title}”" + (f" ({p.date})" if p.date else "")


_WHO_NAMED = re.compile(r"^\s*(?i:who (?:is|was|'s))\s+(?!The\b|An?\b|Its\b|Their\b)([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)")
_PERSON = r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,3}"


def who(part: Part, text: str) -> str | None:
    """"<Name> is <role>" from a sentence that names a person with a role in apposition ("said Li Wei,
    deputy director of the committee"): for "Who is Li Wei?" and for "Who is the deputy director ...?"."""
    named = _WHO_NAMED.match(part.text)
    if named:
        person = re.escape(named.group(1).strip())
        m = re.search(rf"({person}),\s+((?:the |a |an )?[a-z][^,;:()]*?)(?=[,;:()]|\.(?:\s|$)|$)", text, re.I)
    elif part.role:
        role = r"(?i:\b" + r"\w*\W+(?:\w+\W+){0,3}?".join(re.escape(w) for w in part.role) + ")"
        m = re.search(rf"({_PERSON}),\s+((?:the |a |an )?[^,;:()]*?{role}[^,;:()]*?)(?=[,;:()]|\.(?:\s|$)|$)", text)
    else:
        return None
    return f"{m.group(1)} is {m.group(2).strip()}" if m else None


def direct(part: Part, best: Scored) -> str | None:
    """The exact words that answer a count, size, date, amount or share question; for a who-question,
    "<Name> is <role>"."""
    if part.polar:
        return None
    if part.kind is None:
        return who(part, best.text)
    # The figure nearest the year asked about, else nearest the question's words.
    base = facts.doc_year(best.sentence.passage.date)
    years = [*part.years, *([base + r for r in part.relative] if base is not None else [])]
    near = [str(y) for y in years] or [w for w in re.findall(r"[a-z]+", part.text.lower()) if w not in STOPWORDS]
    for kind in (part.kind, *part.also):
        found = facts.span(kind, best.text, near)
        if found and kind in ("time", "year"):  # "on Tuesday" in a dated article: the day it was
            return facts.resolve(found, best.text, best.sentence.passage.date)
        if found:
            return found
    return None


def verdict(part: Part, best: Scored, decision: Decision) -> str | None:
    """"Yes" or "No" when the sentence states it; None when it does not settle the question.

    A "more/less than" figure, or a figure or year asked about that the sentence states otherwise, is
    decided by arithmetic. Otherwise the verifier's reading decides: "No" when it finds the sentence
    contradicts the question by more than the fitted ``no_margin``, else "Yes"; without the verifier, "Yes" needs every asked word met in the sentence
    (at the fitted ``yes`` floor of word similarity)."""
    text = best.text
    for rx, holds in ((_OVER, lambda a, b: a > b), (_UNDER, lambda a, b: a < b)):
        m = rx.search(part.text)
        if m:
            stated = _values(text)
            limit = _value(m.group(2), part.text[m.end() : m.end() + 12])
            if stated and limit is not None:
                return "Yes" if any(holds(v, limit) for v in stated) else "No"
    asked = facts.numbers(part.text)
    if asked and not asked <= facts.numbers(text):
        return "No" if facts.numbers(text) else None
    if not (best.names_ok and best.typed):
        return None
    if "verify" in best.features:
        yes, no = best.features.get("verify_yes", 0.0), best.features.get("verify_no", 0.0)
        return "No" if no - yes > decision.floors.get("no_margin", 0.0) else "Yes" if best.time_ok else None
    met = best.features.get("key_min", 0.0) >= decision.floors.get("yes", 0.0)
    return "Yes" if best.time_ok and met else None


def _value(number: str, after: str) -> float | None:
    value = facts.value(number)
    if value is None:
        return None
    word = re.match(r"\s*(\w+)", after)
    return value * _SCALES.get(word.group(1).lower(), 1.0) if word else value


def _values(text: str) -> list[float]:
    """The figures ``text`` states (in words too), with their scale ("8 billion"); no years, no codes."""
    out = []
    for a, b, _ in facts.figures(text):
        if not re.fullmatch(facts.YEAR, text[a:b]):
            v = _value(text[a:b], text[b : b + 12])
            if v is not None:
                out.append(v)
    return out


def comparison(question: str, leads: list[tuple[Part, str | None]]) -> str | None:
    """Which subject the compared figures favour: "Jinqiao (1990) comes first." or None."""
    values = []
    for part, span in leads:
        if not span:
            return None
        numbers = _values(span) if part.kind not in ("time", "year") else [float(y) for y in facts.years_in(span)]
        if len(numbers) != 1:
            return None
        values.append((numbers[0], part.subject, span))
    if len(values) < 2 or len({v for v, _, _ in values}) < 2:
        return None
    pick = min if _SMALLER_WINS.search(question) else max
    value, subject, span = pick(values, key=lambda v: v[0])
    return f"{subject} ({span})."
