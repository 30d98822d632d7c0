"""Embedding backends compared: torch fp32 vs onnx-int8, speed (interleaved) and agreement.

Both backends embed the same sentences (the shipped corpus's sentences, varied with
``scaled_corpus.vary`` up to ``--sentences``) in the same process, alternating which goes
first each round, so a noisy shared machine slows both alike; the per-round ratios and their
median are what to read, not the absolute rates. Tokens are the word pieces the model sees
(truncated at 256, with [CLS]/[SEP]).

Optionally (``--eval``) runs ``zonebot eval`` once per backend on separate index folders and
prints the answer and retrieval metrics side by side.

    python benchmarks/embedding_backends.py --sentences 3000 --rounds 5 [--eval] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scaled_corpus  # noqa: E402

from zonebot.embeddings import MAX_SEQ_TOKENS, Embedder, OnnxInt8Model, onnx_cache_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EVAL_METRICS = ("answer_accuracy", "abstention_accuracy", "false_abstention_rate", "hit@1", "mrr")


def sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` corpus sentences: the originals first, then varied copies (new zone names and figures)."""
    base = scaled_corpus.seed_sentences()
    rng = random.Random(seed)
    out = list(base[:n])
    while len(out) < n:
        out.append(scaled_corpus.vary(rng.choice(base), scaled_corpus.zone_name(rng) + " Zone", rng))
    return out


def speed(texts: list[str], rounds: int, batch_size: int, threads: int | None = None) -> dict:
    """Interleaved timing; ``threads`` pins both runtimes' intra-op threads (None: their defaults, 2 here)."""
    embedders = {b: Embedder(batch_size=batch_size, backend=b) for b in ("torch", "onnx-int8")}
    tok = embedders["torch"].model.tokenizer
    tokens = sum(min(len(ids), MAX_SEQ_TOKENS) for ids in tok(texts, add_special_tokens=True)["input_ids"])
    for e in embedders.values():  # load, build the export if needed, warm up
        e.embed(texts[:64])
    import torch

    default_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    models = {b: e.model for b, e in embedders.items()}
    if threads:  # a private session: the shared one keeps its default thread count
        models["onnx-int8"] = OnnxInt8Model(onnx_cache_dir(), threads=threads)
    rates: dict[str, list[float]] = {b: [] for b in embedders}
    vectors: dict = {}
    for r in range(rounds):
        order = list(embedders) if r % 2 == 0 else list(reversed(embedders))
        for b in order:
            t0 = time.perf_counter()
            vectors[b] = models[b].encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            rates[b].append(tokens / (time.perf_counter() - t0))
    torch.set_num_threads(default_threads)
    ratios = [o / t for o, t in zip(rates["onnx-int8"], rates["torch"], strict=True)]
    cos = (vectors["torch"] * vectors["onnx-int8"]).sum(axis=1)
    return {
        "sentences": len(texts),
        "tokens": tokens,
        "rounds": rounds,
        "batch_size": batch_size,
        "threads": threads or "default",
        "tokens_per_s": {b: [round(x) for x in v] for b, v in rates.items()},
        "median_tokens_per_s": {b: round(statistics.median(v)) for b, v in rates.items()},
        "speedup_per_round": [round(x, 2) for x in ratios],
        "speedup_median": round(statistics.median(ratios), 2),
        "cosine_mean": round(float(cos.mean()), 4),
        "cosine_min": round(float(cos.min()), 4),
        "cosine_p01": round(float(sorted(cos)[len(cos) // 100]), 4),
    }


def run_eval(backend: str, index: Path, qa: Path, retrieval: str) -> dict:
    out = index.parent / f"eval-{backend}-{retrieval}.json"
    env = dict(os.environ, ZONEBOT_EMBED_BACKEND=backend)
    cmd = ["zonebot", "eval", "--qa", str(qa), "--index", str(index), "--retrieval", retrieval, "--json", str(out)]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    metrics = json.loads(out.read_text())["metrics"]
    return {k: metrics.get(k) for k in EVAL_METRICS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sentences", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, nargs="*", default=[0], help="intra-op threads per run; 0 = default")
    p.add_argument("--eval", action="store_true", help="also run zonebot eval with each backend")
    p.add_argument("--qa", type=Path, default=ROOT / "eval" / "qa.jsonl")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)

    texts = sentences(args.sentences)
    result: dict = {"speed": [speed(texts, args.rounds, args.batch_size, t or None) for t in args.threads]}
    print(json.dumps(result["speed"], indent=2))
    if args.eval:
        with tempfile.TemporaryDirectory(prefix="zonebot-embed-eval-") as tmp:
            result["eval"] = {
                f"{b}/{mode}": run_eval(b, Path(tmp) / f"index-{b}", args.qa, mode)
                for mode in ("hybrid", "dense")
                for b in ("torch", "onnx-int8")
            }
        print(json.dumps(result["eval"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
