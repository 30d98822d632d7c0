"""ask() latency with the answer verifier, against the same bot without it, and the verifier's share.

    python benchmarks/verifier_latency.py                      # the shipped corpus
    python benchmarks/verifier_latency.py --passages 50000     # also a ~50,000-passage synthetic corpus

In one run, per corpus: every question asked once (after one untimed warm-up question), first with
the verifier on and then with it off (the baseline: today's decision without it); p50/p95 of
``ask()``, the verifier's own time (``Verifier.probabilities``) as a share of it, and pairs scored
per question. The questions are the public set's (``eval/qa.jsonl``) on the shipped corpus, and
"How large is <zone>?" plus those on the synthetic one. Results are appended to
``benchmarks/results.md`` (``--out``) and printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import scaled_corpus  # noqa: E402

TARGETS = {"seed_p50": 80.0, "seed_p95": 200.0, "large_p95": 300.0}


def percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"p50": statistics.median(times), "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]}


def measure(bot, questions: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """p50/p95 ms of ask() over ``questions`` (each once), and the verifier's share of the time."""
    bot.ask("What is this corpus about?")  # warm-up: loads the generation
    scorer = bot._refresh()[1]
    verify, spent = scorer.verifier, {"s": 0.0, "pairs": 0}
    if verify is not None:

        def timed(question, candidates):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return verify(question, candidates)
            finally:
                spent["s"] += time.perf_counter() - t0
                spent["pairs"] += len(candidates)

        scorer.verifier = timed
    times = []
    for q in questions:
        t0 = time.perf_counter()
        bot.ask(q)
        times.append((time.perf_counter() - t0) * 1000)
    scorer.verifier = verify
    total = sum(times) / 1000
    return {**percentiles(times), "n": len(times), "verifier_share": spent["s"] / total if total else 0.0,
            "pairs_per_question": spent["pairs"] / len(questions)}  # fmt: skip


def run(corpus: Path, index: Path, questions: list[str]) -> dict[str, dict[str, float]]:
    from zonebot import ZoneBot

    out = {}
    for mode in ("on", "off"):
        bot = ZoneBot(corpus_dir=corpus, index_dir=index, verifier=mode)
        bot.ensure_index()
        bot._refresh()
        out[mode] = measure(bot, questions)
    return out


def seed_questions() -> list[str]:
    from zonebot.evaluation import load_qa

    return [it.question for it in load_qa(ROOT / "eval" / "qa.jsonl") if not it.history]


def large(work: Path, passages: int) -> tuple[Path, Path, list[str]]:
    n_docs = max(1, round(passages / 26.0))
    paths = scaled_corpus.write_corpus(work / "corpus", n_docs, 75)
    zones = [p.read_text(encoding="utf-8").split(" annual report", 1)[0] for p in paths]
    step = max(1, len(zones) // 20)
    qs = seed_questions()[:20] + [f"How large is the {z}?" for z in zones[::step]][:20]
    return work / "corpus", work / "index", qs


def row(name: str, r: dict[str, dict[str, float]]) -> str:
    on, off = r["on"], r["off"]
    return (f"| {name} | {on['n']} | {on['p50']:.0f} | {on['p95']:.0f} | {off['p50']:.0f} | {off['p95']:.0f} | "
            f"{on['p50'] / off['p50']:.1f}x | {100 * on['verifier_share']:.0f}% | {on['pairs_per_question']:.1f} |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=0, help="also a synthetic corpus of about N passages")
    parser.add_argument("--workdir", type=Path, help="keep corpora and indexes here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    work = args.workdir or Path(tmp.name)
    seed = work / "seed"
    if not seed.exists():
        shutil.copytree(ROOT / "corpus", seed / "corpus")
    results = {"shipped corpus": run(seed / "corpus", seed / "index", seed_questions())}
    if args.passages:
        corpus, index, qs = large(work / "large", args.passages)
        results[f"synthetic, ~{args.passages:,} passages"] = run(corpus, index, qs)
    lines = [
        "", f"## ask() with the answer verifier ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})", "",
        "`python benchmarks/verifier_latency.py" + (f" --passages {args.passages}`" if args.passages else "`"),
        "— each question asked once after a warm-up question; verifier off = the same bot and decision "
        "without the cross-encoder (the baseline).", "",
        "| corpus | questions | p50 ms | p95 ms | off: p50 ms | off: p95 ms | p50 on/off | verifier's share | "
        "pairs per question |", "|---|---|---|---|---|---|---|---|---|",
        *[row(name, r) for name, r in results.items()], "",
    ]  # fmt: skip
    seed_on = results["shipped corpus"]["on"]
    lines.append(f"Targets: shipped corpus p50 <= {TARGETS['seed_p50']:.0f} ms ({seed_on['p50']:.0f}), "
                 f"p95 <= {TARGETS['seed_p95']:.0f} ms ({seed_on['p95']:.0f})"
                 + ("".join(f"; {n}: p95 <= {TARGETS['large_p95']:.0f} ms ({r['on']['p95']:.0f})"
                            for n, r in list(results.items())[1:])) + ".")  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text)
    with args.out.open("a", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
