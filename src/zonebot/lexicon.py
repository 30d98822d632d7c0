"""What the corpus says about words: its vocabulary, its names, their documents, and spelling.

Built once per index generation from the passages and the ingest's statistics, and
handed to the question planner, so that reading a question never touches the index:

* **Names** are words the corpus writes capitalised inside sentences most of the time
  ("Jinqiao", "Pudong"). A name that every document uses ("Shanghai" in a corpus about
  Shanghai) identifies no subject and is *common*; the rest are *subject* names.
* **Spelling**: a question word that is neither English (the dictionary that ships with
  symspellpy) nor the corpus's is matched to the nearest corpus word (rapidfuzz,
  optimal string alignment distance), so "Jinqioa" is read as "jinqiao".
* **Scripts**: which writing systems the indexed documents use, so that a question in
  another one is told which language to ask in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .tokens import STOPWORDS

_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)
# "Economic and Technological", "Bank of China": one name across "and" / "of".
_JOINED = re.compile(r"\b([A-Z][\w-]+) (?:and|of) (?:the )?([A-Z][\w-]+)")
_SENTENCE_START = ("", "\n", ".", "!", "?", ":", '"', "“", "(", "。", "•", "-", "*", "#")

#: Writing systems by Unicode block, for telling which language a text is in.
_SCRIPTS = [
    ("Chinese", re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")),
    ("Japanese", re.compile(r"[\u3040-\u30ff]")),
    ("Korean", re.compile(r"[\uac00-\ud7af]")),
    ("Cyrillic", re.compile(r"[\u0400-\u04ff]")),
    ("Arabic", re.compile(r"[\u0600-\u06ff]")),
    ("Hebrew", re.compile(r"[\u0590-\u05ff]")),
    ("Greek", re.compile(r"[\u0370-\u03ff]")),
    ("Latin", re.compile(r"[A-Za-z\u00c0-\u024f]")),
]


def script_of(text: str) -> str | None:
    """The writing system most of ``text``'s letters belong to (``Latin``, ``Chinese``, ...)."""
    counts = {name: len(rx.findall(text)) for name, rx in _SCRIPTS}
    name, n = max(counts.items(), key=lambda kv: kv[1])
    return name if n else None


@cache
def english_words() -> frozenset[str]:
    """General English words: symspellpy's frequency dictionary (82,765 words), not fit to any corpus."""
    import symspellpy

    path = Path(symspellpy.__file__).parent / "frequency_dictionary_en_82_765.txt"
    with open(path, encoding="utf-8") as fh:
        return frozenset(line.split(" ", 1)[0] for line in fh if line.strip())


def words(text: str) -> list[str]:
    """Letter words of ``text`` in any script, as written."""
    return _WORD.findall(text.replace("’", "'"))


@dataclass
class Lexicon:
    """Corpus word statistics a question is read against."""

    counts: Counter[str]  #: lower-cased word -> occurrences in the corpus
    names: dict[str, frozenset[str]]  #: lower-cased name word -> documents that use it
    n_docs: int
    scripts: frozenset[str] = frozenset()  #: writing systems of the indexed documents
    titles: dict[str, str] = field(default_factory=dict)  #: source -> title
    joined: frozenset[tuple[str, str]] = frozenset()  #: name words the corpus joins by "and"/"of" in one name
    idf: dict[str, float] = field(default_factory=dict)  #: stemmed token -> inverse passage frequency
    default_idf: float = 1.0  #: for a token the corpus never uses
    _fuzzy: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def build(
        cls, documents: Iterable[tuple[str, str, str]], idf: dict[str, float] | None = None, default_idf: float = 1.0
    ) -> Lexicon:
        """From ``(source, title, text)`` of every indexed document, and the passages' IDF table."""
        counts: Counter[str] = Counter()
        capital: Counter[str] = Counter()
        docs_of: dict[str, set[str]] = {}
        scripts: set[str] = set()
        titles: dict[str, str] = {}
        joined: set[tuple[str, str]] = set()
        for source, title, text in documents:
            titles[source] = title
            joined |= {(a.lower(), b.lower()) for a, b in _JOINED.findall(text)}
            if script := script_of(text):
                scripts.add(script)
            for m in _WORD.finditer(text):
                word = m.group(0).lower().removesuffix("'s")
                counts[word] += 1
                before = text[max(0, m.start() - 3) : m.start()].rstrip()[-1:]
                if m.group(0)[0].isupper() and before not in _SENTENCE_START:
                    capital[word] += 1
                    docs_of.setdefault(word, set()).add(source)
        # A name is written capitalised inside sentences at least as often as not.
        names = {w: frozenset(d) for w, d in docs_of.items() if capital[w] * 2 >= counts[w] and w not in STOPWORDS}
        fuzzy = sorted(w for w in counts if len(w) >= 4)
        return cls(counts, names, max(1, len(titles)), frozenset(scripts), titles, frozenset(joined), idf or {},
                   default_idf, fuzzy)  # fmt: skip

    def weight(self, token: str) -> float:
        """How much a (stemmed) token tells passages apart."""
        return self.idf.get(token, self.default_idf)

    def knows(self, word: str) -> bool:
        return word in self.counts or word in english_words()

    def is_subject(self, word: str) -> bool:
        """A name that tells documents apart: not one that every document uses."""
        docs = self.names.get(word)
        return docs is not None and (self.n_docs < 2 or len(docs) < self.n_docs)

    def documents_naming(self, word: str) -> frozenset[str]:
        return self.names.get(word, frozenset())

    def unspoken(self, names: Iterable[str], source: str, text: str) -> list[str]:
        """The ``names`` that neither the document ``source`` nor ``text`` (a passage and its title) speaks of."""
        lowered = text.lower()
        return [n for n in names if source not in self.names.get(n, ()) and not re.search(rf"\b{re.escape(n)}", lowered)]

    def correct(self, word: str) -> str | None:
        """The corpus word ``word`` is most likely a misspelling of, or None.

        One edit for words of up to six letters, two for longer ones; a transposition
        counts as one edit. Among equally near words the more frequent one wins.
        """
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        if len(word) < 4 or not self._fuzzy:
            return None
        limit = 1 if len(word) <= 6 else 2
        found = process.extract(word, self._fuzzy, scorer=OSA.distance, score_cutoff=limit, limit=8)
        if not found:
            return None
        best = min(found, key=lambda f: (f[1], -self.counts[f[0]]))
        return best[0]
