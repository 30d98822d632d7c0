"""Scoring zonebot over a QA set (JSON Lines): answers, citations, abstention, retrieval, latency.

Each line: ``id``, ``question``, ``answerable``, ``must_include`` (strings, or lists of
alternatives), ``evidence`` (verbatim strings of the source), ``source``, optional
``history``, ``kind`` (a label such as ``paraphrase`` or ``trap``: the report then gives accuracy per
kind). See the README for the format.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ZoneBotError

METRICS = (
    "answer_accuracy", "abstention_accuracy", "false_abstention_rate", "cited_evidence_rate",
    "hit@1", "hit@5", "mrr", "latency_p50_ms", "latency_p95_ms",
)  # fmt: skip


class QAFormatError(ZoneBotError):
    """A QA file line is not valid; the message names the line."""


@dataclass
class QAItem:
    id: str
    question: str
    answerable: bool
    must_include: list[str | list[str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    source: str | list[str] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    kind: str | None = None


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def load_qa(path: str | Path) -> list[QAItem]:
    """Read and validate a QA file; a bad line raises ``QAFormatError`` naming its number."""
    items: list[QAItem] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QAFormatError(f"cannot read QA file {path}: {exc.strerror}") from exc
    for no, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QAFormatError(f"{path}:{no}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(raw, dict):
            raise QAFormatError(f"{path}:{no}: each line must be a JSON object")
        missing = [k for k in ("question", "answerable") if k not in raw]
        if missing:
            raise QAFormatError(f"{path}:{no}: missing field(s) {', '.join(missing)}")
        if not isinstance(raw["question"], str) or not isinstance(raw["answerable"], bool):
            raise QAFormatError(f"{path}:{no}: 'question' must be a string and 'answerable' true/false")
        must = raw.get("must_include") or []
        if not isinstance(must, list) or not all(
            isinstance(m, str) or (isinstance(m, list) and m and all(isinstance(x, str) for x in m)) for m in must
        ):
            raise QAFormatError(f"{path}:{no}: 'must_include' must be a list of strings or lists of strings")
        evidence = raw.get("evidence") or []
        if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
            raise QAFormatError(f"{path}:{no}: 'evidence' must be a list of strings")
        history = raw.get("history") or []
        if not isinstance(history, list) or not all(isinstance(m, dict) and "role" in m for m in history):
            raise QAFormatError(f"{path}:{no}: 'history' must be a list of {{role, content}} messages")
        items.append(QAItem(str(raw.get("id", f"line{no}")), raw["question"], raw["answerable"], must,
                            evidence, raw.get("source"), history, _kind(raw.get("kind"))))  # fmt: skip
    if not items:
        raise QAFormatError(f"{path}: no QA items")
    return items


def _kind(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value.strip() else None


def includes(answer: str, must: Iterable[str | list[str]]) -> bool:
    text = normalise(answer)
    return all(any(normalise(alt) in text for alt in ([m] if isinstance(m, str) else m)) for m in must)


def holds(text: str, evidence: list[str]) -> bool:
    t = normalise(text)
    return any(normalise(e) in t for e in evidence)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def score_item(item: QAItem, answer: Any, latency_ms: float) -> dict[str, Any]:
    """Per-item result from an ``Answer`` (or anything with the same attributes)."""
    cited = [c.quote + "\n" + c.passage for c in answer.citations]
    rank = next((i + 1 for i, p in enumerate(answer.passages) if holds(p.text, item.evidence)), None)
    result = {
        "id": item.id, "question": item.question, "answerable": item.answerable,
        "abstained": answer.abstained, "answer": answer.text, "latency_ms": round(latency_ms, 2),
        "citations": [{"n": c.n, "source": c.source, "quote": c.quote} for c in answer.citations],
        "expected": item.must_include, "source": item.source, "kind": item.kind,
    }  # fmt: skip
    if item.answerable:
        result["correct"] = (not answer.abstained) and includes(answer.text, item.must_include)
        result["cited_evidence"] = (not answer.abstained) and any(holds(c, item.evidence) for c in cited)
        result["evidence_rank"] = rank
    else:
        result["correct"] = bool(answer.abstained)
    return result


def summarise(results: list[dict[str, Any]]) -> dict[str, float]:
    ans = [r for r in results if r["answerable"]]
    una = [r for r in results if not r["answerable"]]
    answered = [r for r in ans if not r["abstained"]]
    ranks = [r["evidence_rank"] for r in ans]
    lat = [r["latency_ms"] for r in results]

    def ratio(num: int, den: int) -> float:
        return round(num / den, 4) if den else 0.0

    return {
        "answer_accuracy": ratio(sum(r["correct"] for r in ans), len(ans)),
        "abstention_accuracy": ratio(sum(r["correct"] for r in una), len(una)),
        "false_abstention_rate": ratio(sum(r["abstained"] for r in ans), len(ans)),
        "cited_evidence_rate": ratio(sum(r["cited_evidence"] for r in answered), len(answered)),
        "hit@1": ratio(sum(1 for k in ranks if k is not None and k <= 1), len(ans)),
        "hit@5": ratio(sum(1 for k in ranks if k is not None and k <= 5), len(ans)),
        "mrr": round(statistics.fmean([1 / k if k else 0.0 for k in ranks]), 4) if ranks else 0.0,
        "latency_p50_ms": round(_percentile(lat, 0.5), 2),
        "latency_p95_ms": round(_percentile(lat, 0.95), 2),
        "items": len(results),
        "answerable": len(ans),
        "unanswerable": len(una),
    }


def evaluate(
    bot: Any, items: list[QAItem], retrieval: str | None = None, on_item: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Ask every item and score it. Returns ``{"metrics": {...}, "items": [...]}``."""
    bot.ask("warm-up question about Jinqiao", retrieval=retrieval)  # load the model outside the timings
    results = []
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        answer = bot.ask(item.question, history=item.history, retrieval=retrieval)
        results.append(score_item(item, answer, (time.perf_counter() - t0) * 1000))
        if on_item:
            on_item(i + 1)
    return {"metrics": summarise(results), "by_kind": by_kind(results), "items": results,
            "retrieval": retrieval or bot.settings.retrieval}  # fmt: skip


def by_kind(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Accuracy per ``kind`` label (items without one are left out): items, accuracy, false abstentions."""
    kinds = sorted({r["kind"] for r in results if r.get("kind")})
    out: dict[str, dict[str, float]] = {}
    for kind in kinds:
        rs = [r for r in results if r.get("kind") == kind]
        ans = [r for r in rs if r["answerable"]]
        out[kind] = {
            "items": len(rs),
            "accuracy": round(sum(r["correct"] for r in rs) / len(rs), 4),
            "false_abstention": round(sum(r["abstained"] for r in ans) / len(ans), 4) if ans else 0.0,
        }
    return out


def failures(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in report["items"] if not r["correct"]]


def _expected(r: dict[str, Any]) -> str:
    if not r["answerable"]:
        return "(abstain)"
    return "; ".join(m if isinstance(m, str) else " | ".join(m) for m in r["expected"])


def markdown(report: dict[str, Any]) -> str:
    m = report["metrics"]
    lines = [f"## zonebot evaluation ({report['retrieval']} retrieval, {m['items']} items)", "",
             "| metric | value |", "|---|---|"]  # fmt: skip
    lines += [f"| {k} | {m[k]} |" for k in METRICS]
    if report.get("by_kind"):
        lines += ["", "### By kind", "", "| kind | items | accuracy | false abstention |", "|---|---|---|---|"]
        lines += [f"| {k} | {v['items']} | {v['accuracy']} | {v['false_abstention']} |"
                  for k, v in report["by_kind"].items()]  # fmt: skip
    fails = failures(report)
    lines += ["", f"### Failures ({len(fails)})", ""]
    if fails:
        lines += ["| id | question | expected | got |", "|---|---|---|---|"]
        for r in fails:
            got = "(abstained) " + r["answer"] if r["abstained"] else r["answer"]
            cells = [r["id"], r["question"], _expected(r), got[:300]]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def check_thresholds(metrics: dict[str, float], rules: list[str]) -> list[str]:
    """``METRIC=VALUE`` rules; returns the broken ones as messages (empty when all hold)."""
    broken = []
    for rule in rules:
        name, _, value = rule.partition("=")
        if name not in METRICS or not value:
            raise ZoneBotError(f"--fail-under takes METRIC=VALUE with METRIC one of {', '.join(METRICS)}; got {rule!r}")
        limit = float(value)
        actual = metrics[name]
        # Latency and false abstentions are better low: for them the rule is an upper bound.
        bad = actual > limit if name.startswith("latency") or name == "false_abstention_rate" else actual < limit
        if bad:
            broken.append(f"{name} = {actual} (limit {limit})")
    return broken
