"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank.

This is the only place the question path reads the index: passages come out as ``Passage`` s,
their sentences as ``Sentence`` s with their vectors, and the corpus's words as a ``Lexicon``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .embeddings import Embedder
from .errors import SettingsError
from .index import Snapshot
from .lexicon import Lexicon
from .models import Passage, Sentence

RRF_K = 60
MODES = ("hybrid", "dense", "bm25")


def search(
    snapshot: Snapshot, embedder: Embedder, query: str, k: int, mode: str = "hybrid",
    query_vector: np.ndarray | None = None, sources: frozenset[str] | None = None,
) -> tuple[list[Passage], np.ndarray]:  # fmt: skip
    """The ``k`` best passages for ``query`` (copies, ``score`` set), and the query vector; with ``sources``
    (document names), only passages of those documents are searched."""
    if mode not in MODES:
        raise SettingsError(
            f"retrieval mode (ZONEBOT_RETRIEVAL, --retrieval) must be one of {', '.join(MODES)}, not {mode!r}"
        )
    qv = embedder.embed_query(query) if query_vector is None else query_vector
    depth = max(4 * k, 20)
    fused: dict[int, float] = {}
    if mode in ("hybrid", "dense"):
        for rank, (pid, _sim) in enumerate(snapshot.vectors.query(qv, depth, sources)):
            row = snapshot.row_of.get(pid)
            if row is not None:
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    if mode in ("hybrid", "bm25"):
        mask = None if sources is None else _source_mask(snapshot, sources)
        for rank, (row, _score) in enumerate(snapshot.lexical.search(query, depth, mask)):
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    if sources is not None:  # the filters above already keep to them; this holds whatever a backend returns
        fused = {row: score for row, score in fused.items() if snapshot.passages[row].source in sources}
    best = sorted(fused.items(), key=lambda item: -item[1])[:k]
    # Scale so that a passage ranked first by both rankings scores 1.0.
    top = (2.0 if mode == "hybrid" else 1.0) / (RRF_K + 1)
    return [replace(snapshot.passages[row], score=round(score / top, 4)) for row, score in best], qv


def _source_mask(snapshot: Snapshot, sources: frozenset[str]) -> np.ndarray:
    """1.0 for each passage row of a document in ``sources``, else 0.0 (BM25's weight mask)."""
    return np.fromiter((p.source in sources for p in snapshot.passages), dtype=np.float32, count=len(snapshot.passages))


def about(snapshot: Snapshot, embedder: Embedder, query: str, names: tuple[str, ...], lexicon: Lexicon, k: int,
          mode: str, query_vector: np.ndarray, sources: frozenset[str] | None = None) -> list[Passage]:  # fmt: skip
    """The ``k`` best passages for ``query`` among those that speak of every one of ``names`` (the
    subject asked about), looking three times as deep; others fill up when there are too few. ``sources``
    keeps the search to those documents."""
    found, _ = search(snapshot, embedder, query, 3 * k if names else k, mode, query_vector=query_vector,
                      sources=sources)  # fmt: skip
    if not names:
        return found
    on_subject = [p for p in found if not lexicon.unspoken(names, p.source, f"{p.title}\n{p.text}")]
    return (on_subject + [p for p in found if p not in on_subject])[:k]


def sentences(snapshot: Snapshot, passages: list[Passage]) -> list[Sentence]:
    """Every sentence of ``passages`` as evidence, with its stored vector, in reading order."""
    out: list[Sentence] = []
    for rank, p in enumerate(passages):
        row = snapshot.row_of.get(p.id)
        if row is None or not p.sentences:
            continue
        vectors = np.asarray(snapshot.sentence_vectors[snapshot.sentence_rows(row)], dtype=np.float32)
        out += [Sentence(p, i, a, b, rank, vectors[i]) for i, (a, b) in enumerate(p.sentences)]
    return out


def lexicon(snapshot: Snapshot) -> Lexicon:
    """The corpus's words and names, read from the generation's document texts."""
    docs = snapshot.docs
    return Lexicon.build(
        ((source, str(docs.get(source, {}).get("title", source)), text) for source, text in snapshot.document_texts()),
        snapshot.idf, snapshot.default_idf,
    )  # fmt: skip
