"""Readers' verdicts on answers: appended to ``feedback.jsonl`` and turned into draft QA items.

One JSON object per line: ``time``, ``question``, ``history``, ``answer``, ``abstained``,
``citations``, ``verdict`` (``"up"`` or ``"down"``), ``note``. A later line about the same
answer (a note added after the thumb) supersedes the earlier one.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import ZoneBotError

#: The feedback log's name inside the index folder.
FEEDBACK_FILE = "feedback.jsonl"
VERDICTS = ("up", "down")

_write_lock = threading.Lock()  # several UI sessions may append at once


def feedback_path(index_dir: Path) -> Path:
    return Path(index_dir) / FEEDBACK_FILE


def record_feedback(path: Path, turn: dict[str, Any], verdict: str, note: str = "") -> dict[str, Any]:
    """Append one verdict on an answer; ``turn`` holds question, history, answer, abstained, citations."""
    if verdict not in VERDICTS:
        raise ZoneBotError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": turn.get("question", ""),
        "history": turn.get("history") or [],
        "answer": turn.get("answer", ""),
        "abstained": bool(turn.get("abstained")),
        "citations": turn.get("citations") or [],
        "verdict": verdict,
        "note": note.strip(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with _write_lock, path.open("a", encoding="utf-8") as fh:
        fh.write(line)  # one write of one line: lines from several processes do not interleave
    return entry


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """The feedback entries, the latest per answer (question, history and answer text)."""
    latest: dict[str, dict[str, Any]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ZoneBotError(f"cannot read feedback file {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise ZoneBotError(f"{path}, line {number}: not valid JSON") from None
        key = json.dumps([entry.get("question"), entry.get("history"), entry.get("answer")])
        latest.pop(key, None)  # re-inserted, so the order follows the latest verdict
        latest[key] = entry
    return list(latest.values())


def draft_qa_items(path: Path) -> list[dict[str, Any]]:
    """Thumbs-down answers as draft QA items (the ``eval/qa.jsonl`` format) for a person to label."""
    drafts = []
    for entry in (e for e in read_feedback(path) if e.get("verdict") == "down"):
        sources = sorted({c.get("source") for c in entry.get("citations") or [] if c.get("source")})
        item: dict[str, Any] = {
            "id": f"feedback-{len(drafts) + 1:03d}",
            "question": entry.get("question", ""),
            "answerable": True,
            "must_include": [],
            "evidence": [],
            "source": sources[0] if len(sources) == 1 else None,
            "draft": {"answer_given": entry.get("answer", ""), "abstained": entry.get("abstained", False),
                      "note": entry.get("note", ""), "time": entry.get("time"),
                      "todo": "fill must_include and evidence, or set answerable to false"},
        }  # fmt: skip
        if entry.get("history"):
            item["history"] = entry["history"]
        drafts.append(item)
    return drafts
