"""Training pairs for the verifier, mined with zonebot's own retrieval.

A part folder holds ``docs/`` (the documents) and ``questions.jsonl``, one question a line:
``question``, ``history``, ``kind``, ``answerable``, ``answer_sentences`` (verbatim), ``yes_no``
("yes"/"no"/null), ``near_sentences`` (verbatim sentences that look like answers but are not) and,
for multi-part and comparison questions, ``parts`` (one standalone sub-question each, with its own
``answer_sentences``). The documents are indexed as zonebot indexes a corpus; each ask is planned
and retrieved as ``ZoneBot.ask`` does, with the verifier off; the prefilter's shortlist gives the
candidates. Labels: a sentence that is one of the answer sentences is ``yes`` (``no`` when the
question is a yes/no question the sentence contradicts); every other candidate is ``neither``.
An answerable ask whose answer sentence is not among the retrieved sentences is left out (counted).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..evidence import SHORTLIST, previous
from ..verifier.artefact import LABELS, pair_text

Message = dict[str, Any]


@dataclass
class Ask:
    """One ask to train on: a question (or a part of one) with what answers it."""

    id: str
    kind: str
    question: str
    history: list[Message]
    answers: list[str]  #: verbatim answer sentences; [] when the documents do not say
    near: list[str] = field(default_factory=list)
    polar: str | None = None  #: "yes" or "no" for a yes/no question


def read_asks(folder: Path) -> list[Ask]:
    """The asks of one part folder's ``questions.jsonl``: multi-part and comparison questions give one
    ask per part; every other question one ask."""
    out: list[Ask] = []
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        near = [str(x) for x in q.get("near_sentences") or []]
        parts = q.get("parts") or []
        if parts:
            for i, p in enumerate(parts):
                out.append(Ask(f"{q['id']}.{i}", q["kind"], str(p["question"]), [], list(p.get("answer_sentences") or []),
                               near))  # fmt: skip
            continue
        answers = list(q.get("answer_sentences") or []) if q.get("answerable") else []
        polar = q.get("yes_no") if q.get("yes_no") in ("yes", "no") else None
        out.append(Ask(q["id"], q["kind"], str(q["question"]), list(q.get("history") or []), answers, near, polar))
    return out


def _norm(text: str) -> str:
    text = text.replace("’", "'").replace("“", '"').replace("”", '"').replace("–", "-").replace("—", "-")
    return re.sub(r"\s+", " ", text).strip().lower()


def matches(sentence: str, targets: list[str]) -> bool:
    """The sentence is one of ``targets`` (or most of one: the splitter may cut a target in two)."""
    s = _norm(sentence)
    if len(s) < 12:
        return False
    for t in map(_norm, targets):
        if s == t or (s in t and len(s) >= 0.6 * len(t)) or (t in s and len(t) >= 0.6 * len(s)):
            return True
    return False


@dataclass
class Mined:
    pairs: list[dict[str, Any]]
    counts: Counter


def mine(bot: Any, asks: list[Ask], negatives: int) -> Mined:
    """(ask, candidate, label) pairs from ``bot`` (verifier off) over the part's documents."""
    pairs: list[dict[str, Any]] = []
    counts: Counter = Counter()
    for ask in asks:
        found = list(_pairs(bot, ask, negatives))
        counts["asks"] += 1
        if not found:
            counts["left out: answer sentence not retrieved" if ask.answers else "left out: nothing retrieved"] += 1
        pairs += found
    counts.update(f"label {LABELS[p['label']]}" for p in pairs)
    return Mined(pairs, counts)


def _pairs(bot: Any, ask: Ask, negatives: int) -> Iterator[dict[str, Any]]:
    request = bot._request(ask.question, ask.history, None)
    if len(request.evidence) != 1:  # the plan read several asks into it: which sentence answers which is unknown
        return
    ev = request.evidence[0]
    ranked = ev.ranked
    positives = [s for s in ranked if ask.answers and matches(s.text, ask.answers)]
    if ask.answers and not positives:
        return
    near = [s for s in ranked if s not in positives and ask.near and matches(s.text, ask.near)]
    hard = [s for s in ranked[:SHORTLIST] if s not in positives and s not in near][:negatives]
    label = 2 if ask.polar == "no" else 1
    for group, y in ((positives, label), (near, 0), (hard, 0)):
        for s in group:
            yield {"id": ask.id, "kind": ask.kind, "question": ev.part.text, "label": y,
                   "candidate": pair_text(s.text, s.sentence.passage.title, previous(s.sentence, ev.sentences))}  # fmt: skip


def build(parts: list[Path], work: Path, negatives: int = 4, limit: int | None = None, log: Any = print) -> Mined:
    """Pairs from every part folder in ``parts`` (each indexed on its own under ``work``)."""
    from ..bot import ZoneBot

    pairs: list[dict[str, Any]] = []
    counts: Counter = Counter()
    for folder in parts:
        bot = ZoneBot(corpus_dir=folder / "docs", index_dir=work / folder.name, verifier="off")
        bot.ingest()
        asks = read_asks(folder)[:limit]
        mined = mine(bot, asks, negatives)
        log(f"{folder.name}: {len(asks)} asks, {len(mined.pairs)} pairs; {dict(mined.counts)}")
        pairs += mined.pairs
        counts += mined.counts
    return Mined(pairs, counts)
