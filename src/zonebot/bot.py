"""``ZoneBot``: the one API that the CLI, the UI, the evaluation and the tests all call."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import decision
from .answerers import AnswerRequest, PartEvidence, create
from .config import Settings
from .embeddings import Embedder
from .errors import IndexMissingError, SourcesError
from .evidence import Scorer, TokenVectors, WordVectors
from .index import Progress, Snapshot, current_generation, ingest, is_stale, open_current
from .models import Answer, IngestReport, Passage
from .question import Part, QuestionPlan, plan
from .retrieval import about, lexicon, search, sentences
from .sharing import FairShare
from .validation import clean_history, clean_question

Message = dict[str, Any]


class ZoneBot:
    """Grounded question answering over a corpus folder.

    >>> bot = ZoneBot()                     # ./corpus and ./index, or ZONEBOT_* settings
    >>> bot.ingest()                        # incremental
    >>> bot.ask("How large is the Jinqiao zone?").text
    """

    def __init__(
        self,
        corpus_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        **overrides: Any,
    ) -> None:
        base = settings or Settings.from_env()
        self.settings = Settings.from_env(**{**base.__dict__, "corpus_dir": corpus_dir or base.corpus_dir,
                                             "index_dir": index_dir or base.index_dir, **overrides})  # fmt: skip
        self.embedder = Embedder(self.settings.batch_size, self.settings.embed_backend, self.settings.model_cache)
        self._snapshot: Snapshot | None = None
        self._scorer: Scorer | None = None
        self._decision = decision.load()
        self._verifier: tuple[Any, decision.Decision | None] | None = None  # loaded with the first scorer
        self._word_vectors = WordVectors(self.embedder.embed_query)
        self._token_vectors = TokenVectors(self.embedder.token_vectors)
        self._lock = threading.Lock()
        self._share = FairShare(self.settings.workers)
        self._answerer = create(self.settings.llm or "extractive", self.settings)

    def _answer_verifier(self) -> tuple[Any, decision.Decision | None]:
        """The verifier and its decision, loaded once, when the first question needs a scorer (an ingest does not)."""
        if self._verifier is None:
            self._verifier = self._load_verifier()
        return self._verifier

    def _load_verifier(self) -> tuple[Any, decision.Decision | None]:
        """The answer verifier (built into the model cache on first use) and its decision; (None, None) when
        the ``verifier`` setting is off."""
        from .verifier import load_verifier, verifier_cache_dir
        from .verifier.artefact import has_artefact

        if self.settings.verifier == "off":
            return None, None
        if not has_artefact():
            print("zonebot: no verifier weights in the package; answering without the verifier", file=sys.stderr)
            return None, None

        return load_verifier(verifier_cache_dir(self.settings.model_cache)).probabilities, decision.load(verified=True)

    # -- index --------------------------------------------------------------------------
    def ingest(self, *, wait: bool = False, progress: Progress | None = None,
               show_progress: bool = False) -> IngestReport:  # fmt: skip
        """Bring the index in line with the corpus: adds, updates and removes what changed."""
        report = ingest(self.settings, self.embedder, wait=wait, progress=progress, show_progress=show_progress,
                        current=self._snapshot)  # fmt: skip
        self._refresh()
        return report

    def is_stale(self) -> bool:
        """True when the index is missing or differs from the corpus folder."""
        return is_stale(self.settings, self.embedder)

    def ensure_index(self, progress: Progress | None = None) -> IngestReport | None:
        """Ingest when the index is missing or stale; otherwise do nothing."""
        if self.is_stale():
            return self.ingest(wait=True, progress=progress)
        return None

    def _refresh(self) -> tuple[Snapshot, Scorer]:
        """The current generation, reloaded when another ingest has swapped in a new one."""
        name = current_generation(self.settings.index_dir)
        if name is None and self._snapshot is None and self.settings.corpus_dir.is_dir():
            self.ingest(wait=True)  # first use with no index yet: build it from the corpus
            name = current_generation(self.settings.index_dir)
        with self._lock:
            if self._snapshot is None or (name is not None and name != self._snapshot.name):
                if name is None:
                    raise IndexMissingError(
                        f"no index in {self.settings.index_dir}: run `zonebot ingest` first (or `make run`)"
                    )
                old = self._snapshot
                self._snapshot = open_current(self.settings.index_dir, self.embedder, self.settings.chroma_url)
                self._scorer = Scorer(self.embedder.embed, lexicon(self._snapshot), self._decision,
                                      self._word_vectors, self._token_vectors, *self._answer_verifier())  # fmt: skip
                if old is not None:
                    old.close()
            assert self._scorer is not None
            return self._snapshot, self._scorer

    @property
    def snapshot(self) -> Snapshot:
        return self._refresh()[0]

    def documents(self) -> list[dict[str, Any]]:
        """Indexed documents: source, title, publisher, date, url, passages, chars."""
        return [dict(info) for info in self.snapshot.docs.values()]

    def not_indexed(self) -> list[dict[str, Any]]:
        """Corpus files the index leaves out, by name: ``source``, ``reason`` and, for a file with the same text
        as an indexed document, ``duplicate_of`` (that document's source; else None)."""
        skipped = self.snapshot.manifest.get("skipped", {})
        return [{"source": s, "reason": v["reason"], "duplicate_of": v.get("duplicate_of")}
                for s, v in sorted(skipped.items())]  # fmt: skip

    def document_text(self, source: str) -> str | None:
        """The cleaned text of an indexed document."""
        return self.snapshot.document_text(source)

    # -- questions ----------------------------------------------------------------------
    def _check(self, question: str) -> str:
        return clean_question(question, self.settings.max_question_chars)

    def _sources(self, snapshot: Snapshot, sources: Any) -> frozenset[str] | None:
        """The documents a question is kept to (``None``: all); ``SourcesError`` for a name not indexed."""
        if sources is None or sources == [] or sources == ():
            return None
        names = [sources] if isinstance(sources, str) else sources
        if not isinstance(names, list | tuple | set | frozenset) or not all(isinstance(n, str) for n in names):
            raise SourcesError("sources must be a list of document names (the file names in the corpus folder)")
        unknown = sorted(n for n in names if n not in snapshot.docs)
        if unknown:
            known = sorted(snapshot.docs)
            shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
            raise SourcesError(f"not an indexed document: {', '.join(unknown)}. Indexed documents: {shown or 'none'}")
        return frozenset(names)

    def retrieve(self, query: str, k: int | None = None, mode: str | None = None, *,
                 sources: list[str] | None = None) -> list[Passage]:  # fmt: skip
        """The best passages for ``query``, best first, with fused scores; ``sources`` (document names) keeps
        the search to those documents."""
        snapshot, _ = self._refresh()
        passages, _ = search(snapshot, self.embedder, self._check(query), k or self.settings.top_k,
                             mode or self.settings.retrieval, sources=self._sources(snapshot, sources))  # fmt: skip
        return passages

    def _request(self, question: str, history: list[Message] | None, mode: str | None,
                 sources: list[str] | None = None) -> AnswerRequest:  # fmt: skip
        """question -> plan -> retrieval for each part -> evidence: everything an answerer needs.

        Each part's retrieval and scoring takes its turn in the bot's ``FairShare``; the parts answered are bounded
        (repeats once, at most ``max_parts``, no new part once ``question_seconds`` have passed), with a note.
        """
        question = self._check(question)
        history = clean_history(history)
        snapshot, scorer = self._refresh()
        chosen = self._sources(snapshot, sources)
        read = plan(question, history, scorer.lexicon)  # milliseconds, even for a long paste: no turn needed
        condense = getattr(self._answerer, "condense", None)
        if history and condense is not None and len(read.parts) == 1:
            # An LLM answerer may rewrite a follow-up into a standalone question for retrieval.
            read.parts = [replace(read.parts[0], text=condense(question, history) or read.parts[0].text)]
        evidence, notes = self._bounded_evidence(snapshot, scorer, read, mode, chosen)
        passages: dict[str, Passage] = {}
        for ev in evidence:
            for p in ev.passages:
                passages.setdefault(p.id, p)
        return AnswerRequest(question=question, history=history, plan=read, evidence=evidence,
                             passages=list(passages.values()), scorer=scorer, notes=notes)  # fmt: skip

    def _bounded_evidence(self, snapshot: Snapshot, scorer: Scorer, read: QuestionPlan, mode: str | None,
                          sources: frozenset[str] | None) -> tuple[list[PartEvidence], list[str]]:  # fmt: skip
        """Evidence for each distinct part, up to ``max_parts`` and while the ticket's time lasts (the first part
        always); ``read.parts`` is cut to the parts answered. Returns the evidence and notes for the reader."""
        asked = list(dict.fromkeys(read.parts))  # an ask repeated in a long paste is answered once
        parts, notes = asked[: self.settings.max_parts], []
        if len(asked) > len(parts):
            notes.append(f"This question asks {len(asked)} different things; the first {len(parts)} are answered "
                         "here. Ask the others separately.")  # fmt: skip
        ticket = self._share.ticket(self.settings.question_seconds, steps=len(parts))
        evidence: list[PartEvidence] = []
        for part in parts:
            if evidence and ticket.expired:
                notes.append(f"Time ran out after {len(evidence)} of the {len(parts)} asks of this question; "
                             "ask the others separately.")  # fmt: skip
                break
            with self._share.turn(ticket):
                evidence.append(self._evidence(snapshot, scorer, part, read.history_text, mode, sources))
        read.parts = parts[: len(evidence)]
        return evidence, notes

    def _evidence(self, snapshot: Snapshot, scorer: Scorer, part: Part, history: str, mode: str | None,
                  sources: frozenset[str] | None = None) -> PartEvidence:  # fmt: skip
        vector = self.embedder.embed_query(part.text)
        found = about(snapshot, self.embedder, part.text, part.names, scorer.lexicon, self.settings.top_k,
                      mode or self.settings.retrieval, vector, sources)  # fmt: skip
        found_sentences = sentences(snapshot, found)
        ranked = scorer.rank(part, found_sentences, vector, history)
        # Rerank: a passage is as good as its best sentence for the part.
        best: dict[str, float] = {}
        for s in ranked:
            best.setdefault(s.sentence.passage.id, s.probability if s.eligible else -1 + s.probability)
        found.sort(key=lambda p: -best.get(p.id, -2.0))
        return PartEvidence(part, ranked, found_sentences, found)

    def ask(self, question: str, history: list[Message] | None = None, *, sources: list[str] | None = None,
            retrieval: str | None = None) -> Answer:  # fmt: skip
        """Answer ``question`` from the corpus, citing passages; ``abstained`` when they don't say.

        ``history``: earlier ``{"role", "content"}`` messages, for a follow-up. ``sources``: document names
        (``documents()``' ``source``) to answer from, none other cited; ``SourcesError`` names any not indexed.
        """
        request = self._request(question, history, retrieval, sources)
        return _noted(self._answerer.answer(request), request)

    def stream(self, question: str, history: list[Message] | None = None, *,
               sources: list[str] | None = None) -> Iterator[str | Answer]:  # fmt: skip
        """Yield the growing answer text, then the final ``Answer`` (arguments as for ``ask``)."""
        req = self._request(question, history, None, sources)
        yield from self._answerer.stream(req)
        yield _noted(req.result if req.result is not None else self._answerer.answer(req), req)

    def as_retriever(self, k: int = 4, **kwargs: Any):  # type: ignore[no-untyped-def]
        """A LangChain ``BaseRetriever`` over this bot's index."""
        from .langchain import ZoneBotRetriever

        return ZoneBotRetriever(k=k, bot=self, **kwargs)

    # -- corpus files -------------------------------------------------------------------
    def add_document(self, name: str, data: bytes, *, if_exists: str = "error") -> str:
        """Store a file in the corpus folder (type and size checked; the name kept, made safe); returns its source.

        When a file of that name is there already, ``if_exists`` says what to do: ``"error"`` (``CorpusError``),
        ``"replace"`` (a new version of the document) or ``"rename"`` (keep both: ``name (2).md``). Call
        ``ingest()`` afterwards to index it (a replaced file is re-indexed alone).
        """
        from .corpus import add_document

        return add_document(self.settings.corpus_dir, name, data, if_exists=if_exists)

    def remove_document(self, source: str) -> None:
        """Delete a file (and its sidecar) from the corpus folder; call ``ingest()`` afterwards."""
        from .corpus import remove_document

        remove_document(self.settings.corpus_dir, source)


def _noted(answer: Answer, request: AnswerRequest) -> Answer:
    """``answer`` with the request's notes (asks left unanswered) in its notes and, as a last paragraph, its text."""
    if request.notes:
        answer.notes.extend(request.notes)
        answer.text = "\n\n".join([answer.text, *request.notes])
    return answer
