"""The Documents tab: the indexed documents as cards, their cleaned text, and managing the corpus
(upload, delete, re-index) through ``ZoneBot``'s own ``add_document`` / ``remove_document`` / ``ingest``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio as gr

from ..bot import ZoneBot
from ..corpus import MAX_UPLOAD_BYTES, UPLOAD_SUFFIXES
from ..errors import CorpusError, IngestLockedError, ZoneBotError
from ..models import IngestReport
from .render import document_cards, esc, problem_html

REFUSED = (
    "Adding and deleting documents is turned off: this server is reachable from other machines without a "
    "login. Whoever runs it can turn it on by requiring a login (ZONEBOT_AUTH=user:password) or by serving "
    "on 127.0.0.1 only."
)
BUSY = "Another update of the index is running right now. Try again when it has finished."

#: Where each ingest phase starts on the progress bar (the embedding phase takes the most time).
_PHASES = (("reading", 0.05), ("splitting", 0.3), ("embedding", 0.4), ("writing vector store", 0.8),
           ("writing lexical", 0.9))  # fmt: skip
_COUNT = re.compile(r"(\d+)/(\d+)")


def _ok(text: str) -> str:
    return f'<div class="zb-ok" role="status">{esc(text)}</div>'


def _report_text(report: IngestReport) -> str:
    parts = []
    for label, names in (("Added", report.added), ("Updated", report.updated), ("Removed", report.removed)):
        if names:
            parts.append(f"{label}: {', '.join(names)}.")
    parts += [f"Not indexed: {s.source} ({s.reason})." for s in report.skipped]
    docs = "no change to the documents" if not parts else " ".join(parts)
    return f"Index updated in {report.seconds:.1f} s: {docs}"


def run_ingest(bot: ZoneBot, progress: gr.Progress) -> str:
    """Bring the index in line with the corpus folder, moving the progress bar; the outcome as HTML."""

    def step(message: str) -> None:
        start = next((at for name, at in _PHASES if message.startswith(name)), None)
        if start is None:
            return
        count = _COUNT.search(message)
        if message.startswith("reading") and count:
            start += 0.25 * int(count.group(1)) / max(1, int(count.group(2)))
        progress(start, desc=message)

    progress(0.01, desc="checking the corpus folder")
    try:
        report = bot.ingest(progress=step)
    except IngestLockedError:
        return problem_html(BUSY)
    except ZoneBotError as exc:
        return problem_html(f"The index could not be updated: {exc}")
    progress(1.0, desc="done")
    return _ok(_report_text(report))


def _index_line(bot: ZoneBot) -> str:
    docs = bot.documents()
    built = bot.snapshot.created.replace("T", " ").replace("+0000", " UTC")
    n = sum(int(d.get("passages") or 0) for d in docs)
    return f'<div class="zb-index">{len(docs)} documents · {n} passages · index built {esc(built)}</div>'


def _refresh(bot: ZoneBot, selected: str | None = None) -> tuple[Any, Any, Any]:
    """The header line, the cards and the document picker (keeping ``selected`` while it exists)."""
    docs = sorted(bot.documents(), key=lambda d: d["source"].lower())
    choices = [(f"{d.get('title') or d['source']} ({d['source']})", d["source"]) for d in docs]
    keep = selected if selected in {d["source"] for d in docs} else None
    return _index_line(bot), document_cards(docs), gr.update(choices=choices, value=keep)


def _add(bot: ZoneBot, files: list[Any] | None, progress: gr.Progress) -> str:
    """Store each uploaded file in the corpus, then ingest; what happened, as HTML."""
    added, problems = [], []
    for f in files or []:
        path = Path(f if isinstance(f, str) else getattr(f, "name", str(f)))
        try:
            added.append(bot.add_document(path.name, path.read_bytes()))
        except CorpusError as exc:
            problems.append(str(exc))
        except OSError as exc:
            problems.append(f"{path.name}: could not be read ({exc.strerror})")
    if not files:
        problems.append("Choose one or more files first.")
    out = "".join(problem_html(p) for p in problems)
    if added:
        out = run_ingest(bot, progress) + out
    return out


def build_documents_tab(bot: ZoneBot, index_info: gr.HTML, demo: gr.Blocks, allow_changes: bool) -> None:
    """The Documents tab's components and events, inside the current Blocks context."""
    cards = gr.HTML(elem_id="zb-docs")
    with gr.Row():
        picker = gr.Dropdown(label="Document", choices=[], scale=4, elem_id="zb-doc-pick")
        refresh = gr.Button("Refresh", size="sm", scale=1, min_width=80, elem_id="zb-refresh")
    doc_text = gr.Textbox(label="Cleaned text", lines=12, max_lines=30, interactive=False, buttons=["copy"],
                          elem_id="zb-doc-text")  # fmt: skip
    listing = [index_info, cards, picker]
    ui: dict[str, Any] = {"api_visibility": "private"}
    for trigger in (demo.load, refresh.click):
        trigger(lambda selected: _refresh(bot, selected), picker, listing, **ui)
    picker.change(lambda s: (bot.document_text(s) or f"{s} is no longer in the index.") if s else "",
                  picker, doc_text, **ui)  # fmt: skip
    if allow_changes:
        _build_corpus_changes(bot, picker, listing, doc_text)
    else:
        gr.HTML(problem_html(REFUSED), padding=False)


def _build_corpus_changes(bot: ZoneBot, picker: gr.Dropdown, listing: list[Any], doc_text: gr.Textbox) -> None:
    """Delete (after a confirmation), upload and re-index, for a server where changes are allowed."""
    with gr.Row(elem_id="zb-delete-row"):
        delete = gr.Button("Delete this document…", size="sm", variant="stop", elem_id="zb-delete")
    with gr.Row(visible=False, elem_id="zb-confirm") as confirm:
        question = gr.HTML(padding=False)
        yes = gr.Button("Delete it", variant="stop", size="sm", min_width=80, elem_id="zb-confirm-delete")
        no = gr.Button("Cancel", size="sm", min_width=80, elem_id="zb-cancel-delete")
    limit = f"{MAX_UPLOAD_BYTES // 2**20} MB"
    upload = gr.File(label=f"Add documents ({', '.join(UPLOAD_SUFFIXES)}; up to {limit} each)",
                     file_count="multiple", file_types=list(UPLOAD_SUFFIXES), type="filepath",
                     elem_id="zb-upload")  # fmt: skip
    with gr.Row():
        add = gr.Button("Add to corpus", variant="primary", size="sm", elem_id="zb-add")
        reindex = gr.Button("Re-index", size="sm", elem_id="zb-reindex")
    status = gr.HTML(elem_id="zb-corpus-status", padding=False)

    def ask_to_delete(source: str | None):  # type: ignore[no-untyped-def]
        if not source:
            return gr.update(visible=False), "", problem_html("Choose a document to delete first.")
        text = f"Delete <strong>{esc(source)}</strong> from the corpus folder and the index? This removes the file."
        return gr.update(visible=True), f'<div class="zb-confirm-text">{text}</div>', ""

    def delete_it(source: str | None, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        try:
            bot.remove_document(source or "")
        except CorpusError as exc:
            return gr.update(visible=False), problem_html(str(exc)), *_refresh(bot, source), gr.skip()
        return gr.update(visible=False), run_ingest(bot, progress), *_refresh(bot), ""

    def add_files(files: list[Any] | None, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        return _add(bot, files, progress), None, *_refresh(bot)

    def reindex_all(selected: str | None, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        return run_ingest(bot, progress), *_refresh(bot, selected)

    ui: dict[str, Any] = {"api_visibility": "private"}
    delete.click(ask_to_delete, picker, [confirm, question, status], queue=False, **ui)
    no.click(lambda: gr.update(visible=False), None, confirm, queue=False, **ui)
    # The progress bar goes on the status line only, not over every card the ingest refreshes.
    yes.click(delete_it, picker, [confirm, status, *listing, doc_text], show_progress_on=status, **ui)
    add.click(add_files, upload, [status, upload, *listing], show_progress_on=status, **ui)
    reindex.click(reindex_all, picker, [status, *listing], show_progress_on=status, **ui)
