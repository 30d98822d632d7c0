"""The answer verifier: a cross-encoder that reads a question part and a candidate sentence together.

It says whether the sentence states what was asked (``answers``), and for a yes/no question whether
it says yes or no. Initialised from the bundled all-MiniLM-L6-v2 and fine-tuned on questions written
for the task over documents other than the shipped corpus (``zonebot train-verifier``, the
``training`` package). Like the MS MARCO MiniLM rerankers and SQuAD 2.0-style no-answer detection,
but with three classes (NLI-style): ``neither`` (the sentence does not state it), ``yes`` (it states
it; for a yes/no question it confirms it) and ``no`` (for a yes/no question: it contradicts it).

- ``artefact``: the shipped fine-tuned weights (``data/verifier/``) and the torch model built from them;
- ``export``: the int8 ONNX build of that model, made once per machine into the model cache;
- ``runtime``: ``Verifier``, running the export with onnxruntime (no torch in a chat process).
"""

from .artefact import LABELS, MAX_LENGTH, artefact_hash, pair_text
from .runtime import Verifier, load_verifier, verifier_cache_dir

__all__ = ["LABELS", "MAX_LENGTH", "Verifier", "artefact_hash", "load_verifier", "pair_text", "verifier_cache_dir"]
