"""Readers' verdicts on answers: appended to ``feedback.jsonl`` and turned into draft QA items.

One JSON object per line: ``time``, ``question``, ``history``, ``answer``, ``abstained``,
``citations``, ``verdict`` (``"up"`` or ``"down"``), ``note``. A later line about the same
answer (a note added after the thumb) supersedes the earlier one.

Writes are bounded (``FeedbackLimits``): a note has a length limit, a record a size limit (the oldest
history turns are left out to fit), and the file rotates like a log (``feedback.jsonl.1`` … ``.N``).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import FeedbackRefused, ZoneBotError

#: The feedback log's name inside the index folder.
FEEDBACK_FILE = "feedback.jsonl"
VERDICTS = ("up", "down")

_write_lock = threading.Lock()  # several UI sessions may append at once


@dataclass(frozen=True)
class FeedbackLimits:
    """How much one record and the log may hold. Defaults as in ``Settings``."""

    note_chars: int = 2000
    record_bytes: int = 64 * 1024
    file_bytes: int = 10 * 2**20  #: past this the file rotates
    backups: int = 5  #: rotated files kept; 0: the full file is dropped

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackLimits:
        return cls(settings.feedback_note_chars, int(settings.feedback_record_bytes),
                   int(settings.feedback_file_bytes), settings.feedback_backups)  # fmt: skip


def feedback_path(index_dir: Path) -> Path:
    return Path(index_dir) / FEEDBACK_FILE


def record_feedback(
    path: Path, turn: dict[str, Any], verdict: str, note: str = "", limits: FeedbackLimits | None = None
) -> dict[str, Any]:
    """Append one verdict on an answer; ``turn`` holds question, history, answer, abstained, citations.

    Raises ``FeedbackRefused`` (nothing written) when the note is over ``limits.note_chars`` or the record
    cannot be brought under ``limits.record_bytes`` by leaving out earlier history turns.
    """
    limits = limits or FeedbackLimits()
    if verdict not in VERDICTS:
        raise ZoneBotError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    note = (note or "").strip()
    if len(note) > limits.note_chars:
        raise FeedbackRefused(f"the note is {len(note):,} characters; notes can be up to {limits.note_chars:,}")
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": turn.get("question", ""),
        "history": list(turn.get("history") or []),
        "answer": turn.get("answer", ""),
        "abstained": bool(turn.get("abstained")),
        "citations": turn.get("citations") or [],
        "verdict": verdict,
        "note": note,
    }
    line = _line_within(entry, limits.record_bytes)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock:
        if path.is_file() and path.stat().st_size + len(line) > limits.file_bytes:
            _rotate(path, limits.backups)
        with path.open("ab") as fh:
            fh.write(line)  # one write of one line: lines from several processes do not interleave
    return entry


def _line_within(entry: dict[str, Any], limit: int) -> bytes:
    """The entry as one UTF-8 JSON line of at most ``limit`` bytes, leaving out its oldest history turns."""
    while True:
        # "replace": a lone surrogate sent over HTTP cannot be written as UTF-8
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        if len(line) <= limit:
            return line
        if not entry["history"]:
            raise FeedbackRefused(f"this feedback record is {len(line):,} bytes; the limit is {limit:,}")
        del entry["history"][: max(1, len(entry["history"]) // 2)]


def _rotate(path: Path, backups: int) -> None:
    """``feedback.jsonl`` becomes ``.1``, ``.1`` becomes ``.2`` … up to ``.N`` (the oldest is dropped), as
    logging's ``RotatingFileHandler`` names them; that handler is not used because it swallows write errors."""
    if backups < 1:
        path.unlink()
        return
    for n in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
    os.replace(path, path.with_name(f"{path.name}.1"))


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
