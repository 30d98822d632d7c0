"""Embedding backends: names, errors, and the onnx-int8 export against torch."""

from __future__ import annotations

import builtins
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zonebot import embeddings
from zonebot.embeddings import MODEL_NAME, Embedder
from zonebot.errors import SettingsError, ZoneBotError

SEED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SENTENCES = [
    "How large is the Jinqiao zone?",
    "The Jinqiao Export Processing Zone covers a total area of 20.48 square kilometers.",
    "Jinshan district hosts fine chemicals and new materials industrial parks.",
    "short",
]


def test_backend_names_differ_so_the_index_fingerprint_changes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from zonebot import ZoneBot

    assert Embedder(backend="torch").name == MODEL_NAME
    assert Embedder(backend="onnx-int8").name == f"{MODEL_NAME}:onnx-int8"
    assert ZoneBot(tmp_path, tmp_path / "index").embedder.backend == "onnx-int8"  # the default
    monkeypatch.setenv("ZONEBOT_EMBED_BACKEND", "torch")
    assert ZoneBot(tmp_path, tmp_path / "index").embedder.backend == "torch"


def test_unknown_backend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from zonebot import ZoneBot

    monkeypatch.setenv("ZONEBOT_EMBED_BACKEND", "onnx-fp16")
    with pytest.raises(SettingsError, match="ZONEBOT_EMBED_BACKEND='onnx-fp16'"):
        ZoneBot(tmp_path, tmp_path / "index")
    with pytest.raises(SettingsError, match="ZONEBOT_EMBED_BACKEND"):
        Embedder(backend="onnx-fp16")


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
def onnx_cache(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A private, empty export cache; the process-wide loaded exports are forgotten before and after."""
    embeddings.load_onnx_int8.cache_clear()
    yield tmp_path / "cache"
    embeddings.load_onnx_int8.cache_clear()


@pytest.mark.slow
def test_onnx_int8_exports_offline_and_agrees_with_torch(onnx_cache: Path) -> None:
    onnx = Embedder(backend="onnx-int8", model_cache=onnx_cache)
    torch = Embedder(backend="torch")
    a, b = onnx.embed(SENTENCES), torch.embed(SENTENCES)
    assert a.shape == b.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert float((a * b).sum(axis=1).min()) >= 0.98
    assert onnx.count_tokens(SENTENCES[1]) == torch.count_tokens(SENTENCES[1])

    folder = embeddings.onnx_cache_dir(onnx_cache)
    assert folder.parent == onnx_cache and (folder / "manifest.json").exists()
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temp folder left behind
    # Reused, not rebuilt: a second load does not touch the export.
    mtime = (folder / "model.onnx").stat().st_mtime_ns
    embeddings.load_onnx_int8.cache_clear()
    Embedder(backend="onnx-int8", model_cache=onnx_cache).embed(SENTENCES[:1])
    assert (folder / "model.onnx").stat().st_mtime_ns == mtime


def test_the_model_cache_setting_is_where_the_export_is_read(bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``ZoneBot(model_cache=...)`` is where the encoder is loaded from, not an environment variable."""
    from zonebot import ZoneBot

    default = bot.embedder.model.folder  # the session's export, already built
    shutil.copytree(default, tmp_path / "models" / default.name)
    other = ZoneBot(tmp_path, tmp_path / "index", model_cache=tmp_path / "models")
    assert other.embedder.model.folder == tmp_path / "models" / default.name
    assert other.embedder.embed(SENTENCES[:1]).shape == (1, 384)


@pytest.mark.slow
def test_index_built_with_the_torch_backend_answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The fp32 reference backend (not the default) still builds an index that answers."""
    from zonebot import ZoneBot

    monkeypatch.setenv("ZONEBOT_EMBED_BACKEND", "torch")
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    bot = ZoneBot(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert bot.embedder.name == MODEL_NAME
    bot.ingest()
    assert "20.48" in bot.ask("How large is the Jinqiao zone?").text
    # Dense-only, so the answer depends on the torch vectors and not on BM25.
    assert "20.48" in bot.ask("How large is the Jinqiao zone?", retrieval="dense").text


def test_onnx_tokenizer_gives_the_models_own_word_pieces(bot) -> None:  # type: ignore[no-untyped-def]
    """The ONNX path tokenizes without transformers: same ids, truncation and padding as the model's tokenizer."""
    assert bot.embedder.backend == "onnx-int8"
    ours = bot.embedder.model.tokenizer
    reference = embeddings.load_torch_model().tokenizer
    texts = ["Jinqiao covers 20.48 km², ¥3.5 billion!", "金桥出口加工区 " + "export zone " * 200, "x", ""]
    assert ours(texts)["input_ids"] == reference(texts, add_special_tokens=True)["input_ids"]
    want = reference(texts, padding=True, truncation=True, max_length=embeddings.MAX_SEQ_TOKENS, return_tensors="np")
    got = ours.batch(texts)
    assert got["input_ids"].shape[1] == embeddings.MAX_SEQ_TOKENS
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(got[key], want[key])


def test_a_chat_process_on_the_default_backend_stays_small(bot, seed_dirs) -> None:  # type: ignore[no-untyped-def]
    """A process that only answers loads the int8 model, not torch: its peak memory stays a few hundred MB."""
    corpus, index = seed_dirs
    code = (
        "import json, sys\n"
        "from zonebot import ZoneBot\n"
        "import zonebot.ui\n"
        f"bot = ZoneBot(corpus_dir={str(corpus)!r}, index_dir={str(index)!r})\n"
        "answer = bot.ask('How large is the Jinqiao zone?')\n"
        "hwm = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(json.dumps({'text': answer.text, 'torch': 'torch' in sys.modules, 'peak_mb': hwm / 1024}))\n"
    )
    # The child inherits the environment conftest already cleared of ZONEBOT_* settings: the defaults.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "20.48" in result["text"]
    assert result["torch"] is False
    assert result["peak_mb"] < 800, result
