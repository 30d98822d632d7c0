"""Fine-tuning the verifier: sentence-transformers' ``CrossEncoderTrainer`` over mined pairs.

The cross-encoder starts from the bundled all-MiniLM-L6-v2 with a new three-class head (neither,
yes, no) and is trained with cross-entropy (the NLI recipe; one epoch by default, linear decay
after 10% warm-up, fixed seeds). Frozen weights are never shipped: what ships is the
rest of the weights (``verifier.artefact``).
The embeddings and the two lowest layers stay frozen (``verifier.artefact.FROZEN``). Pairs whose label is yes or no are repeated
(``positive_repeats``): there are several hard negatives per ask and one or two positives.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..embeddings.model import model_path, quiet_offline_libraries
from ..verifier.artefact import LABELS, MAX_LENGTH, frozen, save


def train(pairs: list[dict[str, Any]], out: Path, *, epochs: float = 1.0, batch_size: int = 16,
          learning_rate: float = 5e-5, seed: int = 13, positive_repeats: int = 2, max_steps: int = -1,
          info: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Train on ``pairs`` (dicts with ``question``, ``candidate``, ``label``) and write the artefact to ``out``;
    returns what was done (pairs, steps, seconds, final loss), also written into the artefact's card."""
    quiet_offline_libraries()
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import CrossEntropyLoss
    from transformers import set_seed

    set_seed(seed)
    rows = [p for p in pairs for _ in range(positive_repeats if p["label"] else 1)]
    random.Random(seed).shuffle(rows)
    model = CrossEncoder(str(model_path()), num_labels=len(LABELS), max_length=MAX_LENGTH, device="cpu",
                         local_files_only=True)  # fmt: skip
    classifier = model[0].model
    for name, weight in classifier.named_parameters():
        weight.requires_grad = not frozen(name)
    data = Dataset.from_dict({"question": [r["question"] for r in rows], "candidate": [r["candidate"] for r in rows],
                              "label": [int(r["label"]) for r in rows]})  # fmt: skip
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="zonebot-train-") as tmp:
        args = CrossEncoderTrainingArguments(
            output_dir=tmp, num_train_epochs=epochs, max_steps=max_steps, per_device_train_batch_size=batch_size,
            learning_rate=learning_rate, warmup_steps=0.1, weight_decay=0.01, seed=seed, data_seed=seed,
            logging_steps=25, save_strategy="no", report_to="none", use_cpu=True, dataloader_num_workers=0,
            disable_tqdm=True,
        )  # fmt: skip
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=CrossEntropyLoss(model))
        result = trainer.train()
    done = {"pairs": len(pairs), "rows": len(rows), "labels": dict(Counter(LABELS[p["label"]] for p in pairs)),
            "steps": result.global_step, "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
            "seed": seed, "positive_repeats": positive_repeats, "train_loss": round(float(result.training_loss), 4),
            "seconds": round(time.monotonic() - started, 1), **(info or {})}  # fmt: skip
    save(classifier, out, {"training": done})
    return done
