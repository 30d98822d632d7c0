"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .embeddings import Embedder
from .errors import SettingsError
from .index import Snapshot
from .models import Passage

RRF_K = 60
MODES = ("hybrid", "dense", "bm25")


def search(
    snapshot: Snapshot, embedder: Embedder, query: str, k: int, mode: str = "hybrid",
    query_vector: np.ndarray | None = None,
) -> tuple[list[Passage], np.ndarray]:  # fmt: skip
    """The ``k`` best passages for ``query`` (copies, ``score`` set), and the query vector."""
    if mode not in MODES:
        raise SettingsError(
            f"retrieval mode (ZONEBOT_RETRIEVAL, --retrieval) must be one of {', '.join(MODES)}, not {mode!r}"
        )
    qv = embedder.embed_query(query) if query_vector is None else query_vector
    depth = max(4 * k, 20)
    fused: dict[int, float] = {}
    if mode in ("hybrid", "dense"):
        for rank, (pid, _sim) in enumerate(snapshot.vectors.query(qv, depth)):
            row = snapshot.row_of.get(pid)
            if row is not None:
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    if mode in ("hybrid", "bm25"):
        for rank, (row, _score) in enumerate(snapshot.lexical.search(query, depth)):
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    best = sorted(fused.items(), key=lambda item: -item[1])[:k]
    # Scale so that a passage ranked first by both rankings scores 1.0.
    top = (2.0 if mode == "hybrid" else 1.0) / (RRF_K + 1)
    return [replace(snapshot.passages[row], score=round(score / top, 4)) for row, score in best], qv
