"""All of zonebot's settings in one place, read from ``ZONEBOT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """zonebot configuration. Every field has an environment variable ``ZONEBOT_<NAME>``."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    #: Chroma server URL (``http://host:port``); unset means the embedded store under ``index_dir``.
    chroma_url: str | None = None
    #: Largest passage, in the embedding model's word pieces (the model truncates past 256).
    passage_tokens: int = 160
    #: Passages retrieved per question.
    top_k: int = 6
    #: Retrieval mode: ``hybrid`` (dense + BM25 fused), ``dense`` or ``bm25``.
    retrieval: str = "hybrid"
    #: Answerer: unset/``extractive`` (default, no LLM), ``openai`` or ``ollama``.
    llm: str | None = None
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 30.0
    #: Longest question accepted, in characters.
    max_question_chars: int = 2000
    #: Embedding batch size.
    batch_size: int = 64
    #: Embedding backend: ``onnx-int8`` (exported offline from the bundled model on first use) or ``torch`` (fp32).
    embed_backend: str = "onnx-int8"
    #: Where the onnx-int8 export is cached (default ``~/.cache/zonebot``).
    model_cache: Path | None = None
    #: Chat server address and port (``zonebot serve``, ``app.py``).
    host: str = "127.0.0.1"
    port: int = 7860
    #: ``user:password`` to require a login on the chat server.
    auth: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from the environment, with keyword overrides (``None`` overrides are ignored)."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = _env(f"ZONEBOT_{f.name.upper()}")
            if raw is None:
                continue
            try:
                if f.type in ("Path",):
                    values[f.name] = Path(raw)
                elif f.type == "int":
                    values[f.name] = int(raw)
                elif f.type == "float":
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
            except ValueError:
                from .errors import ZoneBotError

                raise ZoneBotError(f"ZONEBOT_{f.name.upper()} must be a {f.type}, got {raw!r}") from None
        settings = cls(**values)  # type: ignore[arg-type]
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key in ("corpus_dir", "index_dir"):
            if key in clean:
                clean[key] = Path(clean[key])  # type: ignore[arg-type]
        return replace(settings, **clean)  # type: ignore[arg-type]
