"""Scale benchmark: ingest throughput, question latency and memory on a large synthetic corpus.

    python benchmarks/run.py                    # ~50,000 passages (takes a long while on 2 cores)
    python benchmarks/run.py --passages 5000    # quick check

In one run: the machine's fp32 GEMM rate and from it the embedding model's ceiling in
tokens/s; zonebot's ingest throughput, growing the index through 1k, 10k, ... passages
and timing ``ask()`` at each size; the plain LangChain recipe's ingest throughput on
(a prefix of) the same corpus, in a child process; peak memory of each. Results go to
``benchmarks/results.md`` (``--out``) and stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scaled_corpus  # noqa: E402

ROOT = HERE.parent
TARGETS = {"ingest_ratio": 2.0, "ask_p95_ms": 150.0, "peak_rss_gb": 1.5}
SENTENCES_PER_DOC = 75  # about 26 passages of at most 160 word pieces


def status_mb(field: str, pid: int | str = "self") -> float | None:
    """A memory line of ``/proc/<pid>/status`` (``VmHWM``: peak, ``VmRSS``: now) in MB; None where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    peak = status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def gemm_gflops(n: int = 1024, seconds: float = 2.0) -> dict[str, float]:
    """Measured fp32 matrix-multiply rate, torch and numpy, best of a few repeats."""
    import torch

    out = {}
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    an, bn = a.numpy(), b.numpy()
    for name, mm in (("torch", lambda: a @ b), ("numpy", lambda: an @ bn)):
        mm()
        best, end = 0.0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            for _ in range(4):
                mm()
            best = max(best, 4 * 2 * n**3 / (time.perf_counter() - t0) / 1e9)
        out[name] = round(best, 1)
    return out


def flops_per_token(avg_tokens: float) -> float:
    """Forward-pass FLOPs per token of the embedding model: 2 x the encoder's weights, plus attention."""
    from zonebot.embeddings import Embedder

    model = Embedder(backend="torch").model
    bert = model[0].auto_model
    weights = sum(p.numel() for n, p in bert.named_parameters() if ".layer." in n and p.dim() == 2)
    cfg = bert.config
    attention = 2 * 2 * avg_tokens * cfg.hidden_size * cfg.num_hidden_layers  # QK^T and AV per token
    return 2 * weights + attention


def token_counter():  # type: ignore[no-untyped-def]
    from zonebot.embeddings import Embedder

    tok = Embedder(backend="torch").model.tokenizer

    def count(texts: list[str], cap: int | None = None) -> list[int]:
        out = []
        for i in range(0, len(texts), 512):
            ids = tok(texts[i : i + 512], add_special_tokens=True, truncation=False)["input_ids"]
            out += [len(x) if cap is None else min(len(x), cap) for x in ids]
        return out

    return count


# -- the LangChain recipe, in a child process so its memory and model are its own -----------------
def langchain_worker(corpus: Path) -> dict[str, float]:
    import benchmarks_baseline as baseline  # type: ignore[import-not-found]

    from zonebot.embeddings import MAX_SEQ_TOKENS

    baseline.langchain_recipe(ROOT / "corpus")  # load the model outside the timing
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        _, chunks = baseline.langchain_recipe(corpus, Path(tmp) / "chroma")
        seconds = time.perf_counter() - t0
    count = token_counter()
    texts = [c.page_content for c in chunks]
    return {
        "seconds": seconds,
        "chunks": len(chunks),
        "embedded_tokens": sum(count(texts, cap=MAX_SEQ_TOKENS)),
        "chunk_tokens": sum(count(texts)),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_langchain(corpus: Path) -> dict[str, float]:
    code = (
        f"import sys, json, importlib.util as u; sys.path.insert(0, {str(HERE)!r});"
        f"s = u.spec_from_file_location('benchmarks_baseline', {str(HERE / 'baseline.py')!r});"
        "m = u.module_from_spec(s); sys.modules['benchmarks_baseline'] = m; s.loader.exec_module(m);"
        f"import run; print('RESULT ' + json.dumps(run.langchain_worker(__import__('pathlib').Path({str(corpus)!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])  # type: ignore[no-any-return]
    raise RuntimeError(f"LangChain worker failed:\n{out.stderr[-3000:]}")


# -- zonebot ------------------------------------------------------------------------------------------
def questions(zones: list[str], n: int = 40) -> list[str]:
    from zonebot.evaluation import load_qa

    qa = [it.question for it in load_qa(ROOT / "eval" / "qa.jsonl") if not it.history][: n // 2]
    step = max(1, len(zones) // (n - len(qa)))
    generated = [f"How large is the {z}?" for z in zones[::step]][: n - len(qa)]
    return qa + generated


def time_asks(ask, qs: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """p50/p95 milliseconds of ``ask(q)`` over ``qs``, after one untimed warm-up call (the first
    question after a swap loads the new generation)."""
    ask(qs[0])
    times = []
    for q in qs:
        t0 = time.perf_counter()
        ask(q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "n": len(times),
    }


def encoder_rates(lc_corpus: Path, sentences: list[str], embed) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Tokens/s of the two encoders alone: the recipe's (torch fp32 on its 1000-char chunks, batch 32)
    and zonebot's (its backend on its sentences), each on a sample, each warmed up."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from zonebot.embeddings import MAX_SEQ_TOKENS, Embedder

    files = sorted(lc_corpus.iterdir())[:40]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_text(
        "\n\n".join(p.read_text(encoding="utf-8") for p in files)
    )[:800]
    sample = sentences[:: max(1, len(sentences) // 3000)][:3000]
    count = token_counter()
    torch_model = Embedder(backend="torch").model
    out: dict[str, float] = {"chunks": len(chunks), "sentences": len(sample)}
    torch_model.encode(chunks[:32], batch_size=32)
    t0 = time.perf_counter()
    torch_model.encode(chunks, batch_size=32, normalize_embeddings=True)
    out["torch_chunks"] = sum(count(chunks, cap=MAX_SEQ_TOKENS)) / (time.perf_counter() - t0)
    embed(sample[:64])
    t0 = time.perf_counter()
    embed(sample)
    out["zonebot_sentences"] = sum(count(sample, cap=MAX_SEQ_TOKENS)) / (time.perf_counter() - t0)
    return {k: round(v) for k, v in out.items()}


def chat_process(corpus: Path, index: Path, qs: list[str]) -> dict[str, float]:
    """Start the real chat server (``zonebot serve``) on the finished index, ask it every question over
    HTTP, and read its peak memory: the figure for the "chat process" target."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "zonebot", "serve", "--corpus", str(corpus), "--index", str(index),
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("ZONEBOT_CORPUS_DIR", "ZONEBOT_INDEX_DIR")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"zonebot serve exited {proc.returncode}: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        ready = time.perf_counter() - t0

        def ask_http(question: str) -> None:
            # Gradio's documented two-step HTTP API (POST the call, then read its event stream); plain
            # urllib, because gradio_client adds ~100 ms of its own per call (measured).
            body = json.dumps({"data": [question, []]}).encode()
            req = urllib.request.Request(f"{url}gradio_api/call/ask", data=body,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
            with urllib.request.urlopen(req, timeout=60) as resp:
                event = json.load(resp)["event_id"]
            with urllib.request.urlopen(f"{url}gradio_api/call/ask/{event}", timeout=60) as resp:
                stream = resp.read().decode()
            if "event: complete" not in stream:
                raise RuntimeError(f"/ask did not complete: {stream[:500]}")

        latency = time_asks(ask_http, qs)
        return {
            "ready_s": ready,
            "peak_rss_mb": status_mb("VmHWM", proc.pid),
            "rss_mb": status_mb("VmRSS", proc.pid),
            **latency,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=50_000, help="size of the largest index (default 50000)")
    parser.add_argument(
        "--langchain-passages", type=int, default=5_000,
        help="run the LangChain recipe on the documents of the first N passages (default 5000)",
    )  # fmt: skip
    parser.add_argument("--workdir", type=Path, help="keep the corpus and index here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)

    from zonebot import ZoneBot

    started = time.perf_counter()
    tmp = tempfile.TemporaryDirectory()
    work = args.workdir or Path(tmp.name)
    corpus, index = work / "corpus", work / "index"
    log = lambda msg: print(f"[{time.perf_counter() - started:7.1f}s] {msg}", flush=True)  # noqa: E731

    gemm = gemm_gflops()
    log(f"fp32 GEMM: {gemm} GFLOP/s")

    per_doc = 26.0  # passages per synthetic document, checked below
    n_docs = max(1, round(args.passages / per_doc))
    stages = [s for s in (1_000, 10_000) if s < args.passages] + [args.passages]
    sentences = scaled_corpus.seed_sentences()
    staging = work / "staging"
    paths = scaled_corpus.write_corpus(staging, n_docs, SENTENCES_PER_DOC)
    zones = [p.read_text(encoding="utf-8").split(" annual report", 1)[0] for p in paths]
    del sentences
    log(f"wrote {n_docs} documents ({sum(p.stat().st_size for p in paths) / 1e6:.1f} MB) to {staging}")

    # The LangChain recipe first, on the documents holding the first N passages (its figures
    # are then on record even when the long zonebot run is cut short).
    count = token_counter()
    lc_docs = max(1, min(n_docs, round(args.langchain_passages / per_doc)))
    lc_corpus = work / "langchain-corpus"
    lc_corpus.mkdir()
    for p in paths[:lc_docs]:
        (lc_corpus / p.name).write_bytes(p.read_bytes())
    lc_corpus_tokens = sum(count([p.read_text(encoding="utf-8") for p in paths[:lc_docs]]))
    log(f"LangChain recipe on {lc_docs} documents ...")
    lc = run_langchain(lc_corpus)
    log(f"LangChain recipe: {lc['chunks']} chunks, {lc_corpus_tokens:,} corpus tokens in {lc['seconds']:.1f}s "
        f"= {lc_corpus_tokens / lc['seconds']:,.0f} corpus tokens/s")  # fmt: skip

    bot = ZoneBot(corpus_dir=corpus, index_dir=index)
    bot.embedder.embed(["warm up"])
    embed_seconds = 0.0
    original_embed = bot.embedder.embed

    def timed_embed(texts, show_progress=False):  # type: ignore[no-untyped-def]
        nonlocal embed_seconds
        t0 = time.perf_counter()
        try:
            return original_embed(texts, show_progress=show_progress)
        finally:
            if len(texts) > 1:  # passages being ingested, not a question
                embed_seconds += time.perf_counter() - t0

    bot.embedder.embed = timed_embed  # type: ignore[method-assign]
    qs = questions(zones)
    corpus.mkdir(parents=True)
    done_docs, ingest_seconds, results, embedded_texts = 0, 0.0, [], 0
    for target in stages:
        want = min(n_docs, max(done_docs + 1, round(target / per_doc)))
        for p in paths[done_docs:want]:
            p.rename(corpus / p.name)
        done_docs = want
        t0 = time.perf_counter()
        report = bot.ingest()
        seconds = time.perf_counter() - t0
        ingest_seconds += seconds
        per_doc = report.passages / done_docs
        lat = time_asks(bot.ask, qs)
        embedded_texts += report.embedded
        results.append({"passages": report.passages, "docs": done_docs, "ingest_s": seconds, **lat})
        log(f"{report.passages} passages ({done_docs} docs): ingest {seconds:.1f}s "
            f"({report.embedded} sentences), ask p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, "
            f"peak RSS {peak_rss_mb():,.0f} MB, load {os.getloadavg()[0]:.1f}")  # fmt: skip

    snapshot = bot.snapshot
    sentence_texts = [s for p in snapshot.passages for s in p.sentence_texts()]
    distinct = list(dict.fromkeys(sentence_texts))
    all_sentence_tokens = sum(count(sentence_texts))
    zb_embedded_tokens = sum(count(distinct))
    log(f"sentences: {len(sentence_texts):,}, distinct {len(distinct):,}, embedded by the ingests {embedded_texts:,}")
    corpus_files = sorted(corpus.iterdir())
    corpus_tokens = sum(count([p.read_text(encoding="utf-8") for p in corpus_files]))
    zb_rss = peak_rss_mb()
    total_passages = len(snapshot.passages)
    log(f"zonebot: {total_passages} passages, {corpus_tokens:,} corpus tokens, {ingest_seconds:.1f}s ingest")
    chat = chat_process(corpus, index, qs)
    log(f"chat server at {total_passages} passages: ready in {chat['ready_s']:.1f}s, HTTP ask p50 {chat['p50']:.0f} ms, "
        f"p95 {chat['p95']:.0f} ms, peak RSS {chat['peak_rss_mb']:,.0f} MB")  # fmt: skip

    avg_sentence_tokens = zb_embedded_tokens / max(1, len(distinct))
    enc = encoder_rates(lc_corpus, distinct, original_embed)
    log(f"encoders alone: {enc}")
    flops = flops_per_token(avg_sentence_tokens)
    best_gemm = max(gemm.values())
    ceiling = best_gemm * 1e9 / flops
    zb_tps = corpus_tokens / ingest_seconds
    lc_tps = lc_corpus_tokens / lc["seconds"]
    zb_embed_tps = zb_embedded_tokens / embed_seconds
    last = results[-1]
    # What the ingest would have cost had every sentence been embedded, at the measured embedding rate.
    no_reuse_seconds = ingest_seconds + (all_sentence_tokens - zb_embedded_tokens) / zb_embed_tps
    no_reuse_ratio = corpus_tokens / no_reuse_seconds / lc_tps

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        "# zonebot scale benchmark",
        "",
        f"`python benchmarks/run.py --passages {args.passages} --langchain-passages {args.langchain_passages}` "
        f"(zonebot embedding backend: {bot.embedder.backend}) "
        f"on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d')}; total run {(time.perf_counter() - started) / 60:.1f} min; "
        f"load average at the end {os.getloadavg()[0]:.1f} (other work on the machine slows every figure).",
        "",
        "## Machine and model ceiling",
        "",
        f"- fp32 GEMM (1024x1024, measured in this run): torch {gemm['torch']} GFLOP/s, numpy {gemm['numpy']} GFLOP/s",
        f"- all-MiniLM-L6-v2: {flops / 1e6:.1f} MFLOP per token (2 x encoder weights + attention at "
        f"{avg_sentence_tokens:.0f}-token inputs)",
        f"- embedding ceiling: {best_gemm:.0f} GFLOP/s / {flops / 1e6:.1f} MFLOP = **{ceiling:,.0f} tokens/s**",
        "",
        "## Ingest throughput (same synthetic corpus)",
        "",
        "Corpus tokens = the model's word pieces in the raw files; throughput = corpus tokens / wall-clock ingest.",
        "",
        "| pipeline | docs | passages/chunks | corpus tokens | seconds | passages/s | corpus tokens/s |",
        "|---|---|---|---|---|---|---|",
        f"| zonebot (incremental, {len(stages)} steps) | {len(corpus_files)} | {total_passages:,} | {corpus_tokens:,} | "
        f"{ingest_seconds:.1f} | {total_passages / ingest_seconds:.1f} | {zb_tps:,.0f} |",
        f"| LangChain recipe (1000/200 chars) | {lc_docs} | {lc['chunks']:,} | {lc_corpus_tokens:,} | "
        f"{lc['seconds']:.1f} | {lc['chunks'] / lc['seconds']:.1f} | {lc_tps:,.0f} |",
        "",
        f"- zonebot embeds each distinct sentence once: {embedded_texts:,} of {len(sentence_texts):,} sentences "
        f"({1 - len(distinct) / len(sentence_texts):.0%} of this synthetic corpus's sentences repeat another "
        f"verbatim; real corpora repeat less), {zb_embedded_tokens:,} word pieces = "
        f"{zb_embedded_tokens / corpus_tokens:.2f}x the corpus (every sentence would be {all_sentence_tokens:,} = "
        f"{all_sentence_tokens / corpus_tokens:.2f}x); the recipe embeds "
        f"{lc['embedded_tokens']:,} ({lc['embedded_tokens'] / lc_corpus_tokens:.2f}x its corpus: 200-char overlaps, "
        f"and chunks past 256 word pieces truncated, {lc['chunk_tokens'] - lc['embedded_tokens']:,} word pieces never embedded).",
        f"- zonebot's embedding step: {zb_embed_tps:,.0f} tokens/s = {zb_embed_tps / ceiling:.0%} of the ceiling; "
        f"whole ingest {zb_embedded_tokens / ingest_seconds:,.0f} embedded tokens/s = "
        f"{zb_embedded_tokens / ingest_seconds / ceiling:.0%} of the ceiling.",
        f"- Encoders alone, same run ({enc['chunks']} recipe chunks, {enc['sentences']} zonebot sentences): torch "
        f"fp32 on the recipe's chunks (batch 32, as HuggingFaceEmbeddings) {enc['torch_chunks']:,.0f} tokens/s; "
        f"zonebot's {bot.embedder.backend} on its sentences {enc['zonebot_sentences']:,.0f} tokens/s = "
        f"**{enc['zonebot_sentences'] / enc['torch_chunks']:.2f}x** per token. The rest of the ingest ratio comes "
        f"from embedding fewer tokens (repeats) and from the two pipelines' other costs.",
        "",
        "## ask() latency (extractive answerer, hybrid retrieval, warm)",
        "",
        "| passages | documents | ingest step (s) | p50 ms | p95 ms | questions |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['passages']:,} | {r['docs']} | {r['ingest_s']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['n']} |"
              for r in results]  # fmt: skip
    lines += [
        "",
        "## Memory",
        "",
        f"- **chat process** (`zonebot serve` on the {total_passages:,}-passage index, {chat['n']} questions over "
        f"HTTP): peak RSS **{chat['peak_rss_mb']:,.0f} MB**; ready to serve in {chat['ready_s']:.1f} s; "
        f"HTTP ask p50 {chat['p50']:.0f} ms, p95 {chat['p95']:.0f} ms",
        f"- benchmark process (ingests every step, then asks): peak RSS {zb_rss:,.0f} MB",
        f"- LangChain recipe process peak RSS: {lc['peak_rss_mb']:,.0f} MB",
        "",
        "## Against the targets",
        "",
        "| target | result | |",
        "|---|---|---|",
        f"| ingest corpus tokens/s >= {TARGETS['ingest_ratio']:.0f}x the LangChain recipe | "
        f"{zb_tps / lc_tps:.2f}x | {verdict(zb_tps / lc_tps >= TARGETS['ingest_ratio'])} |",
        f"| (estimate) the same, had every repeated sentence been embedded again | {no_reuse_ratio:.2f}x | "
        f"{verdict(no_reuse_ratio >= TARGETS['ingest_ratio'])} |",
        f"| ask p95 <= {TARGETS['ask_p95_ms']:.0f} ms at {last['passages']:,} passages | {last['p95']:.0f} ms | "
        f"{verdict(last['p95'] <= TARGETS['ask_p95_ms'])} |",
        f"| chat process peak memory <= {TARGETS['peak_rss_gb']} GB | {chat['peak_rss_mb'] / 1024:.2f} GB | "
        f"{verdict(chat['peak_rss_mb'] / 1024 <= TARGETS['peak_rss_gb'])} |",
    ]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
