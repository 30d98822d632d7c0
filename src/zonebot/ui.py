"""The Gradio chat: a thin web shell over ``ZoneBot`` (``zonebot serve`` or ``python app.py``).

``build_app(bot)`` returns the ``gr.Blocks``; ``launch(demo, ...)`` starts it with our styling;
``serve(...)`` does both after building the index when it is missing or stale.
"""

from __future__ import annotations

import html
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from .bot import ZoneBot  # noqa: E402
from .errors import InvalidQuestionError, ZoneBotError  # noqa: E402
from .models import Answer, Citation, Passage  # noqa: E402
from .validation import clean_history, content_text  # noqa: E402

log = logging.getLogger(__name__)

Message = dict[str, Any]

#: Answers computed at once per server; the rest wait in the queue. Answering is CPU-bound
#: (one query embedding plus scoring), so more than a few in flight only adds latency.
CONCURRENCY = 4

EXAMPLES: list[tuple[str, str]] = [
    ("Jinqiao · figure", "How large is the Jinqiao Economic and Technological Development Zone?"),
    ("Follow-up", "When was it approved, and by which body?"),
    ("Jinshan · list", "Which industries will Jinshan District concentrate on?"),
    ("Bay Area zone", "What industries does the Shanghai Bay Area High-tech Industrial Development Zone focus on?"),
    ("Baoshan + Jinshan · figure", "What share of the city's gross industrial output will Baoshan and Jinshan contribute by 2025?"),
    ("Not in the sources", "What is the corporate tax rate in the Jinqiao zone?"),
]  # fmt: skip


# -- settings ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    auth: tuple[str, str] | None


def server_options(host: str | None = None, port: int | None = None) -> ServerOptions:
    """Where to listen and who may log in: arguments first, then ZONEBOT_HOST / ZONEBOT_PORT / ZONEBOT_AUTH."""
    from .config import Settings

    settings = Settings.from_env()
    env_host, raw_auth = settings.host, settings.auth or ""
    port_value = port if port is not None else settings.port
    auth = None
    if raw_auth:
        user, sep, password = raw_auth.partition(":")
        if not sep or not user or not password:
            raise ZoneBotError("ZONEBOT_AUTH must look like user:password (both non-empty)")
        auth = (user, password)
    return ServerOptions(host=host or env_host, port=port_value, auth=auth)


# -- text helpers ------------------------------------------------------------------------
_MARKER = re.compile(r"\[(\d+)\]")
_LINKED_MARKER = re.compile(r"\[\\?\[(\d+)\\?\]\]\(#src-\d+-\d+\)")
_NOTICE = re.compile(r"<[^>]+>")


def message_text(content: Any) -> str:
    """The plain text of a Gradio message ``content``: a string or a list of ``{"type": "text"}`` blocks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    if isinstance(content, list | tuple):
        return " ".join(t for t in (message_text(c) for c in content) if t)
    return str(content)


def plain_history(messages: list[Message] | None) -> list[Message]:
    """Chat messages as ``{"role", "content": str}`` for ``ZoneBot.ask``, without the UI's markup."""
    out: list[Message] = []
    for m in messages or []:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        text = _LINKED_MARKER.sub(r"[\1]", message_text(m.get("content")))
        text = _NOTICE.sub("", text).strip()
        if text and not (m.get("metadata") or {}).get("title"):
            out.append({"role": m["role"], "content": text})
    return out


def linked_markers(text: str, turn: int) -> str:
    """``[n]`` markers as links to the passage cards of answer ``turn`` in the sources panel."""
    return _MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#src-{turn}-{m.group(1)})", text)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _highlight(passage: str, quotes: list[tuple[str, int, int]]) -> str:
    """The passage as HTML, each ``(quote, offset, n)`` in ``<mark>`` (found by offset, else by search)."""
    spans = []
    for quote, start, n in quotes:
        if quote and passage[start : start + len(quote)] != quote:
            start = passage.find(quote)
        if quote and start >= 0:
            spans.append((start, start + len(quote), n))
    out, pos = [], 0
    for start, end, n in sorted(spans):
        start = max(start, pos)
        if end <= start:
            continue
        tag = f'<sup class="zb-sup">{n}</sup>' if len(quotes) > 1 else ""
        out += [_e(passage[pos:start]), f'<mark data-n="{n}">', _e(passage[start:end]), f"</mark>{tag}"]
        pos = end
    out.append(_e(passage[pos:]))
    return "".join(out)


def _byline(publisher: str | None, date: str | None) -> str:
    return " · ".join(_e(x) for x in (publisher, date) if x) or "no publisher or date given"


# -- the sources panel -------------------------------------------------------------------
def _citation_card(turn: int, cites: list[Citation], passage: Passage | None, total: dict[str, int]) -> str:
    """One card per cited passage; several markers citing the same passage share it."""
    c = cites[0]
    where = []
    if passage is not None:
        of = f" of {total[c.source]}" if total.get(c.source) else ""
        where.append(f"passage {passage.ordinal + 1}{of}")
    where.append(f"chars {c.doc_start:,}–{c.doc_start + len(c.passage):,}")
    link = f' · <a href="{_e(c.url)}" target="_blank" rel="noopener noreferrer">original</a>' if c.url else ""
    numbers = "".join(f'<span class="zb-n">{x.n}</span>' for x in cites)
    anchors = "".join(f'<span class="zb-anchor" id="src-{turn}-{x.n}"></span>' for x in cites[1:])
    quotes = "".join(
        f"<li>quote [{x.n}] at chars {x.doc_start + x.quote_start:,}–"
        f"{x.doc_start + x.quote_start + len(x.quote):,}</li>"
        for x in cites
    )
    return (
        f'<article class="zb-src" id="src-{turn}-{c.n}" tabindex="-1">{anchors}'
        f'<header>{numbers}<span class="zb-title">{_e(c.title)}</span></header>'
        f'<div class="zb-meta">{_byline(c.publisher, c.date)}{link}</div>'
        f'<div class="zb-where">{_e(c.source)} · {" · ".join(where)}</div>'
        f'<blockquote class="zb-passage">{_highlight(c.passage, [(x.quote, x.quote_start, x.n) for x in cites])}</blockquote>'
        f'<ul class="zb-quotes">{quotes}</ul>'
        "</article>"
    )


def _passage_card(p: Passage, total: dict[str, int]) -> str:
    of = f" of {total[p.source]}" if total.get(p.source) else ""
    return (
        '<article class="zb-src zb-near">'
        f'<header><span class="zb-title">{_e(p.title)}</span></header>'
        f'<div class="zb-meta">{_byline(p.publisher, p.date)}</div>'
        f'<div class="zb-where">{_e(p.source)} · passage {p.ordinal + 1}{of} · chars {p.start:,}–{p.end:,}</div>'
        f'<blockquote class="zb-passage">{_e(p.text)}</blockquote>'
        "</article>"
    )


def copy_text(answer: Answer) -> str:
    """The answer as plain text with its numbered references, for the clipboard."""
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            meta = ", ".join(x for x in (c.publisher, c.date) if x)
            lines.append(f'[{c.n}] {c.title}{f" ({meta})" if meta else ""}, {c.source}: "{c.quote}"')
    return "\n".join(lines)


def sources_section(turn: int, answer: Answer, total: dict[str, int]) -> str:
    """The sources panel section for answer number ``turn``."""
    by_id = {p.id: p for p in answer.passages}
    parts = [f'<section class="zb-turn" data-turn="{turn}">']
    if answer.abstained:
        parts.append('<div class="zb-abstain-note">Not in the sources. Closest passages, for reference:</div>')
        parts += [_passage_card(p, total) for p in answer.passages[:3]]
    else:
        groups: dict[str, list[Citation]] = {}
        for c in answer.citations:
            groups.setdefault(c.passage_id, []).append(c)
        parts += [_citation_card(turn, cites, by_id.get(pid), total) for pid, cites in groups.items()]
        cited = {c.passage_id for c in answer.citations}
        rest = [p for p in answer.passages if p.id not in cited]
        if rest:
            parts.append(f"<details class='zb-more'><summary>{len(rest)} more retrieved, not cited</summary>")
            parts += [_passage_card(p, total) for p in rest]
            parts.append("</details>")
    foot = f"answered by {_e(answer.answerer)}"
    if answer.unsupported:
        foot += f" · {len(answer.unsupported)} unsupported sentence(s) removed"
    parts.append(f'<footer class="zb-foot">{foot}')
    parts += [f"<div>{_e(n)}</div>" for n in answer.notes]
    parts.append("</footer>")
    parts.append(f'<textarea class="zb-copytext" hidden readonly>{_e(copy_text(answer))}</textarea>')
    parts.append("</section>")
    return "".join(parts)


EMPTY_SOURCES = (
    '<div class="zb-empty">Ask a question: the passages behind each answer appear here, '
    "with the quoted sentence highlighted. Click a marker like [1] to jump to its passage.</div>"
)
PENDING_SOURCES = '<div class="zb-empty">Finding the passages…</div>'


def sources_panel(sections: list[str]) -> str:
    """All answers' sections, the latest shown; the others appear when one of their markers is clicked."""
    if not sections:
        return f'<div id="zb-sources-inner">{EMPTY_SOURCES}</div>'
    shown = [
        s if i == len(sections) - 1 else s.replace("<section ", "<section hidden ", 1) for i, s in enumerate(sections)
    ]
    return '<div id="zb-sources-inner">' + "".join(shown) + "</div>"


def _abstention(text: str) -> str:
    return f'<div class="zb-abstain"><strong>Not in the sources.</strong> {_e(text)}</div>'


def _problem(text: str) -> str:
    return f'<div class="zb-problem">⚠ {_e(text)}</div>'


# -- the app -----------------------------------------------------------------------------
def build_app(bot: ZoneBot) -> gr.Blocks:
    """The chat, the sources panel, the Documents tab and the ``/ask`` API, over ``bot``."""

    def passage_totals() -> dict[str, int]:
        return {d["source"]: int(d.get("passages") or 0) for d in bot.documents()}

    def respond(message: str, chat: list[Message] | None, sections: list[str] | None):  # type: ignore[no-untyped-def]
        chat = list(chat or [])
        sections = list(sections or [])
        question = message_text(message)
        history = plain_history(chat)
        if question.strip():
            chat.append({"role": "user", "content": question})
        turn = len(sections) + 1
        chat.append({"role": "assistant", "content": ""})
        try:
            yield "", chat, PENDING_SOURCES, sections
            for item in bot.stream(question, history):
                if isinstance(item, Answer):
                    answer = item
                    break
                chat[-1] = {"role": "assistant", "content": linked_markers(item, turn)}
                yield "", chat, gr.skip(), sections
            else:  # the stream ended without an Answer: ask again rather than show nothing
                answer = bot.ask(question, history)
        except (InvalidQuestionError, ZoneBotError) as exc:
            chat[-1] = {"role": "assistant", "content": _problem(str(exc))}
            yield "", chat, sources_panel(sections), sections
            return
        except Exception:
            log.exception("answering %r failed", question[:200])
            chat[-1] = {
                "role": "assistant",
                "content": _problem("Something went wrong answering that; see the server log."),
            }
            yield "", chat, sources_panel(sections), sections
            return
        text = _abstention(answer.text) if answer.abstained else linked_markers(answer.text, turn)
        chat[-1] = {"role": "assistant", "content": text}
        sections.append(sources_section(turn, answer, passage_totals()))
        yield "", chat, sources_panel(sections), sections

    def new_chat():  # type: ignore[no-untyped-def]
        return [], sources_panel([]), [], ""

    def ask(question: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Answer ``question`` (with earlier ``history`` messages) from the corpus, with citations."""
        try:
            answer = bot.ask(content_text(question), plain_history(clean_history(history)))
        except ZoneBotError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return {
            "text": answer.text,
            "abstained": answer.abstained,
            "citations": [{"n": c.n, "source": c.source, "title": c.title, "quote": c.quote} for c in answer.citations],
        }

    def index_line() -> str:
        docs = bot.documents()
        built = bot.snapshot.created.replace("T", " ").replace("+0000", " UTC")
        n = sum(int(d.get("passages") or 0) for d in docs)
        return f'<div class="zb-index">{len(docs)} documents · {n} passages · index built {_e(built)}</div>'

    def documents_table() -> list[list[Any]]:
        return [[d.get("title") or d["source"], d.get("publisher") or "", d.get("date") or "", d.get("passages") or 0,
                 d.get("chars") or 0, d["source"]] for d in sorted(bot.documents(), key=lambda d: d["source"])]  # fmt: skip

    def refresh_documents():  # type: ignore[no-untyped-def]
        rows = documents_table()
        choices = [(f"{r[0]} ({r[5]})", r[5]) for r in rows]
        return index_line(), rows, gr.update(choices=choices)

    def show_document(source: str | None) -> str:
        if not source:
            return ""
        return bot.document_text(source) or f"{source} is no longer in the index."

    def pick_row(evt: gr.SelectData, rows: Any) -> str:
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        values = rows.values.tolist() if hasattr(rows, "values") else rows
        return values[row][5]

    with gr.Blocks(title="zonebot · Shanghai industrial zones", analytics_enabled=False, fill_width=True) as demo:
        sections = gr.State([])
        with gr.Row(elem_id="zb-header"):
            gr.HTML(
                '<div class="zb-brand"><h1>zonebot</h1><p>Cited answers about Shanghai\'s industrial zones, '
                "from the documents in the corpus only.</p></div>",
                js_on_load=None,
            )
            index_info = gr.HTML(js_on_load=None, elem_id="zb-index")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False, elem_id="zb-main"):
                with gr.Column(scale=3, min_width=300, elem_id="zb-chat-col"):
                    chat = gr.Chatbot(
                        label="Conversation",
                        elem_id="zb-chat",
                        height=520,
                        buttons=[],  # "Copy answer" below copies the text with its sources instead
                        feedback_options=None,
                        placeholder="Ask about the Jinqiao, Jinshan or Shanghai Bay Area zones.",
                    )
                    with gr.Row(elem_id="zb-ask-row"):
                        box = gr.Textbox(
                            show_label=False,
                            placeholder="Ask a question, e.g. How large is the Jinqiao zone?",
                            max_lines=6,
                            scale=5,
                            min_width=180,
                            elem_id="zb-question",
                            autofocus=True,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="zb-send")
                    with gr.Row(elem_id="zb-tools"):
                        copy = gr.Button("Copy answer", size="sm", elem_id="zb-copy", min_width=60)
                        clear = gr.Button("New chat", size="sm", elem_id="zb-clear", min_width=60)
                    gr.Examples(
                        examples=[[q] for _, q in EXAMPLES],
                        example_labels=[f"{label}: {q}" for label, q in EXAMPLES],
                        inputs=[box],
                        label="Try",
                    )
                with gr.Column(scale=2, min_width=300, elem_id="zb-sources-col"):
                    gr.HTML("<h2 class='zb-h2'>Sources</h2>", js_on_load=None)
                    sources = gr.HTML(sources_panel([]), js_on_load=None, elem_id="zb-sources")
            with gr.Tab("Documents", id="documents"):
                table = gr.Dataframe(
                    headers=["Title", "Publisher", "Date", "Passages", "Characters", "File"],
                    datatype=["str", "str", "str", "number", "number", "str"],
                    interactive=False,
                    wrap=True,
                    column_widths=["32%", "17%", "11%", "9%", "10%", "21%"],
                    elem_id="zb-docs",
                )
                with gr.Row():
                    picker = gr.Dropdown(label="Show the cleaned text of", choices=[], scale=4, elem_id="zb-doc-pick")
                    refresh = gr.Button("Refresh", size="sm", scale=1, min_width=80)
                doc_text = gr.Textbox(label="Cleaned text", lines=16, max_lines=30, interactive=False,
                                      buttons=["copy"], elem_id="zb-doc-text")  # fmt: skip

        ui = {"api_visibility": "private"}
        outputs = [box, chat, sources, sections]
        box.submit(respond, [box, chat, sections], outputs, show_progress="hidden", **ui)
        send.click(respond, [box, chat, sections], outputs, show_progress="hidden", **ui)
        clear.click(new_chat, None, [chat, sources, sections, box], queue=False, **ui)
        chat.clear(new_chat, None, [chat, sources, sections, box], queue=False, **ui)
        copy.click(None, js=COPY_JS, **ui)
        for trigger in (demo.load, refresh.click):
            trigger(refresh_documents, None, [index_info, table, picker], **ui)
        picker.change(show_document, picker, doc_text, **ui)
        table.select(pick_row, table, picker, **ui)
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=256)
    return demo


# -- styling and behaviour -------------------------------------------------------------
CSS = """
#zb-header { align-items: flex-end; gap: 8px; }
.zb-brand h1 { margin: 0; font-size: 1.6rem; letter-spacing: -0.01em; }
.zb-brand p { margin: 2px 0 0; color: var(--body-text-color-subdued); }
.zb-index { text-align: right; color: var(--body-text-color-subdued); font-size: 0.85rem; }
.zb-h2 { margin: 0 0 6px; font-size: 1.05rem; }
#zb-sources { max-height: 640px; overflow-y: auto; overflow-x: hidden; }
.zb-src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  margin-bottom: 10px; background: var(--block-background-fill); scroll-margin: 12px; cursor: pointer; }
.zb-src header { display: flex; gap: 8px; align-items: baseline; font-weight: 600; }
.zb-n { flex: none; min-width: 1.6em; text-align: center; border-radius: 4px; padding: 0 4px;
  background: var(--color-accent-soft); color: var(--color-accent); font-size: 0.85rem; }
.zb-meta, .zb-where { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-top: 2px; overflow-wrap: anywhere; }
.zb-passage { margin: 8px 0 0; padding: 0 0 0 10px; border-left: 3px solid var(--border-color-primary);
  font-size: 0.9rem; line-height: 1.5; overflow-wrap: anywhere; }
.zb-passage mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.zb-sup { color: var(--color-accent); font-weight: 600; margin: 0 2px 0 1px; }
.zb-src.zb-flash { outline: 2px solid var(--color-accent); animation: zb-flash 1.2s ease-out; }
@keyframes zb-flash { from { background: var(--color-accent-soft); } }
.zb-near { cursor: default; opacity: 0.9; }
.zb-more summary { cursor: pointer; color: var(--body-text-color-subdued); font-size: 0.85rem; margin: 4px 0 8px; }
.zb-quotes { list-style: none; margin: 6px 0 0; padding: 0; font-size: 0.75rem; color: var(--body-text-color-subdued); }
.zb-quotes li { display: inline-block; margin-right: 10px; }
.zb-quotes .zb-n { font-size: 0.7rem; }
.zb-src header .zb-n + .zb-n { margin-left: -4px; }
.zb-foot { font-size: 0.75rem; color: var(--body-text-color-subdued); margin-top: 4px; }
.zb-empty { color: var(--body-text-color-subdued); font-size: 0.9rem; padding: 8px 0; }
.zb-abstain { border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.08); padding: 6px 10px; border-radius: 4px; }
.zb-abstain-note { font-weight: 600; color: #b45309; margin-bottom: 8px; }
.zb-problem { border-left: 4px solid #dc2626; background: rgba(220, 38, 38, 0.07); padding: 6px 10px; border-radius: 4px; }
#zb-chat a[href^="#src-"] { text-decoration: none; font-weight: 600; font-size: 0.85em; }
#zb-tools { justify-content: flex-start; gap: 6px; }
#zb-tools button { flex: 0 0 auto; }
@media (max-width: 640px) {
  .gradio-container { padding: 6px !important; }
  #zb-header { flex-direction: column; align-items: flex-start; }
  .zb-index { text-align: left; }
  #zb-chat { height: 420px !important; }
  #zb-sources { max-height: none; }
}
"""

HEAD = """
<script>
(() => {
  if (window.__zonebot) return;
  window.__zonebot = true;
  function show(id) {
    const target = document.getElementById(id);
    const el = target && (target.closest(".zb-src") || target);
    if (!el) return;
    const turn = el.closest(".zb-turn");
    document.querySelectorAll("#zb-sources .zb-turn").forEach((s) => { s.hidden = s !== turn; });
    el.scrollIntoView({ behavior: "smooth", block: "nearest" });
    el.classList.remove("zb-flash");
    void el.offsetWidth;
    el.classList.add("zb-flash");
    el.focus({ preventScroll: true });
  }
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest && ev.target.closest('a[href^="#src-"]');
    if (link) {
      ev.preventDefault();
      ev.stopPropagation();
      show(link.getAttribute("href").slice(1));
      return;
    }
    const card = ev.target.closest && ev.target.closest(".zb-src[id^='src-']");
    if (card && !ev.target.closest("a")) show(card.id);
  }, true);
})();
</script>
"""

COPY_JS = """
async () => {
  const turns = [...document.querySelectorAll("#zb-sources .zb-turn")];
  const visible = turns.filter((s) => !s.hidden).pop() || turns.pop();
  const button = document.querySelector("#zb-copy");
  if (!visible) return;
  const text = visible.querySelector(".zb-copytext").value;
  try { await navigator.clipboard.writeText(text); }
  catch (e) {
    const area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand("copy"); area.remove();
  }
  if (button) { const old = button.textContent; button.textContent = "Copied ✓"; setTimeout(() => { button.textContent = old; }, 1500); }
}
"""

# System fonts: the stock themes fetch Google Fonts, which an offline or private deployment should not.
THEME = gr.themes.Soft(
    primary_hue="blue",
    neutral_hue="slate",
    font=("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"),
    font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"),
)


def launch(demo: gr.Blocks, **kwargs: Any):  # type: ignore[no-untyped-def]
    """``demo.launch`` with zonebot's styling and safe defaults (loopback, no extra file access)."""
    kwargs.setdefault("server_name", "127.0.0.1")
    kwargs.setdefault("css", CSS)
    kwargs.setdefault("head", HEAD)
    kwargs.setdefault("theme", THEME)
    kwargs.setdefault("show_error", False)
    kwargs.setdefault("footer_links", ["api"])
    kwargs.setdefault("run_history", False)  # questions stay out of the browser's storage
    return demo.launch(**kwargs)


def serve(
    host: str | None = None,
    port: int | None = None,
    corpus_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    chroma_url: str | None = None,
    llm: str | None = None,
) -> None:
    """Build the index when missing or stale, then serve the chat until interrupted."""
    options = server_options(host, port)
    bot = ZoneBot(corpus_dir=corpus_dir, index_dir=index_dir, chroma_url=chroma_url, llm=llm)

    def progress(msg: str) -> None:
        print(f"  {msg}", file=sys.stderr, flush=True)

    if bot.ensure_index(progress=progress) is None:
        print("index is up to date", file=sys.stderr)
    if options.host not in ("127.0.0.1", "localhost", "::1") and options.auth is None:
        print(f"warning: serving on {options.host} without a login; set ZONEBOT_AUTH=user:password",
              file=sys.stderr)  # fmt: skip
    launch(build_app(bot), server_name=options.host, server_port=options.port, auth=options.auth)
