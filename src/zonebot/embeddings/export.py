"""Building the int8 ONNX encoder from the bundled model: export, fuse, quantise, verify, publish.

The model is exported to ONNX with eager attention, its layers fused by onnxruntime's transformer
optimizer (one Attention, SkipLayerNorm and BiasGelu op per layer), then dynamically quantised to
int8 (per-channel signed 7-bit weights: the u8s8 kernels, without the int16 saturation of AVX2 CPUs
that lack VNNI). The result must agree with torch before anyone indexes with it.

We do not use sentence-transformers' own ``backend="onnx"``: it goes through optimum-onnx, whose
releases require transformers<4.58 while sentence-transformers 6 requires transformers>=5.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ZoneBotError
from .model import MODEL_NAME, ONNX_RECIPE, load_torch_model, model_hash, model_path

#: An export whose embeddings are further than this from torch's is refused.
MIN_EXPORT_COSINE = 0.98
ONNX_FILE = "model.onnx"
MANIFEST = "manifest.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_PROBE = [
    "How large is the Jinqiao zone?",
    "The zone covers a total area of 20.48 square kilometers and hosts advanced manufacturing.",
]


def missing_package_error(exc: ImportError) -> ZoneBotError:
    return ZoneBotError(
        f"The onnx-int8 embedding backend needs the 'onnx' and 'onnxruntime' packages ({exc}). "
        "Install them (pip install onnx onnxruntime) or set ZONEBOT_EMBED_BACKEND=torch."
    )


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean) then Normalize, in numpy."""
    m = mask[..., None].astype(np.float32)
    vectors = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


def _check_pooling(model_dir: Path) -> None:
    """The ONNX path re-implements pooling: refuse a model whose pooling is not plain mean + Normalize."""
    modules = json.loads((model_dir / "modules.json").read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if kinds != ["Transformer", "Pooling", "Normalize"] or modes != ["pooling_mode_mean_tokens"]:
        raise ZoneBotError(f"onnx-int8 backend supports mean pooling + Normalize only, got {kinds} {modes}")


def build_onnx_int8(dest: Path) -> Path:
    """Export the bundled model to ONNX, quantise it, check it against torch, then move it to ``dest``.

    Built in a temporary sibling folder and renamed into place, so ``dest`` is either absent or
    complete; a concurrent builder that loses the race throws its copy away.
    """
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise missing_package_error(exc) from exc
    _check_pooling(model_path())
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        _build_into(tmp)
        publish(tmp, dest)
    except ZoneBotError:
        raise
    except ImportError as exc:
        raise missing_package_error(exc) from exc
    except Exception as exc:
        raise ZoneBotError(
            f"Could not build the onnx-int8 embedding model in {dest}: {exc!r}. "
            "Set ZONEBOT_MODEL_CACHE to a writable folder, or ZONEBOT_EMBED_BACKEND=torch to use the fp32 backend."
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _build_into(folder: Path) -> None:
    """Every step of the export, into ``folder``: model, tokenizer, config and a manifest."""
    st = load_torch_model()
    fp32, fused = folder / "model_fp32.onnx", folder / "model_fused.onnx"
    _export_fp32(st, fp32)
    fusions = fuse(fp32, fused, st[0].auto_model.config)
    quantize(fused, folder / ONNX_FILE)
    fp32.unlink()
    fused.unlink()
    st.tokenizer.save_pretrained(str(folder))
    shutil.copy2(model_path() / "config.json", folder / "config.json")
    cosine = _verify(folder, st)
    _write_manifest(folder, cosine, fusions)


def _export_fp32(st: Any, out: Path) -> None:
    """The transformer alone (pooling is done in numpy) as fp32 ONNX, with dynamic batch and length."""
    import torch

    bert = st[0].auto_model.eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = st.tokenizer(_PROBE, padding=True, return_tensors="pt")
    export_graph(_Encoder(bert), bert, sample, out, "last_hidden_state", {0: "batch", 1: "tokens"})


def export_graph(wrapper: Any, model: Any, sample: Any, out: Path, output: str, output_axes: dict[int, str]) -> None:
    """``wrapper`` (a module taking the three BERT inputs) as fp32 ONNX at ``out``, with dynamic batch and
    length on the inputs and ``output_axes`` on ``output``; ``model`` is the transformers model inside it."""
    import torch

    # Eager attention exports the plain MatMul/Softmax pattern that the optimizer fuses (SDPA's does not fuse).
    attn_before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    with torch.no_grad(), warnings.catch_warnings(), _restore_attention(model, attn_before):
        # Tracer warnings about the attention-mask branches: with a mask always given they are constant.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            tuple(sample[k] for k in INPUTS),
            str(out),
            input_names=list(INPUTS),
            output_names=[output],
            dynamic_axes={**{k: {0: "batch", 1: "tokens"} for k in INPUTS}, output: output_axes},
            opset_version=17,
            dynamo=False,
        )
    # The exporter leaves the module in training mode (dropout on): a shared model must not stay that way.
    model.eval()


def fuse(fp32: Path, out: Path, cfg: Any) -> dict[str, int]:
    """onnxruntime's BERT fusion; returns the fused operator counts (recorded in the manifest)."""
    from onnxruntime.transformers import optimizer

    optimized = optimizer.optimize_model(
        str(fp32), model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size, opt_level=1
    )
    optimized.save_model_to_file(str(out))
    return {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}


def quantize(fused: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_root_logger():  # quantize_dynamic logs advice about calibration on the root logger
        quantize_dynamic(
            str(fused),
            str(out),
            op_types_to_quantize=["MatMul", "Attention"],
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # types of the fused ops' outputs
        )


def _verify(folder: Path, st: Any) -> float:
    """The quantised model must agree with torch before anyone indexes with it; returns the worst cosine."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(folder / ONNX_FILE), providers=["CPUExecutionProvider"])
    enc = st.tokenizer(_PROBE, padding=True, return_tensors="np")
    got = mean_pool(session.run(None, {k: enc[k].astype(np.int64) for k in INPUTS})[0], enc["attention_mask"])
    want = st.encode(_PROBE, normalize_embeddings=True, convert_to_numpy=True)
    cosine = float((got * want).sum(axis=1).min())
    if cosine < MIN_EXPORT_COSINE:
        raise ZoneBotError(f"quantised model disagrees with torch (cosine {cosine:.4f} < {MIN_EXPORT_COSINE})")
    return cosine


def _write_manifest(folder: Path, cosine: float, fusions: dict[str, int]) -> None:
    import onnxruntime as ort
    import torch

    manifest = {
        "model": MODEL_NAME,
        "model_hash": model_hash(),
        "recipe": ONNX_RECIPE,
        "probe_min_cosine": round(cosine, 5),
        "fused_ops": fusions,
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))


def publish(tmp: Path, dest: Path) -> None:
    """Rename the finished build into place; losing the race to a finished rival build is fine."""
    try:
        os.rename(tmp, dest)
    except OSError:
        if not (dest / MANIFEST).exists():  # not a finished rival build: a real error
            raise


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


@contextmanager
def _restore_attention(model: Any, implementation: str | None) -> Iterator[None]:
    """Give the shared torch model back its attention implementation after the export."""
    try:
        yield
    finally:
        model.set_attn_implementation(implementation or "sdpa")
