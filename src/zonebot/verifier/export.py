"""Building the int8 ONNX verifier from the shipped weights: export, fuse, quantise, check, publish.

The same recipe as the embedding encoder (``embeddings.export``): eager attention, onnxruntime's BERT
fusion, dynamic int8 quantisation; the quantised model must agree with torch (largest difference of
any class probability on probe pairs) before it is used. Built in a temporary sibling folder and
renamed into place, so the cache folder is either absent or complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..embeddings.export import (
    INPUTS,
    MANIFEST,
    ONNX_FILE,
    export_graph,
    fuse,
    missing_package_error,
    publish,
    quantize,
)
from ..embeddings.model import model_path
from ..errors import ZoneBotError
from .artefact import MAX_LENGTH, artefact_hash, load_torch, pair_text, shipped_dir

#: An export whose class probabilities differ from torch's by more than this on the probes is refused.
MAX_PROBABILITY_GAP = 0.08
_PROBES = [
    ("How many people does the park employ?", pair_text("The park employs about 4,300 people.", "Park profile")),
    ("Is the port older than the airport?", pair_text("The airport opened in 1962, the port in 1988.", "History")),
    ("Who chairs the board?", pair_text("The board met twice in 2023 to review the budget.", "Annual report")),
]


def build(dest: Path, weights: Path | None = None) -> Path:
    """The int8 ONNX verifier from the weights in ``weights`` (default: the shipped ones), into ``dest``."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise missing_package_error(exc) from exc
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        _build_into(tmp, weights or shipped_dir())
        publish(tmp, dest)
    except ZoneBotError:
        raise
    except Exception as exc:
        raise ZoneBotError(f"Could not build the int8 verifier in {dest}: {exc!r}. "
                           "Set ZONEBOT_MODEL_CACHE to a writable folder, or ZONEBOT_VERIFIER=off.") from exc  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _build_into(folder: Path, weights: Path) -> None:
    import torch
    from transformers import AutoTokenizer

    model = load_torch(weights)
    tokenizer = AutoTokenizer.from_pretrained(str(model_path()), local_files_only=True)

    class _Logits(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    sample = _encode(tokenizer, "pt")
    fp32, fused = folder / "model_fp32.onnx", folder / "model_fused.onnx"
    export_graph(_Logits(model), model, sample, fp32, "logits", {0: "batch"})
    fusions = fuse(fp32, fused, model.config)
    quantize(fused, folder / ONNX_FILE)
    fp32.unlink()
    fused.unlink()
    tokenizer.save_pretrained(str(folder))
    gap = _check(folder, model, tokenizer)
    manifest = {"artefact": artefact_hash(weights), "probe_max_gap": round(gap, 5), "fused_ops": fusions,
                "max_length": MAX_LENGTH}  # fmt: skip
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))


def _encode(tokenizer: Any, kind: str) -> Any:
    questions, candidates = zip(*_PROBES, strict=True)
    return tokenizer(list(questions), list(candidates), padding=True, truncation=True, max_length=MAX_LENGTH,
                     return_tensors=kind)  # fmt: skip


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check(folder: Path, model: Any, tokenizer: Any) -> float:
    """The quantised model must agree with torch; returns the largest probability gap on the probes."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(folder / ONNX_FILE), providers=["CPUExecutionProvider"])
    enc = _encode(tokenizer, "np")
    got = _softmax(session.run(None, {k: enc[k].astype(np.int64) for k in INPUTS})[0])
    with torch.no_grad():
        want = _softmax(model(**{k: torch.from_numpy(enc[k].astype(np.int64)) for k in INPUTS}).logits.numpy())
    gap = float(np.abs(got - want).max())
    if gap > MAX_PROBABILITY_GAP:
        raise ZoneBotError(f"quantised verifier disagrees with torch (probability gap {gap:.3f} > {MAX_PROBABILITY_GAP})")
    return gap
