"""The runtime int8 ONNX encoder: onnxruntime sessions and the model's tokenizer, without torch.

A chat process that only answers loads this, not PyTorch (hundreds of MB less memory).
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ZoneBotError
from .export import MANIFEST, ONNX_FILE, build_onnx_int8, mean_pool, missing_package_error
from .model import MAX_SEQ_TOKENS, model_hash, quiet_offline_libraries

DEFAULT_CACHE = Path.home() / ".cache" / "zonebot"


def onnx_cache_dir(model_cache: Path | None = None) -> Path:
    """``<model_cache>/onnx-int8-<hash>``; ``model_cache`` is the ``model_cache`` setting (default
    ``~/.cache/zonebot``)."""
    return Path(model_cache or DEFAULT_CACHE).expanduser() / f"onnx-int8-{model_hash()}"


class WordPieces:
    """The model's tokenizer, straight from ``tokenizer.json`` with the ``tokenizers`` library.

    Called like a transformers tokenizer for counting (``tok(texts)["input_ids"]``). Not
    transformers' own AutoTokenizer: importing transformers imports torch, which would put
    hundreds of MB of torch into every chat process that only needs the ONNX model.
    """

    def __init__(self, path: Path, max_length: int = MAX_SEQ_TOKENS) -> None:
        from tokenizers import Tokenizer

        self._plain = Tokenizer.from_file(str(path))
        self._plain.no_truncation()
        self._plain.no_padding()
        self._model_input = Tokenizer.from_file(str(path))
        self._model_input.enable_truncation(max_length=max_length)
        pad = self._model_input.token_to_id("[PAD]")
        self._model_input.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")

    def __call__(self, texts: str | list[str], add_special_tokens: bool = True, truncation: bool = False) -> dict:
        if truncation:
            raise ValueError("WordPieces counts whole texts; use batch() for truncated model input")
        single = isinstance(texts, str)
        encoded = self._plain.encode_batch([texts] if single else list(texts), add_special_tokens=add_special_tokens)
        ids = [e.ids for e in encoded]
        return {"input_ids": ids[0] if single else ids}

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the model input's word pieces, [CLS] and [SEP] included."""
        return [tuple(o) for o in self._model_input.encode_batch([text])[0].offsets]  # type: ignore[misc]

    def batch(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Model input: truncated to the model's limit, padded to the longest text, as int64 arrays."""
        encoded = self._model_input.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }


class OnnxInt8Model:
    """The int8 ONNX encoder with the subset of SentenceTransformer's interface that we use."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise missing_package_error(exc) from exc
        self.folder = folder
        self.tokenizer = WordPieces(folder / "tokenizer.json")
        self.session = self._new_session(ort, threads)
        self._query_session: Any = None
        self._dimension = int(json.loads((folder / "config.json").read_text())["hidden_size"])

    def _new_session(self, ort: Any, threads: int | None) -> Any:
        """An onnxruntime session on the export, fully graph-optimised; ``threads`` None: onnxruntime's default."""
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        return ort.InferenceSession(str(self.folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])

    def get_embedding_dimension(self) -> int:
        return self._dimension

    def _session_for(self, n_texts: int) -> Any:
        """A question (a few texts) runs on a private one-thread session: two threads spinning against a
        busy neighbour (an ingest, other chats) cost hundreds of ms, one thread embeds a question in ~5 ms."""
        if n_texts > 8:
            return self.session
        if self._query_session is None:
            import onnxruntime as ort

            self._query_session = self._new_session(ort, threads=1)
        return self._query_session

    def encode(
        self,
        texts: list[str],
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """Unit vectors (always normalised), batched by length like sentence-transformers."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        session = self._session_for(len(texts))
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            enc = self.tokenizer.batch([texts[i] for i in idx])
            hidden = session.run(None, enc)[0]
            out[idx] = mean_pool(hidden, enc["attention_mask"])
        return out


    def token_vectors(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """The character spans of ``text``'s word pieces (no [CLS]/[SEP]) and their contextual vectors,
        unit length. One text per run, so a text's vectors never depend on what else is embedded."""
        enc = self.tokenizer.batch([text])
        hidden = self._session_for(1).run(None, enc)[0][0]
        n = int(enc["attention_mask"][0].sum())
        vectors = hidden[1 : n - 1]
        offsets = self.tokenizer.offsets(text)[1 : n - 1]
        return offsets, vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


@lru_cache(maxsize=4)
def load_onnx_int8(folder: Path) -> OnnxInt8Model:
    """The export in ``folder`` (built there first when missing), loaded once per process."""
    quiet_offline_libraries()
    if not (folder / MANIFEST).exists():
        print(f"zonebot: exporting the embedding model to int8 ONNX in {folder} (once; about 30 s)", file=sys.stderr)
        build_onnx_int8(folder)
    try:
        return OnnxInt8Model(folder)
    except ZoneBotError:
        raise
    except Exception as exc:
        raise ZoneBotError(
            f"Could not load the onnx-int8 embedding model from {folder}: {exc!r}. Delete that folder to rebuild "
            "it, or set ZONEBOT_EMBED_BACKEND=torch."
        ) from exc
