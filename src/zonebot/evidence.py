"""The one evidence scorer: how well a sentence answers one part of a question, or supports a claim.

Every answerer goes through ``Scorer``: the extractive one ranks sentences for each part of
the question, the LLM one checks each sentence of the model's reply with ``Scorer.support``.
A sentence is scored on features of meaning and words, and a decision fit on labelled
questions (``decision.py``) turns them into the probability that it answers:

* ``dense``: cosine similarity of the sentence's and the ask's embeddings;
* ``lexical``: IDF-weighted share of the ask's words the sentence uses;
* ``soft`` and ``key``: the same share, with each word credited by its nearest word in the
  sentence (cosine of the model's word embeddings: "workers" meets "employees"); ``key``
  leaves out the subject's names;
* ``key_min``: how well the least-covered of those words is met (every asked thing must be there);
* ``focus``: the same for what a count or share counts; ``typed`` and ``shape``: it states the
  kind of fact asked, in the expected form; ``rank``: the passage's retrieval rank;
* ``verify``: the answer verifier's probability that the sentence states what was asked (a
  cross-encoder that reads the ask and the sentence, with its title and the sentence before it,
  together; ``verifier/``). Those features first pick a shortlist (the *prefilter* decision);
  the verifier reads only that, and the decision over all the features ranks and accepts. For a
  yes/no ask it also says which way the sentence settles it (``verify_yes``, ``verify_no``).

Three checks are logic, not weights, and keep answers honest:

* **Named subject**: the names the ask is about must be spoken of by the sentence's passage or
  document; a figure stated for one zone is never given for another. A code it asks about (a plot,
  part, model or phone number) must be stated exactly by the sentence itself.
* **Time**: an ask about a year (or "last year", resolved against each document's date) needs
  a sentence about that year; a figure is never given for another year.
* **Kind**: "how many", "how large", "when", "how much", "what share" need a sentence that
  states a count, size, date, amount or share. Text addressed to an AI is never evidence.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import facts
from .decision import FEATURES, Decision
from .lexicon import Lexicon, words
from .models import Sentence
from .question import Part, asked_words
from .tokens import STOPWORDS, stem
from .verifier.artefact import pair_text

#: Text addressed to an AI ("ignore previous instructions ...") is never evidence.
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.]{0,40}\b(instructions?|rules?|prompts?|guidelines?|directions?)\b"
    r"|\b(system prompt|as an ai\b|you are (now )?(an? )?(ai|assistant|language model|chatbot)\b)"
    r"|\b(ai|llm|assistant|chatbot|language model)s?\b[^.]{0,30}\b(must|should|shall) (say|answer|reply|respond|state)",
    re.I,
)
#: A sentence that names its subject only in the sentence before: "It covers ...", "The zone is ...".
ANAPHOR = re.compile(r"^(it|its|they|their|this|these|the (zone|park|district|area|town|company|committee))\b", re.I)
#: A sentence that speaks of a subject named earlier: "It ...", "Its ...", "The park ...", "The university ...".
REFERS_BACK = re.compile(r"^[\"“]?(?:(?i:it|its|they|their|this|these|there)|[Tt]he [a-z][\w-]*)\b")
#: The name a sentence opens with ("Jinqiao Export Processing Zone", "The Bay Area High-tech Zone of ...").
OPENING_NAME = re.compile(r"^[\"“]?([A-Z][\w'’-]*(?:\s+(?:of\s+|and\s+|the\s+)?[A-Z][\w'’-]*)*)")

Encode = Callable[[list[str]], np.ndarray]
#: The verifier: (ask, candidates) -> ``(len(candidates), 3)`` probabilities (neither, yes, no).
Verify = Callable[[str, list[str]], np.ndarray]
#: Sentences per part the verifier reads: the best by the prefilter decision, not every sentence found.
SHORTLIST = 12


@dataclass
class Scored:
    """A sentence scored against one ask."""

    sentence: Sentence
    probability: float
    features: dict[str, float] = field(default_factory=dict)
    names_ok: bool = True  #: the ask's subject names are spoken of here
    time_ok: bool = True  #: about the year asked, if one is
    typed: bool = True  #: states the kind of fact asked
    missing: list[str] = field(default_factory=list)  #: names not spoken of

    @property
    def eligible(self) -> bool:
        return self.names_ok and self.time_ok and self.typed

    @property
    def text(self) -> str:
        return self.sentence.text


@dataclass
class _Ask:
    """What a part asks, read once per part rather than once per sentence scored."""

    words: list[str]  #: its content words
    weight: np.ndarray  #: their IDF weights
    is_key: np.ndarray  #: not part of a name
    focus: np.ndarray  #: part of what a count or share counts
    vectors: np.ndarray  #: their single-word embeddings
    pieces: tuple[np.ndarray, np.ndarray] | None  #: contextual word pieces of the asked words (late interaction)
    history: set[str]  #: stems of the last turns, for a follow-up


def content_words(text: str) -> list[str]:
    """Lower-cased words that carry meaning (no stop words), in order, once each."""
    out = [w.lower().removesuffix("'s") for w in words(text)]
    return list(dict.fromkeys(w for w in out if w not in STOPWORDS and len(w) > 1))


class WordVectors:
    """Embeddings of single words, computed once per word and kept.

    Each word is embedded on its own: the int8 encoder scales activations per batch, so a word's
    vector would otherwise shift slightly with whatever else was new in its batch, and the same
    question could be scored differently by two processes."""

    def __init__(self, encode_one: Callable[[str], np.ndarray]) -> None:
        self._encode_one = encode_one
        self._cache: dict[str, np.ndarray] = {}

    def matrix(self, ws: list[str]) -> np.ndarray:
        for w in ws:
            if w not in self._cache:
                self._cache[w] = np.asarray(self._encode_one(w), dtype=np.float32)
        if not ws:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._cache[w] for w in ws])


Tokens = Callable[[str], tuple[list[tuple[int, int]], np.ndarray]]


class TokenVectors:
    """Contextual vectors of a text's word pieces (the model's own, before pooling), kept per text."""

    def __init__(self, tokens: Tokens, limit: int = 50_000) -> None:
        self._tokens = tokens
        self._cache: dict[str, tuple[list[tuple[int, int]], np.ndarray]] = {}
        self._limit = limit

    def of(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        found = self._cache.get(text)
        if found is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            found = self._cache[text] = self._tokens(text)
        return found


class Scorer:
    """Scores sentences against asks and claims with one set of features and one decision."""

    def __init__(self, encode: Encode, lexicon: Lexicon, decision: Decision,
                 word_vectors: WordVectors | None = None, token_vectors: TokenVectors | None = None,
                 verifier: Verify | None = None, verified: Decision | None = None) -> None:  # fmt: skip
        """``decision`` is the prefilter; with a ``verifier`` and its ``verified`` decision, that one decides."""
        self.encode = encode
        self.lexicon = lexicon
        self.prefilter = decision
        self.verifier = verifier if verified is not None else None
        self.decision = verified if verified is not None and verifier is not None else decision
        self.word_vectors = word_vectors or WordVectors(lambda w: encode([w])[0])
        self.token_vectors = token_vectors

    def accepts(self, s: Scored) -> bool:
        return s.eligible and s.probability >= self.decision.threshold

    def rank(self, part: Part, sentences: list[Sentence], vector: np.ndarray, history: str = "") -> list[Scored]:
        """Every sentence scored for ``part``, those that pass the checks first, best first."""
        ask = self._read(part, history)
        out = [self._score(part, s, vector, sentences, ask) for s in sentences
               if not INSTRUCTION.search(s.text)]  # fmt: skip
        out.sort(key=lambda s: (not s.eligible, -s.probability))
        if self.verifier is not None:
            self._verify(part, out, sentences)
            out.sort(key=lambda s: (not s.eligible, -s.probability))
        return out

    def _verify(self, part: Part, ranked: list[Scored], sentences: list[Sentence]) -> None:
        """The verifier reads the prefilter's shortlist (``ranked`` is in prefilter order); every sentence is
        then decided on all the features (one outside the shortlist has ``verify`` 0)."""
        shortlist = ranked[:SHORTLIST]
        texts = [pair_text(s.text, s.sentence.passage.title, previous(s.sentence, sentences)) for s in shortlist]
        assert self.verifier is not None
        probabilities = self.verifier(part.text, texts)
        for s in ranked:
            s.features.update(verify=0.0, verify_yes=0.0, verify_no=0.0)
        for s, (_neither, yes, no) in zip(shortlist, probabilities, strict=True):
            s.features.update(verify=float(yes + no), verify_yes=float(yes), verify_no=float(no))
        for s in ranked:
            s.probability = self.decision.probability(s.features)
            s.typed = self.decision.typed(part.polar, s.features)

    def support(self, claims: list[str], parts: list[Part], sentences: list[Sentence]) -> list[list[Scored]]:
        """For each claim (with its ``Part`` reading), the sentences that support it, best first.

        Every number a claim states must be in the supporting sentence."""
        vectors = self.encode(claims) if claims else np.zeros((0, 1))
        out: list[list[Scored]] = []
        for claim, part, vector in zip(claims, parts, vectors, strict=True):
            ranked = self.rank(part, sentences, vector)
            numbers = facts.numbers(claim)
            out.append([s for s in ranked if self.accepts(s) and numbers <= facts.numbers(s.text)])
        return out

    # -- features -----------------------------------------------------------------------
    def _read(self, part: Part, history: str) -> _Ask:
        words = content_words(asked_words(part))
        named = set(part.names) | set(part.name_words)
        return _Ask(
            words=words,
            weight=np.array([self.lexicon.weight(stem(w)) for w in words]),
            is_key=np.array([w not in named and not self.lexicon.is_subject(w) for w in words], dtype=bool),
            focus=np.array([stem(w) in part.focus or w in part.focus for w in words], dtype=bool),
            vectors=self.word_vectors.matrix(words),
            pieces=self._asked_pieces(part),
            history={stem(w) for w in content_words(history)} if history else set(),
        )

    def _asked_pieces(self, part: Part) -> tuple[np.ndarray, np.ndarray] | None:
        """Contextual vectors of the ask's word pieces that belong to its asked words (not its names),
        and which of them belong to what it counts."""
        if self.token_vectors is None:
            return None
        named = set(part.names) | set(part.name_words)
        keys = [w for w in content_words(asked_words(part)) if w not in named and not self.lexicon.is_subject(w)]
        spans = [(m.start(), m.end(), stem(w) in part.focus or w in part.focus)
                 for w in keys for m in re.finditer(rf"\b{re.escape(w)}\b", part.text, re.I)]  # fmt: skip
        if not spans:
            return None
        offsets, vectors = self.token_vectors.of(part.text)
        rows, focus = [], []
        for i, (a, _b) in enumerate(offsets):
            hit = [f for (x, y, f) in spans if x <= a < y]
            if hit:
                rows.append(i)
                focus.append(hit[0])
        return (vectors[rows], np.array(focus)) if rows else None

    def _late(self, asked: tuple[np.ndarray, np.ndarray] | None, texts: list[str]) -> dict[str, float]:
        """Late interaction: each asked word piece meets its nearest word piece of the sentence (cosine of
        contextual vectors): "workers" is met by "employs ... people" in context."""
        if asked is None or self.token_vectors is None:
            return {"late": 1.0, "late_focus": 1.0}
        vectors = np.concatenate([self.token_vectors.of(t)[1] for t in texts])
        best = (asked[0] @ vectors.T).max(axis=1) if len(vectors) else np.zeros(len(asked[0]))
        focus = asked[1]
        return {"late": float(best.mean()), "late_focus": float(best[focus].mean()) if focus.any() else 1.0}

    def _score(self, part: Part, s: Sentence, vector: np.ndarray, sentences: list[Sentence], ask: _Ask) -> Scored:
        text = s.text
        lead = _lead(s, sentences)
        dense = float(s.vector @ vector)
        sentence_words = content_words(text)
        if lead is not None:  # "It covers 20.48 square kilometers": the subject is in the sentence before
            dense = max(dense, (dense + float(lead.vector @ vector)) / 2)
            sentence_words += [w for w in content_words(lead.text) if w not in sentence_words]
        stems = {stem(w) for w in sentence_words}
        feats = self._coverage(ask, sentence_words, stems)
        feats.update(self._late(ask.pieces, [text] if lead is None else [lead.text, text]))
        feats["dense"] = dense
        feats["typed"] = float(any(facts.states(k, text) for k in (part.kind, *part.also)))
        feats["shape"] = float(facts.in_form(part.kind, part.wants_list, text))
        feats["rank"] = float(s.rank)
        feats["history"] = sum(stem(w) in ask.history for w in sentence_words) / max(1, len(sentence_words))
        # "Who is the deputy director of ...": the sentence must name that role (its words, or their roots).
        feats["role"] = float(all(r in stems or _same_root(r, sentence_words) for r in part.role))
        # A code asked ("plot RS-0417") is a name the sentence itself must state exactly: RS-0471 is another plot.
        coded = text if lead is None else f"{lead.text} {text}"
        missing = self._missing_names(part, s, sentences) + facts.unstated(part.codes, coded)
        return Scored(s, self.prefilter.probability(feats), feats, names_ok=not missing,
                      time_ok=_time_ok(part, s), typed=self.prefilter.typed(part.polar, feats), missing=missing)  # fmt: skip

    def _coverage(self, ask: _Ask, sentence_words: list[str], stems: set[str]) -> dict[str, float]:
        if not ask.words:
            return {"lexical": 0.0, "soft": 0.0, "key": 1.0, "key_min": 1.0, "focus": 1.0}
        exact = np.array([float(stem(w) in stems or _same_root(w, sentence_words)) for w in ask.words])
        if sentence_words:
            soft = np.maximum(exact, (ask.vectors @ self.word_vectors.matrix(sentence_words).T).max(axis=1))
        else:
            soft = exact
        weight, key, focus = ask.weight, ask.is_key, ask.focus
        return {
            "lexical": _share(exact, weight),
            "soft": _share(soft, weight),
            "key": _share(soft[key], weight[key]) if key.any() else 1.0,
            "key_min": float(soft[key].min()) if key.any() else 1.0,
            "focus": float(soft[focus].mean()) if focus.any() else 1.0,
        }

    def _missing_names(self, part: Part, s: Sentence, sentences: list[Sentence]) -> list[str]:
        """Names asked about that the sentence does not speak of. A sentence bound to a subject (it opens
        with a name, or says "It ..." / "The park ..." after one that does, in its passage) is about that
        subject: the names must be in it or in the sentence that binds it. Otherwise its passage or
        document must speak of them."""
        bound = binder(s, sentences, self.lexicon)
        if bound is not None:
            said = (s.text + "\n" + bound.text).lower()
            return [n for n in part.names if not re.search(rf"\b{re.escape(n)}", said)]
        p = s.passage
        return self.lexicon.unspoken(part.names, p.source, f"{p.title}\n{p.text}")


def opening_name(text: str, lexicon: Lexicon) -> str | None:
    """The subject's name ``text`` opens with, or None (a capitalised run that holds no subject word)."""
    m = OPENING_NAME.match(text)
    if m and any(lexicon.is_subject(w.lower().removesuffix("'s")) for w in m.group(1).split()):
        return m.group(1)
    return None


def binder(s: Sentence, sentences: list[Sentence], lexicon: Lexicon) -> Sentence | None:
    """The sentence whose opening name ``s`` is about: ``s`` itself when it opens with a subject's name; for
    a sentence that refers back ("It ...", "The park ...") the nearest one before it in its passage that
    opens with a name, through other such sentences. None when ``s`` is bound to no name."""
    earlier = {x.index: x for x in sentences if x.passage.id == s.passage.id and x.index < s.index}
    x: Sentence | None = s
    while x is not None:
        if opening_name(x.text, lexicon):
            return x
        if not REFERS_BACK.match(x.text):
            return None
        x = earlier.get(x.index - 1)
    return None


def _same_root(word: str, others: list[str]) -> bool:
    """``word`` and one of ``others`` share a root the stemmer misses: "boundaries" and "bounded",
    "employees" and "employed" (a common beginning of five letters or more, most of the shorter word)."""
    for other in others:
        n = len(os.path.commonprefix([word, other]))
        if n >= 5 and n >= 0.6 * min(len(word), len(other)):
            return True
    return False


def _share(values: np.ndarray, weight: np.ndarray) -> float:
    total = float(weight.sum())
    return float((values * weight).sum() / total) if total else 0.0


def previous(s: Sentence, sentences: list[Sentence]) -> str:
    """The text of the sentence before ``s`` in its passage ("" for a passage's first sentence)."""
    if s.index == 0:
        return ""
    return next((x.text for x in sentences if x.passage.id == s.passage.id and x.index == s.index - 1), "")


def _lead(s: Sentence, sentences: list[Sentence]) -> Sentence | None:
    """The sentence before ``s`` in its passage, when ``s`` names its subject only there."""
    if s.index == 0 or not ANAPHOR.match(s.text):
        return None
    return next((x for x in sentences if x.passage.id == s.passage.id and x.index == s.index - 1), None)


def _time_ok(part: Part, s: Sentence) -> bool:
    """The sentence is about a year the part asks about (numbers asked, or relative to the document's date)."""
    base = facts.doc_year(s.passage.date)
    asked = set(part.years) | ({base + r for r in part.relative} if base is not None else set())
    if not asked:
        return True
    said = facts.sentence_years(s.text, s.passage.date)
    if said:
        return bool(said & asked)
    return base in asked  # an undated statement in an article speaks of the article's year


__all__ = ["FEATURES", "INSTRUCTION", "SHORTLIST", "Scored", "Scorer", "TokenVectors", "Verify", "WordVectors",
           "binder", "content_words", "opening_name", "previous"]  # fmt: skip
