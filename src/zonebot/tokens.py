"""Words as the search and the evidence scorer count them: English lower-cased, stop words dropped
and lightly stemmed; CJK text, which has no spaces, as overlapping character bigrams; codes and phone
numbers also whole."""

from __future__ import annotations

import re
from functools import lru_cache

from .facts import canonical, codes

STOPWORDS = frozenset(
    """a an the and or but if of at by for with about against between into through during before after
    above below to from up down in out on off over under again further then once here there when where why
    how all any both each few more most other some such no nor not only own same so than too very s t can
    will just don should now is are was were be been being have has had having do does did doing i me my
    we our you your he him his she her it its they them their what which who whom this that these those am
    would could also as per via into onto upon within tell give list name say says said please much many""".split()
)
# CJK runs first (they become bigrams); then words of any other script, so Cyrillic, Arabic or
# Hebrew text is searchable too.
_TOKEN = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff]+|(?:(?![\u3400-\u9fff\uf900-\ufaff])[^\W_])+(?:[.'](?:(?![\u3400-\u9fff\uf900-\ufaff])[^\W_])+)*"
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# General English equivalences, so that a paraphrase still shares a token with the text.
CANONICAL = {
    "firm": "company", "enterprise": "company", "business": "company",
    "kind": "type", "category": "type", "sort": "type", "class": "type",
    "car": "automobile", "auto": "automobile",
    "eastern": "east", "western": "west", "northern": "north", "southern": "south",
    "big": "large", "biggest": "large", "largest": "large", "size": "area",
    "yearly": "annual", "annually": "annual", "every year": "annual",
}  # fmt: skip


@lru_cache(maxsize=1 << 18)
def stem(word: str) -> str:
    """A deliberately small English stemmer: enough to match plural and verb forms."""
    word = CANONICAL.get(word, word)
    if len(word) <= 3 or word[0].isdigit():
        return word
    stemmed = _strip_suffix(word)
    stemmed = CANONICAL.get(stemmed, stemmed)
    # "encourage" and "encouraged" must meet: drop a final e.
    return stemmed[:-1] if len(stemmed) > 4 and stemmed.endswith("e") else stemmed


def _strip_suffix(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ied", "y"), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "sses", "zes")):
                return word[:-1]
            return word[: -len(suffix)] + repl
    return word


def tokenize(text: str, keep_stopwords: bool = False) -> list[str]:
    """``text``'s words as search counts them; a code or phone number ("RS-0417") is also one whole token
    ("rs0417"), so that it is found exactly, not by its pieces."""
    tokens = [canonical(code) for code in codes(text)]
    for m in _TOKEN.finditer(text.lower().replace("’", "'")):
        tok = m.group(0)
        if _CJK.match(tok):
            tokens.extend(tok[i : i + 2] for i in range(max(1, len(tok) - 1)))
            continue
        tok = tok.removesuffix("'s")
        if not keep_stopwords and tok in STOPWORDS:
            continue
        tokens.append(stem(tok))
    return tokens
