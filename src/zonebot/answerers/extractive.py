"""The default answerer: sentences quoted verbatim from the passages, each cited.

No language model: for each part of the question the sentences the evidence scorer accepts
are quoted, led by the direct answer (the figure, the date, "Yes" or "No") when the question
asks for one. A part the sources do not answer is named as such; when no part is answered,
it abstains and says so.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import facts
from ..citations import Citations
from ..config import Settings
from ..evidence import Scored
from ..models import Answer
from . import compose
from .base import AnswerRequest, PartEvidence, register


def select(ev: PartEvidence, accepts) -> list[Scored]:  # type: ignore[no-untyped-def]
    """The sentences that answer one part: the best accepted one, then what belongs with it and
    nothing else (an unrelated quote from another document would be padding):

    * a list question: up to three more accepted sentences of the same document;
    * an open question: one more accepted sentence of the same document;
    * a sentence that announces a list ("... three types:"): the sentences that follow it.
    """
    accepted = [s for s in ev.ranked if accepts(s)]
    if not accepted:
        return []
    best = accepted[0]
    chosen = [best]
    limit = 4 if ev.part.wants_list else 1 if ev.part.kind else 2
    for s in accepted[1:]:
        if len(chosen) < limit and _same_document(s, best) and s.text not in {c.text for c in chosen}:
            chosen.append(s)
    if best.text.rstrip().endswith((":", "：")):
        following = [s for s in ev.ranked if s.sentence.passage.id == best.sentence.passage.id
                     and best.sentence.index < s.sentence.index <= best.sentence.index + 3]  # fmt: skip
        chosen += sorted((s for s in following if s not in chosen), key=lambda s: s.sentence.index)
    return chosen


def disagreeing(ev: PartEvidence, best: Scored, lead: str, accepts) -> tuple[Scored, str] | None:  # type: ignore[no-untyped-def]
    """Another document's accepted sentence that states a different figure for the same ask (the
    sources disagree), with its figure; or None."""
    mine = facts.numbers(lead)
    for s in ev.ranked:
        if s is best or _same_document(s, best) or not accepts(s):
            continue
        theirs = compose.direct(ev.part, s)
        if theirs and facts.numbers(theirs) and facts.numbers(theirs) != mine:
            return s, theirs
    return None


def _same_document(a: Scored, b: Scored) -> bool:
    return a.sentence.passage.source == b.sentence.passage.source


def polar_choice(ev: PartEvidence, threshold: float) -> Scored | None:
    """For a yes/no part: the sentence that decides it (its year may differ from the one asked): of those
    about the subject and likely enough, the one the verifier finds most decisive (without the verifier:
    the one that meets every asked word best)."""
    likely = [s for s in ev.ranked if s.names_ok and s.probability >= threshold]
    if any("verify" in s.features for s in likely):
        return max(likely, key=lambda s: (s.features.get("verify", 0.0), s.probability), default=None)
    return max(likely, key=lambda s: (s.features.get("key_min", 0.0), s.probability), default=None)


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings

    def answer(self, req: AnswerRequest) -> Answer:
        refused = compose.refusal(req)
        if refused is not None:
            return refused
        book = Citations()
        lines: list[str] = []
        leads = []
        missing: list[str] = []
        for ev in req.evidence:
            line, lead = self._part(ev, req, book)
            if line is None:
                missing.append(ev.part.text)
            else:
                lines.append(line)
                leads.append((ev.part, lead))
        if not lines:
            return compose.abstention(req)
        return self._finish(req, lines, leads, missing, book)

    def _part(self, ev: PartEvidence, req: AnswerRequest, book: Citations) -> tuple[str | None, str | None]:
        """One part's text (lead, then quotes) and its direct answer, or ``(None, None)``."""
        if ev.part.polar:
            best = polar_choice(ev, req.scorer.decision.threshold)
            said = compose.verdict(ev.part, best, req.scorer.decision) if best is not None else None
            if best is None or said is None:
                return None, None
            return f"{said}: {compose.quote(best, ev.sentences, book, req.scorer.lexicon)}", said
        chosen = select(ev, req.scorer.accepts)
        if not chosen:
            return None, None
        lead = compose.direct(ev.part, chosen[0])
        rival = disagreeing(ev, chosen[0], lead, req.scorer.accepts) if lead else None
        if rival is not None:
            return compose.disagreement(ev, chosen[0], lead, rival, book, req.scorer.lexicon), lead
        quotes = " ".join(compose.quote(s, ev.sentences, book, req.scorer.lexicon) for s in chosen)
        if lead:
            return f"{lead} [{book.cite(chosen[0].sentence, chosen[0].probability)}]. {quotes}", lead
        return quotes, None

    def _finish(self, req: AnswerRequest, lines: list[str], leads, missing: list[str], book: Citations) -> Answer:  # type: ignore[no-untyped-def]
        text = lines
        if req.plan.comparison and len(leads) >= 2:
            winner = compose.comparison(req.plan.text, leads)  # each subject's figure, cited, then the verdict
            text = lines + ([f"So: {winner}"] if winner else [])
        text = text + [f"The sources don't say: {m}" for m in missing]
        reading = compose.reading(req)
        prefix = [r + "." for r in reading]
        return Answer(text="\n".join(prefix + text), abstained=False, citations=book.items, passages=req.passages,
                      question=req.question, search_query=req.search_query, reading=reading)  # fmt: skip

    def stream(self, req: AnswerRequest) -> Iterator[str]:
        answer = req.result = self.answer(req)
        words = answer.text.split(" ")
        for i in range(1, len(words) + 1):
            yield " ".join(words[:i])


@register("extractive")
def _factory(settings: Settings) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(settings)
