"""Embedding backends: names, errors, and the onnx-int8 export against torch."""

from __future__ import annotations

import builtins
import shutil
from pathlib import Path

import numpy as np
import pytest

from zonebot import embeddings
from zonebot.embeddings import MODEL_NAME, Embedder
from zonebot.errors import ZoneBotError

SEED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SENTENCES = [
    "How large is the Jinqiao zone?",
    "The Jinqiao Export Processing Zone covers a total area of 20.48 square kilometers.",
    "Jinshan district hosts fine chemicals and new materials industrial parks.",
    "short",
]


def test_backend_names_differ_so_the_index_fingerprint_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Embedder().name == MODEL_NAME == Embedder(backend="torch").name
    assert Embedder(backend="onnx-int8").name == f"{MODEL_NAME}:onnx-int8"
    monkeypatch.setenv("ZONEBOT_EMBED_BACKEND", "onnx-int8")
    assert Embedder().backend == "onnx-int8"


def test_unknown_backend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZONEBOT_EMBED_BACKEND", "onnx-fp16")
    with pytest.raises(ZoneBotError, match="ZONEBOT_EMBED_BACKEND"):
        Embedder()


def test_missing_onnx_package_names_the_package_and_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "onnx" or name.startswith("onnxruntime"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ZoneBotError, match=r"pip install onnx onnxruntime.*ZONEBOT_EMBED_BACKEND"):
        embeddings.build_onnx_int8(tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.fixture
def onnx_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A private, empty export cache; the process-wide loaded export is forgotten before and after."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZONEBOT_MODEL_CACHE", str(tmp_path / "cache"))
    embeddings._load_onnx_int8.cache_clear()
    yield tmp_path / "cache"
    embeddings._load_onnx_int8.cache_clear()


@pytest.mark.slow
def test_onnx_int8_exports_offline_and_agrees_with_torch(onnx_cache: Path) -> None:
    onnx = Embedder(backend="onnx-int8")
    torch = Embedder(backend="torch")
    a, b = onnx.embed(SENTENCES), torch.embed(SENTENCES)
    assert a.shape == b.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert float((a * b).sum(axis=1).min()) >= 0.98
    assert onnx.count_tokens(SENTENCES[1]) == torch.count_tokens(SENTENCES[1])

    folder = embeddings.onnx_cache_dir()
    assert folder.parent == onnx_cache and (folder / "manifest.json").exists()
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temp folder left behind
    # Reused, not rebuilt: a second load does not touch the export.
    mtime = (folder / "model.onnx").stat().st_mtime_ns
    embeddings._load_onnx_int8.cache_clear()
    Embedder(backend="onnx-int8").embed(SENTENCES[:1])
    assert (folder / "model.onnx").stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_index_built_with_onnx_int8_answers(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from zonebot import ZoneBot

    monkeypatch.setenv("ZONEBOT_EMBED_BACKEND", "onnx-int8")
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    bot = ZoneBot(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert bot.embedder.name.endswith(":onnx-int8")
    bot.ingest()
    assert "20.48" in bot.ask("How large is the Jinqiao zone?").text
    # Dense-only, so the answer depends on the int8 vectors and not on BM25.
    assert "20.48" in bot.ask("How large is the Jinqiao zone?", retrieval="dense").text
