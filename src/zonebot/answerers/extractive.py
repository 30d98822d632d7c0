"""The default answerer: sentences quoted verbatim from the passages, each cited.

No language model: the answer is the best-supported sentences themselves, so every
statement is the source's own words and carries the marker of the passage it
comes from. When no sentence clears the support bar, or none speaks of the
question's subject, it abstains and says so.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..config import Settings
from ..evidence import Candidate, Question
from ..models import Answer, Citation
from .base import AnswerRequest, register

#: A sentence must score at least this to be given as an answer.
THRESHOLD = 0.40
#: Further sentences are added while they score within this of the best.
MARGIN = 0.06


def abstention(req: AnswerRequest, q: Question, best: Candidate | None) -> Answer:
    titles = list(dict.fromkeys(p.title for p in req.passages[:3]))
    if q.unknown_names:
        text = f"The sources don't cover {', '.join(n.title() for n in q.unknown_names)}."
    elif best is not None and best.missing and best.score >= THRESHOLD:
        text = (
            f"The sources don't say this about {', '.join(n.title() for n in best.missing)}; "
            "the closest statements they hold are about something else."
        )
    else:
        text = "The sources don't cover this question."
    if titles:
        text += " The closest passages are from: " + "; ".join(titles) + "."
    return Answer(text=text, abstained=True, passages=req.passages, question=req.question,
                  search_query=req.search_query)  # fmt: skip


def compose(chosen: list[Candidate], req: AnswerRequest) -> Answer:
    """Number the chosen sentences in reading order and build the cited answer."""
    chosen = sorted(chosen, key=lambda c: (c.rank, c.index))
    citations, parts = [], []
    for n, c in enumerate(chosen, 1):
        p = c.passage
        citations.append(
            Citation(n=n, source=p.source, title=p.title, quote=c.text, passage=p.text, passage_id=p.id,
                     score=round(c.score, 4), quote_start=c.start, publisher=p.publisher, date=p.date,
                     url=p.url, doc_start=p.start, ordinal=p.ordinal)
        )  # fmt: skip
        parts.append(f"{c.text} [{n}]")
    return Answer(text=" ".join(parts), abstained=False, citations=citations, passages=req.passages,
                  question=req.question, search_query=req.search_query)  # fmt: skip


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings

    def select(self, req: AnswerRequest) -> tuple[list[Candidate], Candidate | None]:
        """The sentences that answer, and the best sentence overall (for the abstention note)."""
        q = req.analysis
        cands = req.candidates or req.evidence.candidates(q, req.passages, req.query_vector)
        eligible = [c for c in cands if c.names_ok and c.typed]
        best_any = cands[0] if cands else None
        if not eligible or eligible[0].score < THRESHOLD:
            return [], best_any
        best = eligible[0]
        limit = 4 if q.wants_list else 2
        chosen = [best]
        for c in eligible[1:]:
            if len(chosen) >= limit:
                break
            if c.score >= max(THRESHOLD, best.score - MARGIN) and c.text not in {x.text for x in chosen}:
                chosen.append(c)
        # A sentence that announces a list ("... three types:") is answered by what follows it.
        if best.text.rstrip().endswith((":", "：")):
            following = [c for c in cands if c.passage.id == best.passage.id and c.index > best.index]
            for c in sorted(following, key=lambda c: c.index)[:3]:
                if c not in chosen:
                    chosen.append(c)
        return chosen, best_any

    def answer(self, req: AnswerRequest) -> Answer:
        chosen, best_any = self.select(req)
        if not chosen:
            return abstention(req, req.analysis, best_any)
        return compose(chosen, req)

    def stream(self, req: AnswerRequest) -> Iterator[str]:
        answer = req.result = self.answer(req)
        words = answer.text.split(" ")
        for i in range(1, len(words) + 1):
            yield " ".join(words[:i])


@register("extractive")
def _factory(settings: Settings) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(settings)
