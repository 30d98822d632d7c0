"""The ``zonebot`` command: a thin shell over ``ZoneBot``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import settings_help
from .errors import ZoneBotError


def _bot(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .bot import ZoneBot

    return ZoneBot(corpus_dir=args.corpus, index_dir=args.index, chroma_url=getattr(args, "chroma_url", None),
                   llm=getattr(args, "llm", None))  # fmt: skip


def _progress(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    bot = _bot(args)
    report = bot.ingest(wait=args.wait, progress=_progress, show_progress=sys.stderr.isatty())
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from .citations import quoted

    bot = _bot(args)
    bot.ensure_index(progress=_progress)
    history = _read_history(args.history) if args.history else None
    answer = bot.ask(args.question, history=history, sources=args.source)
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(answer.text)
    for c in answer.citations:
        print(f"\n[{c.n}] {c.title} ({c.source})\n    {quoted(c.quote)}")
    for note in answer.notes:
        print(f"\nnote: {note}", file=sys.stderr)
    return 0


def _read_history(path: str) -> object:
    """The --history file's JSON; turns that are not messages are left out later (``validation.clean_history``)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ZoneBotError(f"--history {path}: cannot read it as JSON ({exc})") from None
    except RecursionError:  # the JSON decoder recurses once per nesting level
        raise ZoneBotError(f"--history {path}: cannot read it as JSON (nested too deeply; a history is "
                           '[{"role": "user", "content": "..."}, ...])') from None  # fmt: skip


def cmd_eval(args: argparse.Namespace) -> int:
    if args.from_feedback:
        return _feedback_drafts(args.from_feedback)
    if not args.qa:
        raise ZoneBotError("eval needs --qa FILE (or --from-feedback FILE to draft QA items)")
    from tqdm import tqdm

    from .evaluation import METRICS, check_thresholds, evaluate, failures, load_qa, markdown

    items = load_qa(args.qa)
    bot = _bot(args)
    bot.ensure_index(progress=_progress)
    with tqdm(total=len(items), desc="evaluating", unit="q", file=sys.stderr) as bar:
        report = evaluate(bot, items, retrieval=args.retrieval, on_item=lambda _i: bar.update(1))
    m = report["metrics"]
    print(f"\n{m['items']} items ({m['answerable']} answerable, {m['unanswerable']} unanswerable), "
          f"{report['retrieval']} retrieval")  # fmt: skip
    for name in METRICS:
        print(f"  {name:<22} {m[name]}")
    if report["by_kind"]:
        print("\nby kind:")
        for kind, v in report["by_kind"].items():
            print(f"  {kind:<16} {v['items']:>4} items  accuracy {v['accuracy']:<6}  false abstention {v['false_abstention']}")
    fails = failures(report)
    if fails:
        print(f"\nfailures ({len(fails)}):")
        for r in fails:
            got = "(abstained)" if r["abstained"] else r["answer"][:140]
            exp = "(abstain)" if not r["answerable"] else r["expected"]
            print(f"  {r['id']}: {r['question']}\n      expected: {exp}\n      got:      {got}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    if args.markdown:
        Path(args.markdown).write_text(markdown(report))
    broken = check_thresholds(m, args.fail_under or [])
    for b in broken:
        print(f"FAIL: {b}", file=sys.stderr)
    return 1 if broken else 0


def cmd_fit_decision(args: argparse.Namespace) -> int:
    from .evaluation import load_qa
    from .fitting import fit

    sets = [load_qa(path) for path in args.qa]
    bot = _bot(args)
    bot.ensure_index(progress=_progress)
    decision, points = fit(bot, sets, args.max_false_abstention)
    name = "verified.json" if bot.settings.verifier == "on" else "decision.json"
    out = Path(args.out) if args.out else Path(__file__).parent / "data" / name
    out.write_text(json.dumps(decision.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"fit on {sum(len(s) for s in sets)} items of {len(sets)} QA set(s), each weighing the same; wrote {out}")
    print("\n| feature | weight |\n|---|---|")
    for f, w in decision.weights.items():
        print(f"| {f} | {w} |")
    print(f"| (bias) | {decision.bias} |\n\nthreshold {decision.threshold}, floors {decision.floors}\n")
    print("| threshold | answer accuracy | abstention accuracy | false abstention |\n|---|---|---|---|")
    for p in points:
        if p["floors"] != decision.floors:
            continue
        mark = " **chosen**" if p["threshold"] == decision.threshold else ""
        print(f"| {p['threshold']}{mark} | {p['answer_accuracy']} | {p['abstention_accuracy']} | "
              f"{p['false_abstention_rate']} |")  # fmt: skip
    return 0


def cmd_train_verifier(args: argparse.Namespace) -> int:
    import tempfile

    from .training.data import build
    from .training.train import train

    parts = sorted(p for p in Path(args.data).iterdir() if (p / "questions.jsonl").is_file())
    if not parts:
        raise ZoneBotError(f"no training data in {args.data}: expected folders with docs/ and questions.jsonl")
    with tempfile.TemporaryDirectory(prefix="zonebot-train-index-") as work:
        mined = build(parts, Path(work), negatives=args.negatives, limit=args.limit,
                      log=lambda m: print(m, file=sys.stderr))  # fmt: skip
    if args.pairs:
        Path(args.pairs).write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in mined.pairs))
    print(f"{len(mined.pairs)} pairs from {len(parts)} part(s): {dict(mined.counts)}", file=sys.stderr)
    out = Path(args.out) if args.out else Path(__file__).parent / "data" / "verifier"
    done = train(mined.pairs, out, epochs=args.epochs, seed=args.seed, max_steps=args.max_steps,
                 info={"data": [p.name for p in parts], "mined": dict(mined.counts)})  # fmt: skip
    print(f"trained in {done['seconds']} s ({done['steps']} steps, loss {done['train_loss']}); wrote {out}")
    return 0


def _feedback_drafts(path: str) -> int:
    """Print the thumbs-down answers of a feedback log as draft QA items (JSON Lines) to label."""
    from .feedback import draft_qa_items

    drafts = draft_qa_items(Path(path))
    for item in drafts:
        print(json.dumps(item, ensure_ascii=False))
    print(f"{len(drafts)} draft QA item(s) from thumbs-down feedback; label them, then add them to a QA file",
          file=sys.stderr)  # fmt: skip
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .ui import serve

    serve(host=args.host, port=args.port, corpus_dir=args.corpus, index_dir=args.index,
          chroma_url=args.chroma_url, llm=args.llm)  # fmt: skip
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zonebot",
        description="Cited answers about Shanghai's industrial zones from the documents in a corpus folder.",
        epilog="settings (environment variables; the options above override them):\n" + settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", help="corpus folder (default ./corpus, env ZONEBOT_CORPUS_DIR)")
    common.add_argument("--index", help="index folder (default ./index, env ZONEBOT_INDEX_DIR)")
    common.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 (env ZONEBOT_CHROMA_URL)")
    common.add_argument("--llm", choices=["extractive", "openai", "ollama"],
                        help="answerer (default extractive, env ZONEBOT_LLM)")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="build or update the index from the corpus folder",
                       description="Index new and changed files, drop deleted ones; unchanged files cost nothing.")  # fmt: skip
    p.add_argument("--wait", action="store_true", help="wait for a running ingest instead of refusing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", parents=[common], help="answer one question with citations",
                       description="Answer a question from the corpus; builds the index first if needed.")  # fmt: skip
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--history", help="JSON file with earlier messages [{role, content}, ...] for a follow-up")
    p.add_argument("--source", action="append", metavar="FILE",
                   help="answer from this document only (a file name as in the corpus folder); repeat for several")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the whole answer (citations, passages) as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", parents=[common], help="score answers over a QA set (JSON Lines)",
                       description="Answer every question of a QA file and report accuracy, citation, "
                                   "abstention, retrieval and latency metrics.")  # fmt: skip
    p.add_argument("--qa", help="QA file, JSON Lines (see README); required unless --from-feedback")
    p.add_argument("--from-feedback", metavar="FILE",
                   help="print the thumbs-down answers of FILE (index/feedback.jsonl) as draft QA items instead")  # fmt: skip
    p.add_argument("--json", metavar="OUT", help="write metrics and per-item results as JSON")
    p.add_argument("--markdown", metavar="OUT", help="write the metrics and failures table as Markdown")
    p.add_argument("--retrieval", choices=["dense", "bm25", "hybrid"], help="retrieval mode (default hybrid)")
    p.add_argument("--fail-under", action="append", metavar="METRIC=VALUE",
                   help="exit 1 when METRIC is below VALUE (above, for latency and false_abstention_rate)")  # fmt: skip
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("fit-decision", parents=[common], help="refit the answer decision on labelled QA sets",
                       description="Fit the logistic answer decision on QA sets and choose its threshold "
                                   "(needs scikit-learn, in the dev extra).")  # fmt: skip
    p.add_argument("--qa", required=True, action="append", help="QA file (JSON Lines); repeat for several")
    p.add_argument("--out", help="where to write the decision (default: the package's data/decision.json)")
    p.add_argument("--max-false-abstention", type=float, default=0.10,
                   help="the threshold keeps false abstention at or below this (default 0.10)")  # fmt: skip
    p.set_defaults(func=cmd_fit_decision)

    p = sub.add_parser("train-verifier", help="train the answer verifier on the training data",
                       description="Mine (question, sentence) pairs from the training documents with zonebot's own "
                                   "retrieval and fine-tune the cross-encoder verifier (needs the train extra; "
                                   "about 30-50 min on 2 cores for the shipped data).")  # fmt: skip
    p.add_argument("--data", default="training/data", help="folder of parts, each with docs/ and questions.jsonl")
    p.add_argument("--out", help="where to write the weights (default: the package's data/verifier)")
    p.add_argument("--epochs", type=float, default=1.0, help="passes over the pairs (default 1)")
    p.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (default: no limit)")
    p.add_argument("--negatives", type=int, default=4, help="hard negatives per ask from the shortlist (default 4)")
    p.add_argument("--limit", type=int, default=None, help="asks per part (default: all)")
    p.add_argument("--seed", type=int, default=13, help="random seed (default 13)")
    p.add_argument("--pairs", metavar="OUT", help="also write the mined pairs as JSON Lines")
    p.set_defaults(func=cmd_train_verifier)

    p = sub.add_parser("serve", parents=[common], help="start the chat web UI",
                       description="Start the Gradio chat; builds the index first when missing or stale.")  # fmt: skip
    p.add_argument("--host", default=None, help="address to bind (default 127.0.0.1, env ZONEBOT_HOST)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860, env ZONEBOT_PORT)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ZoneBotError as exc:
        print(f"zonebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zonebot: interrupted; the previous index is still in place", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: one line instead of a traceback
        print(f"zonebot: unexpected error ({type(exc).__name__}: {exc}); please report it with the command "
              "you ran", file=sys.stderr)  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
