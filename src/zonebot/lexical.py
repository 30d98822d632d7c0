"""Lexical (BM25) search with a tokenizer that handles English and Chinese.

English words are lower-cased, stop words dropped and lightly stemmed; CJK text,
which has no spaces, becomes overlapping character bigrams so BM25 never scores 0
on Chinese. The index is built once per ingest and saved beside the vectors.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .tokens import STOPWORDS, stem, tokenize

__all__ = ["STOPWORDS", "LexicalIndex", "stem", "tokenize"]


def _bm25s():  # type: ignore[no-untyped-def]
    import bm25s

    # bm25s sets its own logger to DEBUG on import: under any logging set up for DEBUG (or by a library that
    # calls basicConfig) every index build printed "DEBUG:bm25s:Building index from tokens".
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class LexicalIndex:
    """BM25 over passages (bm25s), saved to and loaded from a folder."""

    def __init__(self, retriever) -> None:  # type: ignore[no-untyped-def]
        self._bm25 = retriever
        self._vocab: dict[str, int] = retriever.vocab_dict if retriever is not None else {}

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> LexicalIndex:
        """From texts already passed through ``tokenize`` (row i = text i)."""
        bm25s = _bm25s()
        if not token_lists:
            return cls(None)
        corpus = [tokens or ["\u2205"] for tokens in token_lists]
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        retriever.index(corpus, show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        bm25s = _bm25s()
        if not (folder / "params.index.json").exists():
            return cls(None)
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """``(row, score)`` pairs, best first; rows index the texts given to ``build``. ``mask`` (one weight per
        row, 0 or 1) leaves out the rows weighted 0."""
        if self._bm25 is None:
            return []
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if not tokens:
            return []
        n = int(self._bm25.scores["num_docs"])
        docs, scores = self._bm25.retrieve([tokens], k=min(k, n), show_progress=False, n_threads=1, weight_mask=mask)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
