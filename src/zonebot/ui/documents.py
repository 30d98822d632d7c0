"""The Documents tab: the indexed documents as cards, their cleaned text, and managing the corpus
(upload, delete, re-index) through ``ZoneBot``'s own ``add_document`` / ``remove_document`` / ``ingest``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..bot import ZoneBot
from ..corpus import MAX_UPLOAD_BYTES, UPLOAD_SUFFIXES
from ..errors import CorpusError, DocumentExistsError, IngestLockedError, ZoneBotError
from ..models import IngestReport
from .render import CHOOSE_CARD_JS, document_cards, esc, problem_html

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
    """The header line, the cards and the document picker (keeping ``selected`` while it exists); files the index
    leaves out (a duplicate) are listed and can be chosen too, to be deleted."""
    docs = sorted(bot.documents(), key=lambda d: d["source"].lower())
    skipped = bot.not_indexed()
    choices = [(f"{d.get('title') or d['source']} ({d['source']})", d["source"]) for d in docs]
    choices += [(f"{f['source']} (not indexed)", f["source"]) for f in skipped]
    keep = selected if selected in {value for _, value in choices} else None
    return _index_line(bot), document_cards(docs, skipped), gr.update(choices=choices, value=keep)


def _reading(bot: ZoneBot, source: str | None) -> Any:
    """The cleaned text box for ``source``: its text, why it is not indexed, or hidden when none is chosen."""
    if not source:
        return gr.update(value="", visible=False)
    text = bot.document_text(source)
    if text is None:
        why = next((f["reason"] for f in bot.not_indexed() if f["source"] == source), "it is no longer in the index")
        text = f"{source} is not indexed: {why}. Delete it to remove the file from the corpus folder."
    return gr.update(value=text, visible=True)


def _uploaded(files: list[Any] | None) -> list[tuple[str, Path]]:
    """``(file name as uploaded, path in Gradio's upload cache)`` of each file (the cache keeps the name)."""
    paths = [Path(f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", str(f))) for f in files or []]
    return [(p.name, p) for p in paths]


def _store(bot: ZoneBot, files: list[tuple[str, Path]],
           if_exists: str) -> tuple[list[str], list[dict[str, str]], list[str]]:  # fmt: skip
    """Each uploaded ``(name, path)`` into the corpus: what was stored, what is there already (``{"name", "path",
    "source"}``, for the user to decide), and problems. Two files of one upload that get one name are both kept."""
    stored: list[str] = []
    clashes: list[dict[str, str]] = []
    problems: list[str] = []
    for name, path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(f"{name}: could not be read ({exc.strerror})")
            continue
        try:
            stored.append(bot.add_document(name, data, if_exists=if_exists))
        except DocumentExistsError as exc:
            if exc.source in stored:  # a clash inside this upload, not with a document already there
                stored.append(bot.add_document(name, data, if_exists="rename"))
            else:
                clashes.append({"name": name, "path": str(path), "source": exc.source})
        except CorpusError as exc:
            problems.append(str(exc))
    return stored, clashes, problems


def _clash_question(clashes: list[dict[str, str]]) -> str:
    names = ", ".join(f"<strong>{esc(c['source'])}</strong>" for c in clashes)
    one = len(clashes) == 1
    return (f'<div class="zb-confirm-text">{names} {"is" if one else "are"} already in the corpus. Replace '
            f'{"it" if one else "them"} with the new version{"" if one else "s"} (the index is updated for '
            f'{"that file" if one else "those files"} only), or keep both?</div>')  # fmt: skip


def build_documents_tab(bot: ZoneBot, index_info: gr.HTML, demo: gr.Blocks, allow_changes: bool) -> None:
    """The Documents tab's components and events, inside the current Blocks context."""
    cards = gr.HTML(elem_id="zb-docs", js_on_load=CHOOSE_CARD_JS)
    ui: dict[str, Any] = {"api_visibility": "private"}
    if allow_changes:
        changes = _build_uploads(bot)
    else:
        gr.HTML(problem_html(REFUSED), padding=False)
    with gr.Row():
        picker = gr.Dropdown(label="Document", choices=[], scale=4, elem_id="zb-doc-pick")
        refresh = gr.Button("Refresh", size="sm", scale=1, min_width=80, elem_id="zb-refresh")
    doc_text = gr.Textbox(label="Cleaned text", lines=12, max_lines=30, interactive=False, buttons=["copy"],
                          visible=False, elem_id="zb-doc-text")  # fmt: skip
    listing = [index_info, cards, picker]
    for trigger in (demo.load, refresh.click):
        trigger(lambda selected: _refresh(bot, selected), picker, listing, **ui)
    picker.change(lambda s: _reading(bot, s), picker, doc_text, **ui)
    cards.choose(_chosen, None, picker, js=SCROLL_TO_READER_JS, **ui)
    if allow_changes:
        _wire_corpus_changes(bot, changes, picker, listing, doc_text)


def _chosen(evt: gr.EventData) -> Any:
    """The document a card click chose (its ``data-source``), into the picker."""
    return gr.update(value=getattr(evt, "source", None) or None)


#: After a card is chosen, its text comes into view.
SCROLL_TO_READER_JS = """
() => { setTimeout(() => document.getElementById('zb-doc-pick')?.scrollIntoView({block: 'start'}), 50); }
"""


@dataclass
class Uploads:
    """The corpus-changing controls (upload, replace or keep both, delete, re-index)."""

    upload: gr.File
    add: gr.Button
    reindex: gr.Button
    clash_row: gr.Row
    clash_text: gr.HTML
    replace: gr.Button
    keep_both: gr.Button
    cancel_clash: gr.Button
    clashes: gr.State  #: the uploaded files whose names are taken, waiting for the user's choice
    status: gr.HTML


def _build_uploads(bot: ZoneBot) -> Uploads:
    limit = f"{MAX_UPLOAD_BYTES // 2**20} MB"
    upload = gr.File(label=f"Add documents, or a new version of one ({', '.join(UPLOAD_SUFFIXES)}; up to {limit} each)",
                     file_count="multiple", file_types=list(UPLOAD_SUFFIXES), type="filepath",
                     elem_id="zb-upload")  # fmt: skip
    with gr.Row():
        add = gr.Button("Add to corpus", variant="primary", size="sm", elem_id="zb-add")
        reindex = gr.Button("Re-index", size="sm", elem_id="zb-reindex")
    with gr.Row(visible=False, elem_id="zb-clash") as clash_row:
        clash_text = gr.HTML(padding=False)
        replace = gr.Button("Replace", variant="primary", size="sm", min_width=80, elem_id="zb-replace")
        keep_both = gr.Button("Keep both", size="sm", min_width=80, elem_id="zb-keep-both")
        cancel_clash = gr.Button("Cancel", size="sm", min_width=80, elem_id="zb-cancel-clash")
    status = gr.HTML(elem_id="zb-corpus-status", padding=False)
    return Uploads(upload, add, reindex, clash_row, clash_text, replace, keep_both, cancel_clash, gr.State([]),
                   status)  # fmt: skip


def _wire_corpus_changes(bot: ZoneBot, u: Uploads, picker: gr.Dropdown, listing: list[Any],
                         doc_text: gr.Textbox) -> None:  # fmt: skip
    """Delete (after a confirmation), upload (asking before a file replaces one), re-index."""
    with gr.Row(elem_id="zb-delete-row"):
        delete = gr.Button("Delete this document…", size="sm", variant="stop", elem_id="zb-delete")
    with gr.Row(visible=False, elem_id="zb-confirm") as confirm:
        question = gr.HTML(padding=False)
        yes = gr.Button("Delete it", variant="stop", size="sm", min_width=80, elem_id="zb-confirm-delete")
        no = gr.Button("Cancel", size="sm", min_width=80, elem_id="zb-cancel-delete")

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
        return gr.update(visible=False), run_ingest(bot, progress), *_refresh(bot), gr.update(value="", visible=False)

    def add_files(files: list[Any] | None, selected: str | None, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        if not files:
            return problem_html("Choose one or more files first."), gr.skip(), [], gr.skip(), gr.skip(), *_refresh(
                bot, selected)  # fmt: skip
        stored, clashes, problems = _store(bot, _uploaded(files), "error")
        out = (run_ingest(bot, progress) if stored else "") + "".join(problem_html(p) for p in problems)
        asking = gr.update(visible=bool(clashes))
        return out, None, clashes, asking, _clash_question(clashes) if clashes else "", *_refresh(bot, selected)

    def settle(how: str):  # type: ignore[no-untyped-def]
        def settle_clashes(clashes: list[dict[str, str]], selected: str | None, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
            if how == "cancel" or not clashes:
                return _ok("Nothing was added."), [], gr.update(visible=False), "", *_refresh(bot, selected)
            stored, _, problems = _store(bot, [(c["name"], Path(c["path"])) for c in clashes], how)
            out = (run_ingest(bot, progress) if stored else "") + "".join(problem_html(p) for p in problems)
            return out, [], gr.update(visible=False), "", *_refresh(bot, selected)

        return settle_clashes

    def reindex_all(selected: str | None, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        return run_ingest(bot, progress), *_refresh(bot, selected)

    ui: dict[str, Any] = {"api_visibility": "private"}
    delete.click(ask_to_delete, picker, [confirm, question, u.status], queue=False, **ui)
    no.click(lambda: gr.update(visible=False), None, confirm, queue=False, **ui)
    # The progress bar goes on the status line only, not over every card the ingest refreshes.
    yes.click(delete_it, picker, [confirm, u.status, *listing, doc_text], show_progress_on=u.status, **ui)
    asked = [u.status, u.upload, u.clashes, u.clash_row, u.clash_text, *listing]
    u.add.click(add_files, [u.upload, picker], asked, show_progress_on=u.status, **ui)
    settled = [u.status, u.clashes, u.clash_row, u.clash_text, *listing]
    for button, how in ((u.replace, "replace"), (u.keep_both, "rename"), (u.cancel_clash, "cancel")):
        button.click(settle(how), [u.clashes, picker], settled, show_progress_on=u.status, **ui)
    u.reindex.click(reindex_all, picker, [u.status, *listing], show_progress_on=u.status, **ui)
