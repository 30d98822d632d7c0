"""The evaluation script and the public QA set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zonebot import ZoneBot
from zonebot.decision import VERIFIED_FEATURES
from zonebot.evaluation import QAFormatError, check_thresholds, evaluate, includes, load_qa, normalise

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "eval" / "qa.jsonl"


def test_public_qa_set_meets_size_and_coverage() -> None:
    items = load_qa(QA)
    answerable = [i for i in items if i.answerable]
    assert len(items) >= 60
    assert len([i for i in items if not i.answerable]) >= 12
    assert len([i for i in items if i.history]) >= 6
    assert {i.source for i in answerable} == {p.name for p in (ROOT / "corpus").glob("*.txt")}
    assert len({i.id for i in items}) == len(items)


def test_every_evidence_is_verbatim_and_every_expected_phrase_is_in_the_corpus() -> None:
    corpus = {p.name: normalise(p.read_text()) for p in (ROOT / "corpus").glob("*.txt")}
    everything = " ".join(corpus.values())
    for item in load_qa(QA):
        for ev in item.evidence:
            assert normalise(ev) in corpus[item.source], f"{item.id}: evidence not in {item.source}: {ev!r}"
        for must in item.must_include:
            for alt in [must] if isinstance(must, str) else must:
                assert normalise(alt) in everything, f"{item.id}: {alt!r} is nowhere in the corpus"
        if not item.answerable:
            assert not item.must_include and not item.evidence


def test_must_include_alternatives() -> None:
    assert includes("It covers 20.48  Square Kilometers", ["20.48", ["sq km", "square kilometers"]])
    assert not includes("It covers 20.48", ["20.48", ["sq km", "square kilometers"]])


def test_malformed_line_is_reported_with_its_number(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "ok?", "answerable": false}\n{"question": "broken", \n')
    with pytest.raises(QAFormatError, match=r"qa.jsonl:2: not valid JSON"):
        load_qa(qa)
    qa.write_text('{"question": "no answerable field"}\n')
    with pytest.raises(QAFormatError, match=r":1: missing field"):
        load_qa(qa)


def test_metrics_match_an_independent_count(bot: ZoneBot) -> None:
    items = load_qa(QA)[:12] + [i for i in load_qa(QA) if not i.answerable][:4]
    report = evaluate(bot, items)
    m = report["metrics"]
    # Recount from the per-item answers with plain string checks.
    ans = [r for r in report["items"] if r["answerable"]]
    una = [r for r in report["items"] if not r["answerable"]]
    right = 0
    for r, item in zip(report["items"], items, strict=True):
        if item.answerable and not r["abstained"]:
            text = " ".join(r["answer"].lower().split())
            alternatives = [[m_] if isinstance(m_, str) else m_ for m_ in item.must_include]
            right += all(any(" ".join(a.lower().split()) in text for a in alts) for alts in alternatives)
    assert m["answer_accuracy"] == round(right / len(ans), 4)
    assert m["abstention_accuracy"] == round(sum(r["abstained"] for r in una) / len(una), 4)
    assert m["false_abstention_rate"] == round(sum(r["abstained"] for r in ans) / len(ans), 4)
    assert 0 <= m["mrr"] <= m["hit@5"] <= 1 and m["hit@1"] <= m["hit@5"]
    assert m["latency_p50_ms"] <= m["latency_p95_ms"]


def test_thresholds() -> None:
    metrics = {"answer_accuracy": 0.8, "latency_p95_ms": 90.0, "false_abstention_rate": 0.2}
    assert check_thresholds(metrics, ["answer_accuracy=0.75", "latency_p95_ms=100"]) == []
    assert check_thresholds(metrics, ["answer_accuracy=0.9"]) == ["answer_accuracy = 0.8 (limit 0.9)"]
    assert check_thresholds(metrics, ["false_abstention_rate=0.1"])


def test_eval_cli_gates_on_the_public_set(seed_dirs, bot: ZoneBot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The regression gate CI relies on: the public set must stay above these floors."""
    corpus, index = seed_dirs
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    cmd = [sys.executable, "-m", "zonebot", "eval", "--qa", str(QA), "--corpus", str(corpus), "--index", str(index),
           "--json", str(out_json), "--markdown", str(out_md)]  # fmt: skip
    # Abstention was gated at 0.85 while hand-set rules were tuned on this set's own near misses;
    # the general decision, fit on questions written blind, refuses 17 of its 24 (README, "The answer decision").
    gate = ["--fail-under", "answer_accuracy=0.85", "--fail-under", "abstention_accuracy=0.7",
            "--fail-under", "false_abstention_rate=0.10", "--fail-under", "cited_evidence_rate=0.9"]  # fmt: skip
    ok = subprocess.run(cmd + gate, capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-2000:]
    report = json.loads(out_json.read_text())
    assert len(report["items"]) == len(load_qa(QA))
    assert "| answer_accuracy |" in out_md.read_text()
    failing = subprocess.run(
        cmd + ["--fail-under", "answer_accuracy=1.01"], capture_output=True, text=True, timeout=600
    )
    assert failing.returncode == 1 and "answer_accuracy" in failing.stderr


@pytest.mark.slow
def test_fit_decision_refits_from_labelled_questions_and_reports_by_kind(seed_dirs, bot: ZoneBot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`zonebot fit-decision` writes a decision the bot then uses; `zonebot eval` reports per kind."""
    corpus, index = seed_dirs
    out = tmp_path / "decision.json"
    fit = subprocess.run([sys.executable, "-m", "zonebot", "fit-decision", "--qa", str(QA), "--corpus", str(corpus),
                          "--index", str(index), "--out", str(out)], capture_output=True, text=True, timeout=900)  # fmt: skip
    assert fit.returncode == 0, fit.stderr[-2000:]
    decision = json.loads(out.read_text())
    assert set(decision["weights"]) == set(VERIFIED_FEATURES) and 0 < decision["threshold"] < 1
    assert "| threshold | answer accuracy |" in fit.stdout and "**chosen**" in fit.stdout
    kinds = tmp_path / "kinds.jsonl"
    kinds.write_text("\n".join(json.dumps({**json.loads(line), "kind": "typo" if i % 2 else "direct"})
                               for i, line in enumerate(QA.read_text().splitlines()[:10])), encoding="utf-8")  # fmt: skip
    report = subprocess.run([sys.executable, "-m", "zonebot", "eval", "--qa", str(kinds), "--corpus", str(corpus),
                             "--index", str(index)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert report.returncode == 0 and "by kind:" in report.stdout and "typo" in report.stdout
