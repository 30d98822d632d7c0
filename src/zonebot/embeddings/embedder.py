"""``Embedder``: zonebot's own small embedding interface over the torch or the int8 ONNX encoder."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SettingsError
from .model import MODEL_NAME, load_torch_model
from .runtime import load_onnx_int8, onnx_cache_dir

BACKENDS = ("torch", "onnx-int8")
DEFAULT_BACKEND = "onnx-int8"


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads for the duration (``None``: leave as is)."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Embedder:
    """Normalised sentence embeddings, counting every text it embeds."""

    def __init__(self, batch_size: int = 64, backend: str = DEFAULT_BACKEND, model_cache: Path | None = None) -> None:
        """``backend`` and ``model_cache`` are the settings of those names (see ``zonebot.config``)."""
        if backend not in BACKENDS:
            raise SettingsError(
                f"Unknown embedding backend {backend!r}: ZONEBOT_EMBED_BACKEND must be one of {BACKENDS}"
            )
        self.backend = backend
        #: Part of the index fingerprint: vectors of different backends are never mixed.
        self.name = MODEL_NAME if backend == "torch" else f"{MODEL_NAME}:{backend}"
        self.batch_size = batch_size
        self.model_cache = model_cache
        self.embedded = 0
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The SentenceTransformer (torch) or an ``OnnxInt8Model``; both have ``.tokenizer`` and ``.encode``."""
        return load_torch_model() if self.backend == "torch" else load_onnx_int8(onnx_cache_dir(self.model_cache))

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, including [CLS] and [SEP]."""
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def embed(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (batches are sorted by length)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock, _threads(1 if self.backend == "torch" and len(texts) <= 8 else None):
            # A question is a few dozen word pieces: one thread embeds it in ~15 ms, while two
            # threads spin against each other when the machine is busy (500 ms measured here).
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

    def token_vectors(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Contextual vectors of ``text``'s word pieces and their character spans (unit length)."""
        with self._lock:
            if self.backend == "torch":
                return _torch_token_vectors(self.model, text)
            return self.model.token_vectors(text)  # type: ignore[no-any-return]


def _torch_token_vectors(model: Any, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The same as ``OnnxInt8Model.token_vectors``, from sentence-transformers' token embeddings."""
    vectors = np.asarray(model.encode([text], output_value="token_embeddings")[0], dtype=np.float32)
    offsets = model.tokenizer(text, return_offsets_mapping=True, truncation=True)["offset_mapping"]
    n = min(len(offsets), len(vectors))
    vectors = vectors[1 : n - 1]
    return [tuple(o) for o in offsets[1 : n - 1]], vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
