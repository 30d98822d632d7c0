"""Question analysis and sentence-level evidence scoring, shared by all answerers.

Three ideas keep answers honest:

* **Answer type.** "How many", "how large", "when", "how much" and "what share"
  questions need a sentence that states a count, a size, a time, an amount or a
  percentage. No such sentence, no answer.
* **Named subject.** Names in the question (zones, parks, districts, people) must
  be spoken of by the evidence: the sentence, its passage or its document's title.
  A figure stated for one zone is never given for another.
* **Support.** A sentence answers when its meaning (embedding similarity) and its
  words (IDF-weighted coverage of the question's words) are close enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .embeddings import Embedder
from .index import Snapshot
from .lexical import STOPWORDS, tokenize
from .models import Passage

# Words that name a kind of place, not a particular one: they do not identify a subject.
GENERIC_NAMES = frozenset(
    [
        "shanghai",
        "china",
        "chinese",
        "zone",
        "zones",
        "park",
        "parks",
        "district",
        "districts",
        "industrial",
        "industry",
        "industries",
        "development",
        "economic",
        "technological",
        "technology",
        "high-tech",
        "hi-tech",
        "tech",
        "high",
        "area",
        "areas",
        "new",
        "city",
        "national",
        "municipal",
        "government",
        "pilot",
        "free",
        "trade",
        "english",
        "province",
        "state",
        "council",
        "region",
        "regional",
        "east",
        "west",
        "north",
        "south",
        "southern",
        "northern",
        "eastern",
        "western",
        "sub-area",
        "road",
        "roads",
        "street",
        "avenue",
        "people",
    ]
)
_QUESTION_WORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "will",
        "would",
        "should",
        "tell",
        "list",
        "name",
        "give",
        "please",
        "in",
        "on",
        "at",
        "for",
        "of",
        "and",
        "the",
        "a",
        "an",
    ]
)
_PRONOUNS = re.compile(r"\b(it|its|it's|they|them|their|there|this|that|these|those|he|she|his|her|him)\b", re.I)

_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen)"
_HAS_NUMBER = re.compile(rf"\d|\b{_NUMBER_WORDS}\b", re.I)
_HAS_SIZE = re.compile(
    r"\d[\d,.]*\s*(?:million\s+|thousand\s+)?(?:square\s+(?:kilomet|met|mile)\w*|sq\.?\s*(?:km|m|mi)\b|km2|km²|hectares?|"
    r"acres?|mu\b)|平方|公顷|亩",
    re.I,
)
# General English ways of stating a place's size, a precise date, or a list.
_STATES_AREA = re.compile(r"\b(covers?|covering|spans?|total area|area of|stretch(es|ing)?)\b", re.I)
_YEAR = r"\b(1[89]\d\d|20\d\d)\b"
_MONTH = r"january|february|march|april|may|june|july|august|september|october|november|december"
_PRECISE_DATE = re.compile(rf"{_YEAR}|\b({_MONTH})\b", re.I)
_LIST_SHAPE = re.compile(r"[:：][^;；]+[;；][^;；]+[;；]|(?:,[^,]+){2,}")
_LIST_QUESTION = re.compile(
    r"\b(which|what) (\w+ ){0,3}(parks|zones|industries|industrial|types|sectors|companies|areas|fields|products|"
    r"segments|clusters|roads|districts|enterprises|elements|requirements|facilities)\b|\blist\b|\bname (the|all)\b|"
    r"\bwhat are\b",
    re.I,
)
_HAS_TIME = re.compile(
    rf"{_YEAR}|\b({_MONTH}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|last year|"
    r"this year)\b|年",
    re.I,
)
_HAS_MONEY = re.compile(r"\b(yuan|rmb|dollars?|us\$|usd|euros?)\b|\$|元", re.I)
_HAS_PERCENT = re.compile(r"\bper ?cent\b|%|\bpercentage\b", re.I)

ANSWER_TYPES: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    # (type, question pattern, evidence pattern)
    ("percent", re.compile(r"\b(what|which) (share|percentage|proportion|fraction|part|portion)\b|\bhow much of\b|\bper ?cent", re.I), _HAS_PERCENT),
    ("year", re.compile(r"\b(what|which|in what) year\b|\bsince when\b", re.I), re.compile(rf"{_YEAR}|年")),
    ("time", re.compile(r"^\s*when\b|\b(what|which) (date|day|month)\b|\bby when\b|\bhow long ago\b|\bwhen (was|were|did|is|will)\b", re.I), _HAS_TIME),
    ("size", re.compile(r"\bhow (large|big|much land|much area|wide)\b|\b(size|acreage|footprint)\b|(?<![-\w])area\b(?! High)|\bsquare kilomet", re.I), _HAS_SIZE),
    ("money", re.compile(r"\bhow much (money|investment|capital)\b|\b(worth|value of the contract|investment total)\b|\bhow much\b.*\b(invest|worth|cost|fund|contract|yuan)", re.I), _HAS_MONEY),
    ("count", re.compile(r"\bhow many\b|\bnumber of\b|\bhow much\b", re.I), _HAS_NUMBER),
]  # fmt: skip


# A size question in earnest: "Bay Area" or "sub-area of ..." match the loose "size" pattern but are names.
_SIZE_QUESTION = re.compile(
    r"\bhow (large|big|much land|much area|wide)\b|\b(size|acreage|footprint|square kilomet\w*)\b|"
    r"\b(total|land|floor|what|the) area\b(?!\s+(of\s+)?(high|industr|zone|park))",
    re.I,
)


def answer_type(question: str) -> tuple[str | None, re.Pattern[str] | None]:
    for name, asks, needs in ANSWER_TYPES:
        if asks.search(question):
            if name == "size" and not _SIZE_QUESTION.search(question):
                continue
            return name, needs
    return None, None


# Words that only say which kind of fact is asked for; the answer type check covers them.
_TYPE_WORDS = re.compile(
    r"\bhow (large|big|many|much|wide|long)\b|\b(size|when|what year|which year|percentage|proportion|share)\b", re.I
)
# The thing a count, share or amount question asks about: "how many <high-tech companies>".
_FOCUS = re.compile(
    r"\b(?:how many|how much|number of|(?:what|which) (?:share|percentage|proportion|fraction|part) of)\s+(.{3,60}?)"
    r"(?=\s+(?:is|are|was|were|do|does|did|has|have|had|will|can|could|comes?|came|in|at|on|located|based|per)\b|[?,]|$)",
    re.I,
)
# "Who is the deputy director of ...": the role must be in the answer.
_ROLE = re.compile(
    r"\bwho (?:is|was|are|were) (?:the |its |their |his |her )(.{3,40}?)(?=\s+(?:of|in|at|for)\b|[?,]|$)", re.I
)
_CAPITALISED_RUN = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'’-]*(?:\s+(?:of\s+|and\s+)?[A-Z][\w'’-]*)*")


#: Text addressed to an AI ("ignore previous instructions ...") is never evidence.
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.]{0,40}\b(instructions?|rules?|prompts?|guidelines?|directions?)\b"
    r"|\b(system prompt|as an ai\b|you are (now )?(an? )?(ai|assistant|language model|chatbot)\b)"
    r"|\b(ai|llm|assistant|chatbot|language model)s?\b[^.]{0,30}\b(must|should|shall) (say|answer|reply|respond|state)",
    re.I,
)
_ANAPHOR = re.compile(r"^(it|its|they|their|this|these|the (zone|park|district|area|company|committee))\b", re.I)


def _plain(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text)


@dataclass
class Candidate:
    """A sentence of a retrieved passage, scored against the question."""

    passage: Passage
    rank: int  #: the passage's retrieval rank
    index: int  #: sentence number inside the passage
    text: str
    start: int  #: offset inside the passage text
    dense: float = 0.0
    lexical: float = 0.0
    key: float = 0.0  #: coverage of the question's non-name words
    typed: bool = True  #: states the kind of fact the question asks for
    names_ok: bool = True  #: the question's named subjects are spoken of here
    history: float = 0.0
    shape: bool = False  #: states the fact in the expected form (an area, a precise date, a list)
    score: float = 0.0
    missing: list[str] = field(default_factory=list)


@dataclass
class Question:
    text: str  #: as asked
    standalone: str  #: with the conversation's subject added for follow-ups
    names: list[str]  #: subject words that the evidence must speak of
    kind: str | None
    needs: re.Pattern[str] | None
    follow_up: bool
    history_text: str = ""
    unknown_names: list[str] = field(default_factory=list)
    name_tokens: set[str] = field(default_factory=set)  #: tokens of name phrases ("Bay Area High-tech ...")
    wants_list: bool = False  #: "which parks ...", "what are the ..."
    focus: list[str] = field(default_factory=list)  #: what a count/share/amount question counts


class Evidence:
    """Scores sentences of one snapshot against questions."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder) -> None:
        self.snapshot = snapshot
        self.embedder = embedder

    # -- question analysis --------------------------------------------------------------
    def names_in(self, text: str) -> tuple[list[str], list[str]]:
        """Known names (corpus names) and unknown capitalised words in ``text``."""
        known, unknown = [], []
        words = re.findall(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Z]", text)
        for i, raw in enumerate(words):
            word = raw.lower().removesuffix("'s").removesuffix("’s")
            if word in GENERIC_NAMES or word in STOPWORDS or word in _QUESTION_WORDS:
                continue
            if word in self.snapshot.names:
                known += [] if word in known else [word]
            elif (
                raw[0].isupper()
                and i > 0
                and not raw.isupper()
                and not all(t in self.snapshot.idf for t in tokenize(word))
            ):
                # A capitalised word the corpus never uses: a subject it does not cover.
                # (An all-capitals word is usually an abbreviation of a name the text spells out.)
                unknown += [] if word in unknown else [word]
        return known, unknown

    def analyse(self, question: str, history: list[dict[str, Any]]) -> Question:
        names, unknown = self.names_in(question)
        kind, needs = answer_type(question)
        users = [str(m.get("content", "")) for m in history if m.get("role") == "user"]
        assistants = [_plain(str(m.get("content", ""))) for m in history if m.get("role") == "assistant"]
        follow_up = bool(history) and (not names or bool(_PRONOUNS.search(question))) and not unknown
        standalone, history_text = question, ""
        if follow_up:
            carried: list[str] = []
            for text in reversed(users[-3:]):
                found, _ = self.names_in(text)
                if found:
                    carried = found
                    break
            if not carried and assistants:
                carried, _ = self.names_in(assistants[-1])
            names = names + [n for n in carried if n not in names]
            context = " ".join(users[-1:])
            standalone = f"{question} ({context})" if context else question
            history_text = " ".join(users[-1:] + assistants[-1:])
        name_tokens = {t for run in _CAPITALISED_RUN.findall(question) for t in tokenize(run)}
        name_tokens |= {t for n in names for t in tokenize(n)}
        focus: list[str] = []
        m = _FOCUS.search(question) or _ROLE.search(question)
        if m:
            focus = [t for t in tokenize(m.group(1)) if t not in name_tokens]
            specific = [t for t in focus if t not in GENERIC_NAMES]
            focus = specific or focus
            if not focus and kind == "count":  # "how many of them are foreign-owned?"
                focus = [t for t in tokenize(_TYPE_WORDS.sub(" ", question)) if t not in name_tokens]
        return Question(question, standalone, names, kind, needs, follow_up, history_text, unknown,
                        name_tokens=name_tokens, focus=focus,
                        wants_list=bool(_LIST_QUESTION.search(question)))  # fmt: skip

    # -- scoring ------------------------------------------------------------------------
    def _idf(self, token: str) -> float:
        return self.snapshot.idf.get(token, self.snapshot.default_idf)

    def candidates(self, q: Question, passages: list[Passage], query_vector: np.ndarray) -> list[Candidate]:
        """Every sentence of ``passages``, scored, best first."""
        name_stems = q.name_tokens
        asked = _TYPE_WORDS.sub(" ", q.text) if q.kind else q.text
        q_tokens = list(dict.fromkeys(tokenize(asked)))
        if q.follow_up:
            q_tokens += [t for t in name_stems if t not in q_tokens]
        key_tokens = [t for t in q_tokens if t not in name_stems]
        total = sum(self._idf(t) for t in q_tokens) or 1.0
        key_total = sum(self._idf(t) for t in key_tokens)
        hist_tokens = set(tokenize(q.history_text)) if q.history_text else set()
        out: list[Candidate] = []
        for rank, p in enumerate(passages):
            row = self.snapshot.row_of.get(p.id)
            if row is None:
                continue
            vecs = np.asarray(self.snapshot.sentence_vectors[self.snapshot.sentence_rows(row)], dtype=np.float32)
            sims = vecs @ query_vector
            context = f"{p.title}\n{p.text}".lower()
            doc_names = {n for n in q.names if p.source in self.snapshot.names.get(n, ())}
            prev_toks: set[str] = set()
            for i, (a, b) in enumerate(p.sentences):
                text = p.text[a:b]
                toks = set(tokenize(text))
                own_toks = toks
                dense = float(sims[i])
                if _ANAPHOR.match(text) and i > 0:
                    # "It covers 20.48 square kilometers": the subject is named in the sentence before.
                    toks = toks | prev_toks
                    dense = max(dense, (dense + float(sims[i - 1])) / 2)
                prev_toks = own_toks
                c = Candidate(p, rank, i, text, a, dense=dense)
                c.shape = (
                    (q.kind == "size" and bool(_STATES_AREA.search(text)))
                    or (q.kind in ("time", "year") and bool(_PRECISE_DATE.search(text)))
                    or (q.wants_list and bool(_LIST_SHAPE.search(text)))
                )
                c.lexical = sum(self._idf(t) for t in q_tokens if t in toks) / total
                c.key = sum(self._idf(t) for t in key_tokens if t in toks) / key_total if key_total else 1.0
                c.typed = q.needs is None or bool(q.needs.search(text))
                if q.focus and (c.typed or q.kind is None):
                    # "How many high-tech companies": the sentence must speak of what is counted.
                    c.typed = sum(t in toks for t in q.focus) * 2 >= len(q.focus)
                c.missing = [n for n in q.names if n not in doc_names and not re.search(rf"\b{re.escape(n)}", context)]
                c.names_ok = not c.missing and not q.unknown_names
                if hist_tokens:
                    c.history = len(toks & hist_tokens) / max(1, len(toks))
                c.score = self.score(c, q)
                if not INSTRUCTION.search(text):
                    out.append(c)
        out.sort(key=lambda c: -c.score)
        return out

    @staticmethod
    def score(c: Candidate, q: Question) -> float:
        s = 0.55 * c.dense + 0.25 * c.lexical + 0.2 * c.key
        if q.kind:
            s += 0.08 if c.typed else -0.25
        if c.shape:
            s += 0.06
        if c.key < 0.1 and not (q.kind and c.typed):
            s -= 0.12  # none of what the question asks about (beyond its names) is in the sentence
        if q.follow_up:
            s += 0.1 * c.history
        s -= 0.004 * c.rank  # a small prior for the retriever's order
        return s
