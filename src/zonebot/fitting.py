"""Fitting the answer decision on labelled questions (``zonebot fit-decision``).

1. Every question of the QA sets is read and retrieved as in ``ZoneBot.ask``; each sentence
   found for a part is labelled 1 when it holds one of the item's evidence strings, 0 otherwise
   (every sentence of an unanswerable item is 0).
2. A logistic regression (scikit-learn) over the scorer's features gives the weights.
3. The threshold is chosen by answering every question again at each candidate threshold:
   the one with the best mean of answer accuracy and abstention accuracy whose false
   abstention rate stays within the limit. The whole curve is returned for the README.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .answerers import AnswerRequest, PartEvidence
from .answerers.extractive import ExtractiveAnswerer
from .decision import FEATURES, VERIFIED_FEATURES, Decision
from .errors import ZoneBotError
from .evaluation import QAItem, holds, score_item, summarise


@dataclass
class Example:
    item: QAItem
    request: AnswerRequest
    group: int = 0  #: which QA set it came from: each set weighs the same in the choice of threshold


def collect(bot: Any, sets: list[list[QAItem]]) -> list[Example]:
    """Each item read and retrieved (the expensive part, done once)."""
    return [Example(item, bot._request(item.question, item.history, None), g)
            for g, items in enumerate(sets) for item in items]  # fmt: skip


#: Sentences per part that the fit learns from: the decision is between the best few, not the rest.
TOP = 5
#: Candidate floors: how well what a count, share or role question asks about must be met, by single-word
#: similarity (``focus``) or in context (``late_focus``), and how well every asked word must be met for a
#: "Yes" (``yes``). Floors on the least-met word and on embedding similarity were tried too and never chosen
#: (false abstention rose faster than wrong answers fell).
FLOORS = {"focus": (0.0, 0.5, 0.6, 0.7), "late_focus": (0.0, 0.3, 0.4), "yes": (0.0, 0.6, 0.7)}
#: With the verifier: ``no_margin`` is how much more likely the verifier must find "no" than "yes" for a
#: "No" (a sentence that answers a yes/no question confirms it unless it clearly contradicts it).
VERIFIED_FLOORS = {"focus": (0.0, 0.5, 0.6), "late_focus": (0.0, 0.3), "no_margin": (0.0, 0.2, 0.4, 0.6)}


def dataset(examples: list[Example], features: tuple[str, ...] = FEATURES) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for ex in examples:
        for ev in ex.request.evidence:
            for s in [s for s in ev.ranked if s.eligible][:TOP]:
                rows.append([s.features[f] for f in features])
                labels.append(int(ex.item.answerable and holds(s.text, ex.item.evidence)))
    return np.asarray(rows, dtype=float), np.asarray(labels, dtype=int)


def fit_weights(x: np.ndarray, y: np.ndarray, features: tuple[str, ...] = FEATURES) -> Decision:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # a dev-only dependency
        raise ZoneBotError("fitting needs scikit-learn: pip install -e '.[dev]'") from exc
    if len(set(y.tolist())) < 2:
        raise ZoneBotError("the QA sets gave no positive (or no negative) sentences to fit on")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced").fit((x - mean) / scale, y)
    return Decision(
        weights={f: round(float(w), 4) for f, w in zip(features, model.coef_[0], strict=True)},
        bias=round(float(model.intercept_[0]), 4), threshold=0.5,
        mean={f: round(float(m), 4) for f, m in zip(features, mean, strict=True)},
        scale={f: round(float(s), 4) for f, s in zip(features, scale, strict=True)},
    )  # fmt: skip


def rescore(request: AnswerRequest, decision: Decision) -> AnswerRequest:
    """The request as the scorer would give it under ``decision``."""
    scorer = copy.copy(request.scorer)
    scorer.decision = decision
    evidence = []
    for ev in request.evidence:
        ranked = [replace(s, probability=decision.probability(s.features),
                          typed=decision.typed(ev.part.polar, s.features)) for s in ev.ranked]  # fmt: skip
        ranked.sort(key=lambda s: (not s.eligible, -s.probability))
        evidence.append(PartEvidence(ev.part, ranked, ev.sentences, ev.passages))
    return replace(request, evidence=evidence, scorer=scorer)


def curve(examples: list[Example], decision: Decision, thresholds: list[float],
          floors: dict[str, tuple[float, ...]] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Answer accuracy, abstention accuracy and false abstention at each threshold and set of floors."""
    answerer = ExtractiveAnswerer()
    names = list(floors or {})
    grid = list(itertools.product(*(floors or {}).values())) or [()]
    out = []
    for t, values in itertools.product(thresholds, grid):
        d = replace(decision, threshold=t, floors=dict(zip(names, values, strict=True)))
        results = [(ex.group, score_item(ex.item, answerer.answer(rescore(ex.request, d)), 0.0)) for ex in examples]
        metrics = [summarise([r for g, r in results if g == group]) for group in sorted({g for g, _ in results})]
        point: dict[str, Any] = {"threshold": t, "floors": d.floors}
        for key in ("answer_accuracy", "abstention_accuracy"):
            point[key] = round(sum(m[key] for m in metrics) / len(metrics), 4)  # each QA set weighs the same
        point["false_abstention_rate"] = max(m["false_abstention_rate"] for m in metrics)  # the worst set's
        out.append(point)
    return out


def choose(points: list[dict[str, Any]], max_false_abstention: float) -> dict[str, Any]:
    ok = [p for p in points if p["false_abstention_rate"] <= max_false_abstention] or points
    # Ties go to the higher threshold: the more careful of equally good decisions.
    return max(ok, key=lambda p: (p["answer_accuracy"] + p["abstention_accuracy"], p["threshold"]))


def fit(bot: Any, sets: list[list[QAItem]], max_false_abstention: float = 0.10) -> tuple[Decision, list[dict[str, Any]]]:
    """The decision fit on the QA ``sets``, and its trade-off curve (each set weighs the same). With the bot's
    verifier on, the decision over the verifier's feature too (``VERIFIED_FEATURES``), else the prefilter."""
    examples = collect(bot, sets)
    features = VERIFIED_FEATURES if bot.settings.verifier == "on" else FEATURES
    x, y = dataset(examples, features)
    weights = fit_weights(x, y, features)
    thresholds = [round(t, 2) for t in np.arange(0.02, 0.62, 0.04 if features is VERIFIED_FEATURES else 0.02)]
    points = curve(examples, weights, thresholds, VERIFIED_FLOORS if features is VERIFIED_FEATURES else FLOORS)
    best = choose(points, max_false_abstention)
    return replace(weights, threshold=best["threshold"], floors=best["floors"]), points
