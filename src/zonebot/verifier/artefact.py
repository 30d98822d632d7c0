"""The shipped verifier weights and the torch model built from them.

What ships (``zonebot/data/verifier/``) is every weight of the fine-tuned cross-encoder that training
changes (the top four layers, the pooler and the head; the embeddings and the two lowest layers stay
frozen, so they are the bundled model's own), in float16 (about 15 MB), plus ``verifier.json``
(labels, input length, how it was trained).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ZoneBotError

LABELS = ("neither", "yes", "no")
#: Word pieces of one (question, sentence with context) pair; longer pairs lose the end of the context.
MAX_LENGTH = 96
WEIGHTS = "weights.safetensors"
CARD = "verifier.json"
#: Frozen during training (the embeddings and the two lowest layers: about a third less work per step, and
#: the lower layers' general reading of words is kept), so never shipped: the bundled model's own are used.
FROZEN = ("bert.embeddings.", "bert.encoder.layer.0.", "bert.encoder.layer.1.")


def frozen(name: str) -> bool:
    return name.startswith(FROZEN)


def pair_text(sentence: str, title: str = "", previous: str = "") -> str:
    """The candidate side of a pair: the sentence first (truncation cuts the context, never the
    sentence), then its document's title and the sentence before it."""
    context = "; ".join(x for x in (f"from: {title}" if title else "", f"after: {previous}" if previous else "") if x)
    return f"{sentence} ({context})" if context else sentence


def shipped_dir() -> Path:
    return Path(str(resources.files("zonebot").joinpath("data/verifier")))


def has_artefact(folder: Path | None = None) -> bool:
    folder = folder or shipped_dir()
    return (folder / WEIGHTS).is_file() and (folder / CARD).is_file()


@lru_cache(maxsize=4)
def artefact_hash(folder: Path | None = None) -> str:
    """A hash of the shipped weights and card: it keys the ONNX cache folder."""
    folder = folder or shipped_dir()
    h = hashlib.sha256()
    for name in (CARD, WEIGHTS):
        h.update((folder / name).read_bytes())
    return h.hexdigest()[:16]


def card(folder: Path | None = None) -> dict[str, Any]:
    return json.loads(((folder or shipped_dir()) / CARD).read_text(encoding="utf-8"))


def base_model(num_labels: int = len(LABELS)) -> Any:
    """A BertForSequenceClassification initialised from the bundled all-MiniLM-L6-v2 (new head)."""
    from transformers import AutoModelForSequenceClassification
    from transformers import logging as hf_logging

    from ..embeddings.model import model_path, quiet_offline_libraries

    quiet_offline_libraries()
    hf_logging.set_verbosity_error()
    return AutoModelForSequenceClassification.from_pretrained(str(model_path()), num_labels=num_labels,
                                                              local_files_only=True)  # fmt: skip


def load_torch(folder: Path | None = None) -> Any:
    """The fine-tuned verifier (torch, fp32, eval mode) from the shipped weights in ``folder``.

    Raises ``ZoneBotError`` when no artefact is there (run ``zonebot train-verifier``)."""
    from safetensors.torch import load_file

    folder = folder or shipped_dir()
    if not has_artefact(folder):
        raise ZoneBotError(f"no verifier weights in {folder}: run `zonebot train-verifier` to build them")
    model = base_model()
    state = {k: v.float() for k, v in load_file(str(folder / WEIGHTS)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not frozen(k)]:
        raise ZoneBotError(f"verifier weights in {folder} do not fit the bundled model: "
                           f"missing {[k for k in missing if not frozen(k)]}, unexpected {sorted(unexpected)}")  # fmt: skip
    return model.eval()


def save(model: Any, folder: Path, info: dict[str, Any]) -> Path:
    """Write ``model``'s weights (float16, without the frozen table) and a card with ``info`` into ``folder``."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items() if not frozen(k)}
    save_file(state, str(folder / WEIGHTS))
    body = {"labels": list(LABELS), "max_length": MAX_LENGTH, "base": "sentence-transformers/all-MiniLM-L6-v2", **info}
    (folder / CARD).write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    artefact_hash.cache_clear()
    return folder
