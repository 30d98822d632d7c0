"""``Verifier``: the int8 ONNX cross-encoder run with onnxruntime, without torch.

Scores (question part, candidate) pairs: each row of ``probabilities`` is (neither, yes, no) and sums
to 1. The export is built from the shipped weights on first use (about 30 s, once per machine) into
``<model_cache>/verifier-int8-<hash>``.
"""

from __future__ import annotations

import sys
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..embeddings.export import MANIFEST, ONNX_FILE, missing_package_error
from ..embeddings.model import quiet_offline_libraries
from ..embeddings.runtime import DEFAULT_CACHE
from ..errors import ZoneBotError
from .artefact import LABELS, MAX_LENGTH, artefact_hash, shipped_dir


def verifier_cache_dir(model_cache: Path | None = None, weights: Path | None = None) -> Path:
    """``<model_cache>/verifier-int8-<hash of the shipped weights>`` (``model_cache`` default ``~/.cache/zonebot``)."""
    return Path(model_cache or DEFAULT_CACHE).expanduser() / f"verifier-int8-{artefact_hash(weights or shipped_dir())}"


class Verifier:
    """The cross-encoder over (question part, candidate) pairs; thread-safe."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise missing_package_error(exc) from exc
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_LENGTH)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        self._lock = threading.Lock()  # the tokenizer's padding state is shared
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._limit = 50_000
        self.pairs_scored = 0

    def probabilities(self, question: str, candidates: list[str]) -> np.ndarray:
        """``(len(candidates), 3)`` class probabilities (neither, yes, no) of ``question`` against each candidate
        (``pair_text`` of a sentence); an empty list gives an empty ``(0, 3)`` array. Pairs already scored are
        kept (up to 50,000) and not run again."""
        new = list(dict.fromkeys(c for c in candidates if (question, c) not in self._cache))
        if new:
            found = self._run(question, new)
            with self._lock:
                if len(self._cache) + len(new) > self._limit:
                    self._cache.clear()
                self._cache.update({(question, c): p for c, p in zip(new, found, strict=True)})
        out = [self._cache.get((question, c)) for c in candidates]
        if any(p is None for p in out):  # evicted meanwhile by another thread
            return self._run(question, candidates)
        return np.stack(out) if out else np.zeros((0, len(LABELS)), dtype=np.float32)

    def _run(self, question: str, candidates: list[str]) -> np.ndarray:
        with self._lock:
            encoded = self.tokenizer.encode_batch([(question, c) for c in candidates])
        feed = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        logits = self.session.run(None, feed)[0]
        self.pairs_scored += len(candidates)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@lru_cache(maxsize=4)
def load_verifier(folder: Path, weights: Path | None = None) -> Verifier:
    """The export in ``folder`` (built there from ``weights``, default the shipped ones, when missing), once per process."""
    from .export import build

    quiet_offline_libraries()
    if not (folder / MANIFEST).exists():
        print(f"zonebot: building the int8 answer verifier in {folder} (once; about 30 s)", file=sys.stderr)
        build(folder, weights)
    try:
        return Verifier(folder)
    except ZoneBotError:
        raise
    except Exception as exc:
        raise ZoneBotError(f"Could not load the answer verifier from {folder}: {exc!r}. Delete that folder to "
                           "rebuild it.") from exc  # fmt: skip


