"""Property-based fuzzing (hypothesis, derandomized: the same examples every run, bounded in number).

Whatever bytes, file names and sidecars the corpus holds, and whatever a caller sends as a
question and history, nothing escapes but a ``ZoneBotError`` that says why.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_robustness import LINGANG_HTML, TEXT_PDF
from tests.test_validation import _call_ask
from zonebot.errors import LoadError, ZoneBotError
from zonebot.loading import load_document, scan
from zonebot.models import Answer
from zonebot.splitting import split_document

FUZZ = settings(
    derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
HOSTILE_CHARS = st.sampled_from(["\ud800", "\udfff", "\x00", "\x1b", "\u200b", "\u202e", "a", " ", "金", "я", "?", "."])
ANY_TEXT = st.one_of(st.text(), st.text(alphabet=HOSTILE_CHARS))
JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["role", "content", "metadata", "type", "text", "title"]) | st.text(), inner, max_size=4
        )
    ),  # fmt: skip
    max_leaves=12,
)
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", ""]) | JSON_LIKE, "content": JSON_LIKE},
    optional={"metadata": JSON_LIKE},
)
HISTORY = st.one_of(JSON_LIKE, st.lists(MESSAGE | JSON_LIKE, max_size=5))
# Bytes that look like the start of real files, then damage.
SEEDS = [b"", TEXT_PDF[:200], TEXT_PDF, LINGANG_HTML.encode(), b"\xff\xfe", b"---\ntitle: x\n---\n# T\n", b"%PDF-1.7\n"]
CONTENT = st.builds(lambda seed, tail: seed + tail, st.sampled_from(SEEDS), st.binary(max_size=400))
SIDECAR = st.one_of(st.none(), st.binary(max_size=60), JSON_LIKE.map(lambda v: json.dumps(v).encode()))
NAME = st.binary(min_size=1, max_size=24).filter(lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b".."))


@FUZZ
@given(content=CONTENT, suffix=st.sampled_from([".txt", ".md", ".html", ".htm", ".pdf"]), sidecar=SIDECAR)
def test_a_loader_gives_a_document_or_a_load_error_whatever_the_bytes(bot, content: bytes, suffix: str,
                                                                     sidecar: bytes | None) -> None:  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"doc{suffix}"
        path.write_bytes(content)
        if sidecar is not None:
            path.with_name(path.name + ".meta.json").write_bytes(sidecar)
        warnings: list[str] = []
        try:
            doc = load_document(path, path.name, warn=warnings.append)
        except LoadError as exc:
            assert str(exc)
            return
        # What is kept can be stored (UTF-8 JSON) and split into passages within the model's limit.
        json.dumps(doc.__dict__, ensure_ascii=False).encode("utf-8")
        for passage in split_document(doc, bot.embedder.count_tokens, 160):
            assert bot.embedder.count_tokens(passage.text) <= 160


@FUZZ
@given(names=st.lists(NAME, min_size=1, max_size=6, unique=True))
def test_any_file_names_are_listed_with_names_that_can_be_stored(names: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            with open(os.path.join(os.fsencode(tmp), name), "wb") as fh:
                fh.write(b"The zone covers twelve square kilometers of land in the south of the city.\n")
        found = scan(Path(tmp))
        listed = [source for source, _ in found.files] + [s.source for s in found.ignored]
        assert len(listed) == len(names)
        for source in listed:
            source.encode("utf-8")  # no lone surrogates: reports, manifests and citations can hold it
        for _, path in found.files:
            assert path.is_file()


def _ask_outcome(bot: Any, question: Any, history: Any) -> None:
    try:
        answer = bot.ask(question, history=history)
    except ZoneBotError as exc:
        assert str(exc)
        return
    assert isinstance(answer, Answer) and answer.text


@FUZZ
@given(question=st.one_of(ANY_TEXT, JSON_LIKE, st.binary(max_size=20)), history=HISTORY)
def test_ask_answers_or_says_why_whatever_the_question_and_history(bot, question: Any, history: Any) -> None:
    _ask_outcome(bot, question, history)


@FUZZ
@given(question=ANY_TEXT, history=HISTORY)
def test_ask_reads_any_question_with_a_known_subject(bot, question: str, history: Any) -> None:
    """The same with a real question inside, so the answering path (not only validation) is fuzzed."""
    _ask_outcome(bot, "How large is the Jinqiao zone? " + question, history)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(question=st.one_of(ANY_TEXT, JSON_LIKE), history=HISTORY)
def test_the_ask_endpoint_answers_or_gives_the_reason(server_url: str, question: Any, history: Any) -> None:
    event, data = _call_ask(server_url, [question, history])
    if event == "complete":
        assert isinstance(data[0]["text"], str)
    else:
        assert event == "error" and data and data.get("error"), data  # a reason, not a bare failure
