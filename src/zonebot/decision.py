"""The answer decision: a logistic model over the evidence scorer's features, fit on labelled data.

``zonebot fit-decision`` refits it (``fitting.py``) on QA sets and writes the weights, the bias, the
feature scaling, and the probability above which a sentence is taken as an answer, chosen on the
trade-off between answer accuracy and false abstention. Two decisions ship:

* ``data/decision.json`` over the word and meaning features (``FEATURES``): the *prefilter*, which
  picks the shortlist the answer verifier reads, and the whole decision when the verifier is off;
* ``data/verified.json`` over the same features and the verifier's (``VERIFIED_FEATURES``): the
  decision when the verifier is on (the default).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

FEATURES = ("dense", "lexical", "soft", "key", "key_min", "focus", "late", "late_focus", "typed", "shape", "rank",
            "history")  # fmt: skip
#: The verifier's probability that the sentence states what was asked (for a yes/no question: that it
#: settles it, either way), on top of the others.
VERIFIED_FEATURES = (*FEATURES, "verify")


@dataclass(frozen=True)
class Decision:
    weights: dict[str, float]
    bias: float
    threshold: float  #: a sentence with at least this probability answers
    #: Floors a sentence's features must reach to answer at all, e.g. ``{"focus": 0.5}``: what a count,
    #: share or role question asks about must be met at least that well (word similarity). ``yes`` is
    #: how well every asked word must be met for a "Yes".
    floors: dict[str, float] = field(default_factory=dict)
    mean: dict[str, float] = field(default_factory=dict)  #: feature scaling used when fitting
    scale: dict[str, float] = field(default_factory=dict)

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias
        for name, w in self.weights.items():
            x = (features.get(name, 0.0) - self.mean.get(name, 0.0)) / (self.scale.get(name, 1.0) or 1.0)
            z += w * x
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def typed(self, polar: bool, features: dict[str, float]) -> bool:
        """States the kind of fact asked, about the thing asked (a yes/no question asks no kind)."""
        # The role a "who is the ..." question names is logic, not a weight: the sentence must name it.
        kind = (polar or features.get("typed", 1.0) > 0) and features.get("role", 1.0) > 0
        return kind and all(features.get(name, 1.0) >= floor for name, floor in self.floors.items() if name in FEATURES)

    def to_dict(self) -> dict[str, object]:
        return {"weights": self.weights, "bias": self.bias, "threshold": self.threshold,
                "floors": self.floors, "mean": self.mean, "scale": self.scale}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Decision:
        return cls(dict(data["weights"]), float(data["bias"]), float(data["threshold"]),  # type: ignore[arg-type]
                   dict(data.get("floors") or {}),  # type: ignore[arg-type]
                   dict(data.get("mean") or {}), dict(data.get("scale") or {}))  # type: ignore[arg-type]  # fmt: skip


def load(path: str | Path | None = None, *, verified: bool = False) -> Decision:
    """The shipped decision (the prefilter, or with ``verified`` the one over the verifier's feature too),
    or the one in ``path``."""
    if path is not None:
        return Decision.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    name = "data/verified.json" if verified else "data/decision.json"
    text = resources.files("zonebot").joinpath(name).read_text(encoding="utf-8")
    return Decision.from_dict(json.loads(text))
