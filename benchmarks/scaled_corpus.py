"""A large synthetic corpus made from the shipped one, for scale benchmarks and tests.

Every document is about an invented zone: the seed corpus's sentences, shuffled and
recombined, with place names, industries and figures replaced, so no two documents
share their text. Sentences with no name or figure to replace repeat verbatim across
documents (52% of all sentences at 1,923 documents), far more than in a real corpus;
benchmarks/run.py reports that share beside the ingest figures. Deterministic for a
given seed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PLACES = (
    "Jinqiao", "Jinshan", "Pudong", "Fengjing", "Zhujing", "Zhangyan", "Shanyang", "Tinglin",
    "Caohejing", "Nanhui", "Baoshan", "Jinxiu", "Yanggao", "Jufeng", "Caojing",
)  # fmt: skip
_INDUSTRIES = (
    "advanced manufacturing", "artificial intelligence", "biomedicine", "new materials", "integrated circuits",
    "new energy vehicles", "fine chemicals", "logistics", "aerospace", "digital finance", "green hydrogen",
    "medical devices", "smart robotics", "marine engineering", "software services",
)  # fmt: skip
_SYLLABLES = [
    "an",
    "bai",
    "bao",
    "chang",
    "chen",
    "dong",
    "fang",
    "feng",
    "gao",
    "hai",
    "heng",
    "hong",
    "hua",
    "jia",
    "jin",
    "jing",
    "kang",
    "lan",
    "li",
    "lin",
    "long",
    "lu",
    "luo",
    "ming",
    "nan",
    "ning",
    "ping",
    "qi",
    "qing",
    "rong",
    "rui",
    "shan",
    "sheng",
    "shi",
    "tai",
    "tian",
    "wan",
    "wei",
    "xi",
    "xin",
    "xing",
    "yang",
    "yi",
    "yong",
    "yu",
    "yuan",
    "ze",
    "zhao",
    "zhen",
    "zhong",
    "zhu",
]
_PLACE_RE = re.compile(r"\b(" + "|".join(_PLACES) + r")\b")
_INDUSTRY_RE = re.compile(r"\b(" + "|".join(_INDUSTRIES) + r")\b", re.IGNORECASE)
_NUMBER_RE = re.compile(r"\b\d+(?:\.\d+)?\b")


def seed_sentences() -> list[str]:
    """The cleaned sentences of the shipped corpus."""
    from zonebot.loading import discover, load_document
    from zonebot.splitting import split_sentences

    sentences = []
    for source, path in discover(ROOT / "corpus"):
        doc = load_document(path, source)
        sentences += [doc.text[a:b] for a, b in split_sentences(doc.text) if b - a > 30]
    return sentences


def zone_name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(2)).capitalize() + rng.choice(("", "wan", "gang", "qiao"))


def _number(m: re.Match[str], rng: random.Random) -> str:
    s = m.group(0)
    if re.fullmatch(r"(19|20)\d\d", s):
        return str(rng.randint(1985, 2025))
    if "." in s:
        whole, frac = s.split(".")
        return f"{rng.uniform(1, 10 ** len(whole)):.{len(frac)}f}"
    return str(rng.randint(2, max(9, 10 ** len(s) - 1)))


def vary(sentence: str, zone: str, rng: random.Random) -> str:
    """One seed sentence rewritten for ``zone``: new places, industries and numbers."""
    s = _NUMBER_RE.sub(lambda m: _number(m, rng), sentence)
    s = _INDUSTRY_RE.sub(lambda m: rng.choice(_INDUSTRIES), s)
    return _PLACE_RE.sub(lambda m: zone if rng.random() < 0.7 else zone_name(rng), s)


def document(index: int, sentences: list[str], n_sentences: int, seed: int = 0) -> tuple[str, str]:
    """``(zone name, text)`` of synthetic document ``index``: a headline, then paragraphs."""
    rng = random.Random(seed * 1_000_003 + index)
    zone = zone_name(rng) + f" {rng.choice(('Economic', 'Industrial', 'High-tech', 'Bonded'))} Zone {index}"
    picked = [vary(rng.choice(sentences), zone, rng) for _ in range(n_sentences)]
    paragraphs = [" ".join(picked[i : i + 3]) for i in range(0, len(picked), 3)]
    area = f"{rng.uniform(2, 900):.2f}"
    opening = (
        f"The {zone} covers a total area of {area} square kilometers and was approved in {rng.randint(1985, 2024)}."
    )
    return zone, f"{zone} annual report\n\n{opening}\n\n" + "\n\n".join(paragraphs) + "\n"


def write_corpus(folder: Path, n_docs: int, n_sentences: int = 75, seed: int = 0, start: int = 0) -> list[Path]:
    """Write documents ``start .. start+n_docs-1`` into ``folder`` as ``zone-<i>.txt``."""
    folder.mkdir(parents=True, exist_ok=True)
    sentences = seed_sentences()
    paths = []
    for i in range(start, start + n_docs):
        _, text = document(i, sentences, n_sentences, seed)
        path = folder / f"zone-{i:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
