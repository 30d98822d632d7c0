"""The answerer interface and registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..models import Answer, Passage

if TYPE_CHECKING:
    import numpy as np

    from ..config import Settings
    from ..evidence import Candidate, Evidence, Question

Message = dict[str, Any]


@dataclass
class AnswerRequest:
    """Everything an answerer gets: the question, the conversation and the evidence."""

    question: str
    history: list[Message]
    passages: list[Passage]
    evidence: Evidence
    analysis: Question
    query_vector: np.ndarray
    search_query: str = ""
    #: Every sentence of ``passages`` scored against the question, best first.
    candidates: list[Candidate] = field(default_factory=list)
    #: The final answer, set by ``Answerer.stream`` once it has composed it.
    result: Answer | None = None


class Answerer(Protocol):
    name: str

    def answer(self, request: AnswerRequest) -> Answer: ...

    def stream(self, request: AnswerRequest) -> Iterator[str]:
        """Yield the answer text as it grows, and leave the final ``Answer`` in ``request.result``."""
        ...


_REGISTRY: dict[str, Callable[[Settings], Answerer]] = {}


def register(name: str) -> Callable[[Callable[[Settings], Answerer]], Callable[[Settings], Answerer]]:
    def deco(factory: Callable[[Settings], Answerer]) -> Callable[[Settings], Answerer]:
        _REGISTRY[name] = factory
        return factory

    return deco


def available() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def create(name: str, settings: Settings) -> Answerer:
    _load_builtins()
    if name not in _REGISTRY:
        from ..errors import ZoneBotError

        raise ZoneBotError(f"unknown answerer {name!r}; set ZONEBOT_LLM to one of: {', '.join(available())}")
    return _REGISTRY[name](settings)


def _load_builtins() -> None:
    from . import extractive  # noqa: F401

    try:
        from . import llm  # noqa: F401
    except ImportError:
        pass
