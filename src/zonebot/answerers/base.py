"""The answerer interface and registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..models import Answer, Passage, Sentence

if TYPE_CHECKING:
    from ..config import Settings
    from ..evidence import Scored, Scorer
    from ..question import Part, QuestionPlan

Message = dict[str, Any]


@dataclass
class PartEvidence:
    """What retrieval found for one part of the question, scored."""

    part: Part
    ranked: list[Scored]  #: every sentence found, scored for the part; those that pass the checks first
    sentences: list[Sentence]  #: the same sentences in reading order
    passages: list[Passage]  #: the passages found, best first


@dataclass
class AnswerRequest:
    """Everything an answerer gets: domain types only, never the index."""

    question: str
    history: list[Message]
    plan: QuestionPlan
    evidence: list[PartEvidence]
    passages: list[Passage]  #: every part's passages, best first, once each
    scorer: Scorer
    #: The final answer, set by ``Answerer.stream`` once it has composed it.
    result: Answer | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def search_query(self) -> str:
        return self.plan.search_query

    @property
    def sentences(self) -> list[Sentence]:
        """Every sentence found for any part, once each."""
        seen: dict[tuple[str, int], Sentence] = {}
        for ev in self.evidence:
            for s in ev.sentences:
                seen.setdefault((s.passage.id, s.index), s)
        return list(seen.values())


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
