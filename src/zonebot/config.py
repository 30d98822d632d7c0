"""All of zonebot's settings in one place, read from ``ZONEBOT_*`` environment variables.

This is the only module that reads ``ZONEBOT_*``: a ``Settings`` is parsed and validated once
(``Settings.from_env``) and handed down; the CLI's ``--help`` lists every field from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ByteSize, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import SettingsError

ENV_PREFIX = "ZONEBOT_"


class Settings(BaseSettings):
    """zonebot configuration. Every field has an environment variable ``ZONEBOT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="forbid")

    corpus_dir: Path = Field(Path("corpus"), description="the documents")
    index_dir: Path = Field(Path("index"), description="where the index lives")
    chroma_url: str | None = Field(None, description="a Chroma server (http://host:port) instead of the embedded store")
    passage_tokens: int = Field(
        160, ge=16, le=254, description="largest passage, in word pieces (the model truncates past 256)"
    )
    top_k: int = Field(6, ge=1, le=100, description="passages retrieved per question")
    retrieval: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="hybrid, dense or bm25")
    llm: str | None = Field(None, description="answerer: unset or extractive (no LLM), openai or ollama")
    llm_base_url: str | None = Field(None, description="the LLM server's URL")
    llm_model: str | None = Field(None, description="the LLM's model name")
    llm_api_key: str | None = Field(None, repr=False, description="the LLM server's API key")
    llm_timeout: float = Field(30.0, gt=0, description="seconds to wait for the LLM")
    max_question_chars: int = Field(2000, ge=1, description="longest question accepted, in characters")
    max_parts: int = Field(8, ge=1, le=100, description="asks of one question answered (a repeated ask counts once)")
    question_seconds: float = Field(
        15.0, gt=0, description="time one question may take before it is answered with the asks done so far"
    )
    workers: int | None = Field(
        None, ge=1, le=256, description="answering steps run at once (unset: the machine's CPU cores)"
    )
    batch_size: int = Field(64, ge=1, description="embedding batch size (texts per forward pass)")
    embed_backend: Literal["onnx-int8", "torch"] = Field(
        "onnx-int8", description="onnx-int8 (exported from the bundled model on first use) or torch (fp32)"
    )
    model_cache: Path | None = Field(
        None, description="where the int8 ONNX exports (embedder, verifier) are kept; unset: ~/.cache/zonebot"
    )
    verifier: Literal["on", "off"] = Field(
        "on", description="the answer verifier (a cross-encoder reading question and sentence together): on or off"
    )
    host: str = Field("127.0.0.1", description="chat server address")
    port: int = Field(7860, ge=1, le=65535, description="chat server port")
    auth: str | None = Field(None, repr=False, description="user:password to require a login on the chat server")
    allowed_hosts: str | None = Field(
        None,
        description="more names the chat server answers to, comma-separated (*.example.org for a domain; "
        "* turns the Host check off); it always answers to the addresses it listens on",
    )
    login_failures_per_minute: int = Field(
        10, ge=1, description="failed logins per client per minute before each further attempt is delayed"
    )
    feedback_note_chars: int = Field(2000, ge=1, description="longest feedback note accepted, in characters")
    feedback_record_bytes: ByteSize = Field(
        ByteSize(64 * 1024), ge=1024, description="largest feedback record in bytes (64KiB, 1MB; older history turns are dropped to fit)"
    )
    feedback_per_minute: int = Field(20, ge=1, description="feedback records accepted per client per minute")
    feedback_file_bytes: ByteSize = Field(
        ByteSize(10 * 2**20), ge=1024, description="feedback.jsonl rotates to feedback.jsonl.1 past this size in bytes"
    )
    feedback_backups: int = Field(5, ge=0, description="rotated feedback files kept (feedback.jsonl.1 ... .N)")

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from the environment, with keyword overrides (``None`` overrides are ignored).

        Raises ``SettingsError`` naming the variable (or keyword) and what it must be.
        """
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise SettingsError(_explain(exc, given)) from None

    def replace(self, **overrides: Any) -> Settings:
        """A copy with ``overrides`` applied and validated (``None`` overrides are ignored)."""
        return Settings.from_env(**{**self.model_dump(), **{k: v for k, v in overrides.items() if v is not None}})


def _explain(exc: ValidationError, given: dict[str, Any]) -> str:
    problems = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        where = f"{name}=" if name in given else f"{ENV_PREFIX}{name.upper()}="
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown setting {name!r} (see `zonebot --help` for the settings)")
        else:
            problems.append(f"{where}{err.get('input')!r}: {err['msg']}")
    return "invalid settings: " + "; ".join(problems)


def settings_help() -> str:
    """Every setting with its environment variable, default and meaning, for ``--help``."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = "unset" if field.default is None else _shown(field.default)
        lines.append(f"  {ENV_PREFIX}{name.upper():<33} {field.description} (default {default})")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    """A default as a person would write it: 64KiB rather than 65536."""
    return value.human_readable(separator="") if isinstance(value, ByteSize) else str(value)
