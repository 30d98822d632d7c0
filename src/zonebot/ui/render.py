"""Everything the chat shows, as HTML or Markdown built from our own types.

Every piece of text from a user, an answer or a document is escaped here by zonebot
(``html.escape``) rather than left to Gradio's sanitizer, and a link is written only for
an ``http(s)`` URL.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..citations import quoted
from ..models import Answer, Citation, Passage

Message = dict[str, Any]
Turn = dict[str, Any]

_MARKER = re.compile(r"\[(\d+)\]")
_TAG = re.compile(r"<[^>]*>")
_PROBLEM_CLASS = 'class="zb-problem"'
_OURS = ('<span class="zb-', '<div class="zb-')  # how every chat message zonebot renders begins


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def http_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address with a host; anything else (``javascript:``, ``data:``) is None."""
    url = (url or "").strip()
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link_url(url: str | None) -> str | None:
    """An http(s) URL worth an "original" link: not a bare site home page, which says nothing of the document."""
    url = http_url(url)
    if url is None:
        return None
    parts = urlsplit(url)
    return url if parts.path not in ("", "/") or parts.query else None


# -- chat messages -------------------------------------------------------------------------
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
    """Chat messages as ``{"role", "content": str}`` for ``ZoneBot.ask``: markup removed, failed turns left out."""
    out: list[Message] = []
    for m in messages or []:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        raw = message_text(m.get("content"))
        if _PROBLEM_CLASS in raw:  # an error bubble: neither it nor its question is conversation
            if out and out[-1]["role"] == "user":
                out.pop()
            continue
        if raw.lstrip().startswith(_OURS):  # our own markup; text from an API caller is taken as it is
            raw = html.unescape(_TAG.sub("", raw))
        text = raw.strip()
        if text and not (m.get("metadata") or {}).get("title"):
            out.append({"role": m["role"], "content": text})
    return out


def _lines(escaped: str) -> str:
    return escaped.replace("\n", "<br>")


def user_html(text: str) -> str:
    """The user's message as plain text: any markup in it is shown, never run."""
    return f'<span class="zb-user">{_lines(esc(text))}</span>'


def answer_html(text: str, turn: int) -> str:
    """Answer text with each ``[n]`` as a link to its passage card in the sources panel."""
    linked = _MARKER.sub(
        lambda m: f'<a class="zb-marker" href="#src-{turn}-{m.group(1)}">[{m.group(1)}]</a>', esc(text)
    )
    return f'<span class="zb-answer">{_lines(linked)}</span>'


def abstention_html(text: str) -> str:
    return f'<div class="zb-abstain"><strong>Not in the sources.</strong> {esc(text)}</div>'


def problem_html(text: str) -> str:
    return f'<div {_PROBLEM_CLASS} role="alert">⚠ {esc(text)}</div>'


# -- the sources panel ---------------------------------------------------------------------
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
        out += [esc(passage[pos:start]), f'<mark data-n="{n}">', esc(passage[start:end]), f"</mark>{tag}"]
        pos = end
    out.append(esc(passage[pos:]))
    return "".join(out)


def _byline(publisher: str | None, date: str | None, url: str | None = None) -> str:
    text = " · ".join(esc(x) for x in (publisher, date) if x) or "no publisher or date given"
    link = link_url(url)
    if link:
        text += f' · <a href="{esc(link)}" target="_blank" rel="noopener noreferrer">original</a>'
    return text


def _citation_card(turn: int, cites: list[Citation], passage: Passage | None, total: dict[str, int]) -> str:
    """One card per cited passage; several markers citing the same passage share it."""
    c = cites[0]
    where = []
    if passage is not None:
        of = f" of {total[c.source]}" if total.get(c.source) else ""
        where.append(f"passage {passage.ordinal + 1}{of}")
    where.append(f"chars {c.doc_start:,}–{c.doc_start + len(c.passage):,}")
    numbers = "".join(f'<span class="zb-n">{x.n}</span>' for x in cites)
    anchors = "".join(f'<span class="zb-anchor" id="src-{turn}-{x.n}"></span>' for x in cites[1:])
    quotes = "".join(
        f"<li>quote [{x.n}] at chars {x.doc_start + x.quote_start:,}–"
        f"{x.doc_start + x.quote_start + len(x.quote):,}</li>"
        for x in cites
    )
    return (
        f'<article class="zb-src" id="src-{turn}-{c.n}" tabindex="-1">{anchors}'
        f'<header>{numbers}<span class="zb-title">{esc(c.title)}</span></header>'
        f'<div class="zb-meta">{_byline(c.publisher, c.date, c.url)}</div>'
        f'<div class="zb-where">{esc(c.source)} · {" · ".join(where)}</div>'
        f'<blockquote class="zb-passage">{_highlight(c.passage, [(x.quote, x.quote_start, x.n) for x in cites])}</blockquote>'
        f'<ul class="zb-quotes">{quotes}</ul>'
        "</article>"
    )


def _passage_card(p: Passage, total: dict[str, int]) -> str:
    of = f" of {total[p.source]}" if total.get(p.source) else ""
    return (
        '<article class="zb-src zb-near">'
        f'<header><span class="zb-title">{esc(p.title)}</span></header>'
        f'<div class="zb-meta">{_byline(p.publisher, p.date, p.url)}</div>'
        f'<div class="zb-where">{esc(p.source)} · passage {p.ordinal + 1}{of} · chars {p.start:,}–{p.end:,}</div>'
        f'<blockquote class="zb-passage">{esc(p.text)}</blockquote>'
        "</article>"
    )


SOURCES_HEADING = "Sources:"


def copy_text(answer: Answer) -> str:
    """The answer as plain text with its numbered references, for the clipboard (and chat API replies)."""
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append(SOURCES_HEADING)
        for c in answer.citations:
            meta = ", ".join(x for x in (c.publisher, c.date) if x)
            lines.append(f"[{c.n}] {c.title}{f' ({meta})' if meta else ''}, {c.source}: {quoted(c.quote)}")
    return "\n".join(lines)


def answered_by(answerer: str) -> str:
    """Who wrote the answer, in words a reader knows."""
    if answerer == "extractive":
        return "Quoted from the sources"
    return f"Written by a language model ({answerer}) from the quoted passages"


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
    foot = esc(answered_by(answer.answerer))
    if answer.unsupported:
        foot += f" · {len(answer.unsupported)} unsupported sentence(s) removed"
    parts.append(f'<footer class="zb-foot">{foot}')
    parts += [f"<div>{esc(n)}</div>" for n in answer.notes]
    parts.append("</footer>")
    parts.append(f'<textarea class="zb-copytext" hidden readonly>{esc(copy_text(answer))}</textarea>')
    parts.append("</section>")
    return "".join(parts)


def problem_section(turn: int) -> str:
    """The sources panel for a question that got no answer: nothing to show, nothing to copy."""
    return (
        f'<section class="zb-turn" data-turn="{turn}"><div class="zb-empty">No answer to that question, '
        'so no sources.</div><textarea class="zb-copytext" hidden readonly></textarea></section>'
    )


EMPTY_SOURCES = (
    '<div class="zb-empty">Ask a question: the passages behind each answer appear here, '
    "with the quoted sentence highlighted. Click a marker like [1] to jump to its passage.</div>"
)
PENDING_SOURCES = '<div class="zb-empty">Finding the passages…</div>'


def sources_panel(turns: list[Turn], pending: bool = False) -> str:
    """All answers' sections, the latest shown (the others return when one of their markers is clicked),
    and the conversation as Markdown for Export; ``pending`` while the next answer is being found."""
    sections = [t["section"] for t in turns]
    shown = [
        s if i == len(sections) - 1 and not pending else s.replace("<section ", "<section hidden ", 1)
        for i, s in enumerate(sections)
    ]
    body = ("".join(shown) + PENDING_SOURCES) if pending else ("".join(shown) or EMPTY_SOURCES)
    export = f'<textarea id="zb-export-text" hidden readonly>{esc(conversation_markdown(turns))}</textarea>'
    return f'<div id="zb-sources-inner">{body}{export}</div>'


# -- turns: what each question got, for feedback, export and /ask -----------------------
def citation_dict(c: Citation) -> dict[str, Any]:
    return {"n": c.n, "source": c.source, "title": c.title, "quote": c.quote, "publisher": c.publisher,
            "date": c.date, "url": http_url(c.url)}  # fmt: skip


def passage_dict(p: Passage) -> dict[str, Any]:
    return {"source": p.source, "title": p.title, "text": p.text, "publisher": p.publisher, "date": p.date,
            "url": http_url(p.url), "score": round(float(p.score), 4)}  # fmt: skip


def answer_turn(question: str, history: list[Message], answer: Answer, section: str) -> Turn:
    """One answered question as plain data (JSON-safe), with its sources panel section and the whole ``Answer``
    as a dict (``record``: what a stored chat keeps)."""
    return {"question": question, "history": history, "answer": answer.text, "abstained": answer.abstained,
            "citations": [citation_dict(c) for c in answer.citations],
            "closest": [passage_dict(p) for p in answer.passages[:3]] if answer.abstained else [],
            "section": section, "record": answer.to_dict()}  # fmt: skip


def problem_turn(question: str, turn: int, problem: str) -> Turn:
    return {"question": question, "problem": problem, "section": problem_section(turn)}


def _source_line(c: dict[str, Any]) -> str:
    meta = ", ".join(x for x in (c.get("publisher"), c.get("date")) if x)
    line = f"{c['n']}. {c['title']}{f' ({meta})' if meta else ''}, `{c['source']}`"
    if c.get("url"):
        line += f", <{c['url']}>"
    return f"{line}\n   > {quoted(c['quote'])}"


def conversation_markdown(turns: list[Turn], now: datetime | None = None) -> str:
    """The conversation as Markdown: each question, its answer with ``[n]`` markers, and its numbered sources."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# zonebot conversation", "", f"Exported {stamp}.", ""]
    for i, t in enumerate(turns, 1):
        out += [f"## {i}. {t['question']}", ""]
        if t.get("problem"):
            out += [f"*Not answered: {t['problem']}*", ""]
            continue
        out += [("Not in the sources. " if t.get("abstained") else "") + t["answer"], ""]
        if t.get("citations"):
            out += ["Sources:", ""] + [_source_line(c) for c in t["citations"]] + [""]
    return "\n".join(out).rstrip() + "\n"


# -- the Documents tab -------------------------------------------------------------------
def document_cards(docs: list[dict[str, Any]], not_indexed: list[dict[str, Any]] | None = None) -> str:
    """The indexed documents as cards (a grid on a wide screen, one column on a phone), then the corpus files the
    index leaves out (``ZoneBot.not_indexed``: a duplicate says of which document). Each card can be chosen
    (click, or Enter on it): ``data-source`` names its file."""
    if not docs and not not_indexed:
        return '<div class="zb-empty">No documents yet: add some below.</div>'
    cards = []
    for d in sorted(docs, key=lambda d: d["source"].lower()):
        passages = int(d.get("passages") or 0)
        counts = f"{passages:,} passage{'' if passages == 1 else 's'} · {int(d.get('chars') or 0):,} characters"
        cards.append(
            f'<article class="zb-doc" data-source="{esc(d["source"])}" tabindex="0" role="button" '
            f'aria-label="Read {esc(d.get("title") or d["source"])}">'
            f'<h3 class="zb-doc-title">{esc(d.get("title") or d["source"])}</h3>'
            f'<div class="zb-meta">{_byline(d.get("publisher"), d.get("date"), d.get("url"))}</div>'
            f'<div class="zb-doc-file" title="{esc(d["source"])}">{esc(d["source"])}</div>'
            f'<div class="zb-doc-counts">{counts}</div></article>'
        )
    for f in not_indexed or []:
        what = (f"Duplicate of {f['duplicate_of']}: the same text is indexed once, under that name."
                if f.get("duplicate_of") else f"Not indexed: {f.get('reason', '')}")  # fmt: skip
        cards.append(
            f'<article class="zb-doc zb-skipped" data-source="{esc(f["source"])}" tabindex="0" role="button" '
            f'aria-label="Choose {esc(f["source"])}">'
            f'<h3 class="zb-doc-title">{esc(f["source"])}</h3>'
            f'<div class="zb-doc-counts">{esc(what)}</div></article>'
        )
    return f'<div class="zb-doc-grid">{"".join(cards)}</div>'


#: On the cards: a click (or Enter) on a card chooses its document (the ``choose`` event, with ``source``).
CHOOSE_CARD_JS = """
const choose = (ev) => {
  const card = ev.target.closest && ev.target.closest('.zb-doc[data-source]');
  if (!card || ev.target.closest('a')) return;
  if (ev.type === 'keydown' && ev.key !== 'Enter' && ev.key !== ' ') return;
  ev.preventDefault();
  trigger('choose', {source: card.dataset.source});
};
element.addEventListener('click', choose);
element.addEventListener('keydown', choose);
"""
