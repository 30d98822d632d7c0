"""The Chat tab: question box, streamed answers, the sources panel, feedback and export."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..bot import ZoneBot
from ..errors import FeedbackRefused, IndexMissingError, ZoneBotError
from ..feedback import FeedbackLimits, feedback_path, record_feedback
from ..models import Answer
from . import chats
from .assets import CHAT_HEIGHT, COPY_JS, EXPORT_JS, TO_CHAT_JS, TO_SOURCES_JS
from .render import (
    Message,
    Turn,
    abstention_html,
    answer_html,
    answer_turn,
    esc,
    message_text,
    plain_history,
    problem_html,
    problem_turn,
    sources_panel,
    sources_section,
    user_html,
)  # fmt: skip
from .throttle import SlidingWindow

log = logging.getLogger(__name__)

EXAMPLES: list[tuple[str, str]] = [
    ("Jinqiao · figure", "How large is the Jinqiao Economic and Technological Development Zone?"),
    ("Follow-up", "When was it approved, and by which body?"),
    ("Jinshan · list", "Which industries will Jinshan District concentrate on?"),
    ("Bay Area zone", "What industries does the Shanghai Bay Area High-tech Industrial Development Zone focus on?"),
    ("Baoshan + Jinshan · figure", "What share of the city's gross industrial output will Baoshan and Jinshan contribute by 2025?"),
    ("Not in the sources", "What is the corporate tax rate in the Jinqiao zone?"),
]  # fmt: skip

_SETTING_NAME = re.compile(r"\s*\(?\bZONEBOT_[A-Z_]+\)?")
Outputs = tuple[Any, Any, Any, Any]  # question box, chat, sources panel, turns


def plain_words(exc: Exception) -> str:
    """An error as a reader of the chat should see it: no setting names, no stack."""
    if isinstance(exc, IndexMissingError):
        return "There are no documents indexed yet: add some in the Documents tab, then ask again."
    if isinstance(exc, ZoneBotError):
        text = _SETTING_NAME.sub("", str(exc)).strip()
        return text[:1].upper() + text[1:]
    return "Something went wrong answering that. Please try again; if it keeps happening, tell whoever runs zonebot."


def _failed(chat: list[Message], turns: list[Turn], question: str, problem: str) -> tuple[Any, Any, Any]:
    """Show ``problem`` right under the user's message; the sources panel and Copy answer hold nothing."""
    chat.append({"role": "assistant", "content": problem_html(problem)})
    turns.append(problem_turn(question, len(turns) + 1, problem))
    return chat, sources_panel(turns), turns


def _answer_stream(bot: ZoneBot, question: str, history: list[Message],
                   sources: list[str] | None) -> Iterator[str | Answer]:  # fmt: skip
    """The growing text, then the ``Answer`` (asked again if the stream ends without one)."""
    for item in bot.stream(question, history, sources=sources):
        yield item
        if isinstance(item, Answer):
            return
    yield bot.ask(question, history, sources=sources)


def make_respond(bot: ZoneBot) -> Callable[..., Iterator[Outputs]]:
    def respond(message: Any, chat: list[Message] | None, turns: list[Turn] | None,
                scope: list[str] | None = None) -> Iterator[Outputs]:  # fmt: skip
        question = message_text(message)
        if not question.strip():  # an empty Enter does nothing
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        chat, turns = list(chat or []), list(turns or [])
        history, number = plain_history(chat), len(turns) + 1
        limit = bot.settings.max_question_chars
        if len(question) > limit:  # the text stays in the box to be shortened
            chat.append({"role": "user", "content": user_html(question[:280] + "…")})
            problem = (f"This question is {len(question):,} characters long; questions can be up to {limit:,}. "
                       "Shorten it and ask again: your text is still in the box.")  # fmt: skip
            yield (gr.skip(), *_failed(chat, turns, question, problem))
            return
        chat += [{"role": "user", "content": user_html(question)}, {"role": "assistant", "content": ""}]
        yield "", chat, sources_panel(turns, pending=True), turns
        try:
            for item in _answer_stream(bot, question, history, scope or None):
                if isinstance(item, Answer):
                    answer = item
                    break
                chat[-1] = {"role": "assistant", "content": answer_html(item, number)}
                yield gr.skip(), chat, gr.skip(), gr.skip()
        except Exception as exc:
            if not isinstance(exc, ZoneBotError):
                log.exception("answering %r failed", question[:200])
            chat.pop()
            yield (question, *_failed(chat, turns, question, plain_words(exc)))
            return
        content = abstention_html(answer.text) if answer.abstained else answer_html(answer.text, number)
        chat[-1] = {"role": "assistant", "content": content}
        totals = {d["source"]: int(d.get("passages") or 0) for d in bot.documents()}
        turns.append(answer_turn(question, history, answer, sources_section(number, answer, totals)))
        yield gr.skip(), chat, sources_panel(turns), turns

    return respond


def _role(m: Any) -> str | None:
    return m.get("role") if isinstance(m, dict) else getattr(m, "role", None)


class FeedbackWriter:
    """Writes verdicts and notes to feedback.jsonl within the settings' limits, at most
    ``feedback_per_minute`` records per client; every refusal comes back as a sentence."""

    def __init__(self, bot: ZoneBot) -> None:
        self.path = feedback_path(bot.settings.index_dir)
        self.limits = FeedbackLimits.from_settings(bot.settings)
        self.per_minute = bot.settings.feedback_per_minute
        self.recent = SlidingWindow(60.0)
        self._lock = threading.Lock()  # handlers run on several worker threads

    def write(self, turn: Turn, verdict: str, note: str, request: gr.Request | None) -> str | None:
        """None when the record was written, else why not (in words for the page)."""
        client = getattr(getattr(request, "client", None), "host", None) or "unknown"
        with self._lock:
            if self.recent.count(client) >= self.per_minute:
                return "That is a lot of feedback in one minute: please wait a moment, then send it again."
            self.recent.add(client)
        try:
            record_feedback(self.path, turn, verdict, note, self.limits)
        except FeedbackRefused as exc:
            text = str(exc)
            return text[:1].upper() + text[1:] + "."
        except (OSError, ZoneBotError) as exc:
            log.error("feedback could not be written to %s: %s", self.path, exc)
            return "Your feedback could not be saved just now (the server could not write it). Please try later."
        return None


def make_feedback(bot: ZoneBot):  # type: ignore[no-untyped-def]
    """Handlers for 👍/👎 on an answer (a line in feedback.jsonl at once) and for an optional note after it."""
    writer = FeedbackWriter(bot)

    def on_like(chat: list[Any], turns: list[Turn], evt: gr.LikeData, request: gr.Request):  # type: ignore[no-untyped-def]
        if evt.liked not in (True, False):  # a thumb clicked off again: the earlier line stands
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        n = sum(1 for m in (chat or [])[: index + 1] if _role(m) == "assistant") - 1 if isinstance(index, int) else -1
        turn = turns[n] if 0 <= n < len(turns or []) else None
        if turn is None or turn.get("problem"):
            return (
                None,
                gr.update(visible=False),
                "",
                problem_html("That question got no answer, so there is nothing to rate."),
            )
        verdict = "up" if evt.liked else "down"
        problem = writer.write(turn, verdict, "", request)
        if problem:
            return None, gr.update(visible=False), "", problem_html(problem)
        thumb = "👍" if verdict == "up" else "👎"
        saved = (
            f'<div class="zb-ok">Thanks: your {thumb} on answer {n + 1} is saved. Add a note below if you like.</div>'
        )
        return {"turn": n, "verdict": verdict}, gr.update(visible=True), "", saved

    def on_note(target: dict[str, Any] | None, note: str, turns: list[Turn], request: gr.Request):  # type: ignore[no-untyped-def]
        if not target or not (note or "").strip():
            return gr.skip(), gr.skip(), gr.skip(), problem_html("Type a note first, or just leave the thumb.")
        n = target.get("turn") if isinstance(target, dict) else None
        if not isinstance(n, int) or not 0 <= n < len(turns or []):
            return None, gr.update(visible=False), "", problem_html("That answer is no longer in this chat.")
        problem = writer.write(turns[n], target["verdict"], note, request)
        if problem:  # the note stays in the box, to be shortened or sent later
            return gr.skip(), gr.skip(), gr.skip(), problem_html(problem)
        done = f'<div class="zb-ok">Note saved with your feedback on answer {esc(n + 1)}.</div>'
        return None, gr.update(visible=False), "", done

    return on_like, on_note


def _example_handler(respond: Callable[..., Iterator[Outputs]]):  # type: ignore[no-untyped-def]
    def ask_example(chat: list[Message] | None, turns: list[Turn] | None, scope: list[str] | None,
                    evt: gr.SelectData) -> Iterator[Outputs]:  # fmt: skip
        chosen = evt.value if isinstance(evt.value, dict) else {}
        yield from respond(str(chosen.get("text") or ""), chat, turns, scope)

    return ask_example


def build_chat_tab(bot: ZoneBot, demo: gr.Blocks, tab: gr.Tab) -> ChatView:
    """The chat column, the sources column and their events, inside ``tab`` of ``demo``."""
    turns = gr.State([])
    target = gr.State(None)
    saved = gr.BrowserState(chats.empty(), storage_key=chats.STORAGE_KEY, secret=chats.STORAGE_SECRET)
    chat_id = gr.State(None)  #: the stored chat the conversation on screen is kept as
    with gr.Row(equal_height=False, elem_id="zb-main"):
        with gr.Column(scale=3, min_width=300, elem_id="zb-chat-col"):
            past, name, rename, forget = _past_chats_box()
            chat = gr.Chatbot(
                show_label=False,  # a floating "Conversation" label covered the first message
                elem_id="zb-chat",
                height=CHAT_HEIGHT,
                buttons=[],  # "Copy answer" below copies the text with its sources instead
                feedback_options=("Like", "Dislike"),
                render_markdown=False,  # messages are HTML that zonebot escaped itself
                allow_tags=False,
                latex_delimiters=[],
                placeholder="Ask about the Jinqiao, Jinshan or Shanghai Bay Area zones. Try:",
                # In the empty chat, where they are seen: under it they fell below a laptop screen's fold.
                examples=[{"text": q, "display_text": f"{label}: {q}"} for label, q in EXAMPLES],
            )
            with gr.Row(elem_id="zb-ask-row"):
                box = gr.Textbox(show_label=False, placeholder="Ask a question, e.g. How large is the Jinqiao zone?",
                                 max_lines=6, scale=5, min_width=180, elem_id="zb-question", autofocus=True)  # fmt: skip
                send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="zb-send")
            with gr.Row(elem_id="zb-tools"):
                limit = bot.settings.max_question_chars
                gr.HTML(f'<div id="zb-counter" data-limit="{limit}" aria-live="polite"></div>', padding=False,
                        elem_id="zb-counter-box")  # fmt: skip
                gr.HTML("<label class='zb-scope-label' for='zb-scope'>Ask only</label>", padding=False,
                        elem_classes=["zb-inline"])  # fmt: skip
                scope = gr.Dropdown(choices=[], value=[], multiselect=True, show_label=False, container=False,
                                    label="Ask only these documents", scale=4, min_width=160,
                                    elem_id="zb-scope")  # fmt: skip
                gr.HTML("<span class='zb-scope-hint'>(none: all)</span>", padding=False, elem_classes=["zb-inline"])
                copy = gr.Button("Copy answer", size="sm", elem_id="zb-copy", min_width=60)
                export = gr.Button("Export", size="sm", elem_id="zb-export", min_width=60)
                clear = gr.Button("New chat", size="sm", elem_id="zb-clear", min_width=60)
                to_sources = gr.Button("Sources ↓", size="sm", elem_id="zb-to-sources", min_width=60,
                                       elem_classes=["zb-phone-only"])  # fmt: skip
            with gr.Row(visible=False, elem_id="zb-note-row") as note_row:
                note = gr.Textbox(show_label=False, placeholder="What was wrong or missing? (optional)", scale=4,
                                  max_length=bot.settings.feedback_note_chars, elem_id="zb-note")  # fmt: skip
                send_note = gr.Button("Send note", size="sm", scale=1, min_width=80, elem_id="zb-send-note")
            feedback_status = gr.HTML(elem_id="zb-feedback-status", padding=False)
        with gr.Column(scale=2, min_width=300, elem_id="zb-sources-col"):
            with gr.Row():
                gr.HTML("<h2 class='zb-h2'>Sources</h2>", padding=False)
                to_chat = gr.Button("↑ Back to chat", size="sm", elem_id="zb-to-chat", min_width=60,
                                    elem_classes=["zb-phone-only"])  # fmt: skip
            sources = gr.HTML(sources_panel([]), elem_id="zb-sources")
    view = ChatView(box=box, send=send, chat=chat, sources=sources, turns=turns, target=target, copy=copy,
                    export=export, clear=clear, to_sources=to_sources, to_chat=to_chat, note_row=note_row,
                    note=note, send_note=send_note, feedback_status=feedback_status,
                    scope=scope, saved=saved, chat_id=chat_id, past=past, name=name, rename=rename,
                    forget=forget)  # fmt: skip
    _wire_chat(bot, view)
    _wire_past_chats(bot, demo, view)
    for trigger in (demo.load, tab.select):  # documents come and go in the Documents tab
        trigger(lambda chosen: document_choices(bot, chosen), view.scope, view.scope, api_visibility="private")
    return view


def document_choices(bot: ZoneBot, chosen: list[str] | None) -> Any:
    """The documents to choose from (title and file), keeping those chosen that are still indexed."""
    try:
        docs = sorted(bot.documents(), key=lambda d: str(d.get("title") or d["source"]).lower())
    except ZoneBotError:  # no index yet: nothing to choose
        docs = []
    names = {d["source"] for d in docs}
    return gr.update(choices=[(f"{d.get('title') or d['source']} ({d['source']})", d["source"]) for d in docs],
                     value=[c for c in chosen or [] if c in names])  # fmt: skip


def _past_chats_box() -> tuple[gr.Radio, gr.Textbox, gr.Button, gr.Button]:
    """The collapsed "Past chats" list with its Rename and Delete controls."""
    with gr.Accordion("Past chats", open=False, elem_id="zb-chats"):
        past = gr.Radio(choices=[], show_label=False, elem_id="zb-past")
        with gr.Row(elem_id="zb-chat-admin"):
            name = gr.Textbox(show_label=False, placeholder="A new name for the chosen chat", scale=3, container=False,
                              elem_id="zb-chat-name")  # fmt: skip
            rename = gr.Button("Rename", size="sm", scale=1, min_width=70, elem_id="zb-rename")
            forget = gr.Button("Delete", size="sm", variant="stop", scale=1, min_width=70, elem_id="zb-forget")
    return past, name, rename, forget


@dataclass
class ChatView:
    """The Chat tab's components that its events read or write."""

    box: gr.Textbox
    send: gr.Button
    chat: gr.Chatbot
    sources: gr.HTML
    turns: gr.State  #: one ``Turn`` per question asked: for the sources panel, feedback and export
    target: gr.State  #: the answer the note being typed is about
    copy: gr.Button
    export: gr.Button
    clear: gr.Button
    to_sources: gr.Button
    to_chat: gr.Button
    note_row: gr.Row
    note: gr.Textbox
    send_note: gr.Button
    feedback_status: gr.HTML
    scope: gr.Dropdown  #: the documents to ask (none chosen: all)
    saved: gr.BrowserState  #: past chats, in the browser (``chats``)
    chat_id: gr.State
    past: gr.Radio
    name: gr.Textbox
    rename: gr.Button
    forget: gr.Button


def _wire_chat(bot: ZoneBot, v: ChatView) -> None:
    ui: dict[str, Any] = {"api_visibility": "private"}
    respond = make_respond(bot)
    outputs = [v.box, v.chat, v.sources, v.turns]
    keep = make_keep(bot)
    for trigger in (v.box.submit, v.send.click):
        trigger(respond, [v.box, v.chat, v.turns, v.scope], outputs, show_progress="hidden", **ui).then(
            keep, [v.saved, v.chat_id, v.turns], [v.saved, v.chat_id, v.past], **ui
        )
    v.chat.example_select(_example_handler(respond), [v.chat, v.turns, v.scope], outputs, show_progress="hidden",
                          **ui).then(keep, [v.saved, v.chat_id, v.turns], [v.saved, v.chat_id, v.past], **ui)  # fmt: skip

    def new_chat():  # type: ignore[no-untyped-def]
        return [], sources_panel([]), [], "", gr.update(visible=False), "", None, None

    reset = [v.chat, v.sources, v.turns, v.box, v.note_row, v.feedback_status, v.chat_id, v.past]
    v.clear.click(new_chat, None, reset, queue=False, **ui)
    on_like, on_note = make_feedback(bot)
    noted = [v.target, v.note_row, v.note, v.feedback_status]
    v.chat.like(on_like, [v.chat, v.turns], noted, queue=False, **ui)
    for trigger in (v.send_note.click, v.note.submit):
        trigger(on_note, [v.target, v.note, v.turns], noted, queue=False, **ui)
    v.copy.click(None, js=COPY_JS, **ui)
    v.export.click(None, js=EXPORT_JS, **ui)
    v.to_sources.click(None, js=TO_SOURCES_JS, **ui)
    v.to_chat.click(None, js=TO_CHAT_JS, **ui)


def make_keep(bot: ZoneBot):  # type: ignore[no-untyped-def]
    """After each question: the conversation kept in the browser's list of chats."""

    def keep(saved: Any, chat_id: str | None, turns: list[Turn] | None):  # type: ignore[no-untyped-def]
        if not turns:
            return gr.skip(), gr.skip(), gr.skip()
        saved, chat_id = chats.store(saved, chat_id, turns)
        return saved, chat_id, gr.update(choices=chats.choices(saved), value=chat_id)

    return keep


def _wire_past_chats(bot: ZoneBot, demo: gr.Blocks, v: ChatView) -> None:
    """Past chats: the latest reopened on load; open, rename and delete from the list."""
    ui: dict[str, Any] = {"api_visibility": "private"}
    limit = bot.settings.max_question_chars

    def show(saved: chats.Saved, chat_id: str | None):  # type: ignore[no-untyped-def]
        """The chat ``chat_id`` on screen (a new one when None), and the list."""
        chat = chats.find(saved, chat_id)
        try:
            totals = {d["source"]: int(d.get("passages") or 0) for d in bot.documents()} if chat else {}
        except ZoneBotError:  # no index: the sources are shown without "of N passages"
            totals = {}
        messages, turns = chats.opened(chat, totals, limit) if chat else ([], [])
        listed = gr.update(choices=chats.choices(saved), value=chat["id"] if chat else None)
        return saved, messages, sources_panel(turns), turns, chat["id"] if chat else None, listed

    shown = [v.saved, v.chat, v.sources, v.turns, v.chat_id, v.past]

    def on_load(saved: Any):  # type: ignore[no-untyped-def]
        saved = chats.read(saved)
        if saved["current"] is None:  # nothing to reopen: leave alone a question asked while the page loaded
            listed = gr.update(choices=chats.choices(saved), value=None)
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), listed
        return show(saved, saved["current"])

    def open_chat(chosen: str | None, saved: Any):  # type: ignore[no-untyped-def]
        saved = chats.read(saved)
        saved["current"] = chosen if chats.find(saved, chosen) else None
        return show(saved, saved["current"])

    def rename_chat(chosen: str | None, name: str, saved: Any):  # type: ignore[no-untyped-def]
        saved = chats.rename(saved, chosen, name or "")
        return saved, gr.update(choices=chats.choices(saved), value=chosen), ""

    def forget_chat(chosen: str | None, current: str | None, saved: Any):  # type: ignore[no-untyped-def]
        saved = chats.delete(saved, chosen)
        if chosen == current:
            return show(saved, None)
        return saved, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.update(choices=chats.choices(saved), value=None)

    demo.load(on_load, v.saved, shown, **ui)
    v.past.input(open_chat, [v.past, v.saved], shown, **ui)
    v.rename.click(rename_chat, [v.past, v.name, v.saved], [v.saved, v.past, v.name], **ui)
    v.name.submit(rename_chat, [v.past, v.name, v.saved], [v.saved, v.past, v.name], **ui)
    v.forget.click(forget_chat, [v.past, v.chat_id, v.saved], shown, **ui)
    v.clear.click(lambda saved: {**chats.read(saved), "current": None}, v.saved, v.saved, queue=False, **ui)
