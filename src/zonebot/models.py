"""The core domain types. Everything else in zonebot is arranged around these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Document:
    """One cleaned source document."""

    source: str  #: path relative to the corpus folder, e.g. ``jinqiao-development-zone.txt``
    text: str  #: cleaned text (page chrome removed); passage offsets point into it
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    extracted_chars: int = 0  #: characters (white space not counted) the reader extracted from the file
    kept_chars: int = 0  #: of them, characters kept in ``text``
    #: Line-end hyphens left as written, ``("photo-resist", "photoresist")``: joined by the ingest when the
    #: corpus uses the joined word.
    open_breaks: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Passage:
    """A retrievable span of a document, made of whole sentences."""

    id: str
    source: str
    title: str
    ordinal: int
    start: int  #: character offset into the cleaned document
    end: int
    text: str
    sentences: list[tuple[int, int]] = field(default_factory=list)  #: offsets into ``text``
    score: float = 0.0
    publisher: str | None = None
    date: str | None = None
    url: str | None = None

    def sentence_texts(self) -> list[str]:
        return [self.text[a:b] for a, b in self.sentences]


@dataclass
class Sentence:
    """A sentence of a retrieved passage, as evidence: where it stands and what it means."""

    passage: Passage
    index: int  #: sentence number inside the passage
    start: int  #: offsets inside the passage text
    end: int
    rank: int  #: the passage's retrieval rank (0 is best)
    vector: Any = None  #: its embedding (unit length)

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]


@dataclass
class Citation:
    """A numbered citation: the verbatim quote and the passage it comes from."""

    n: int
    source: str
    title: str
    quote: str
    passage: str
    passage_id: str
    score: float
    quote_start: int = 0  #: offset of ``quote`` inside ``passage``
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    doc_start: int = 0  #: offset of the passage inside the cleaned document
    ordinal: int = 0  #: the passage's number inside its document (0-based)


@dataclass
class Answer:
    """What ``ZoneBot.ask`` returns."""

    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    answerer: str = "extractive"
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    question: str = ""
    search_query: str = ""
    #: How the question was read, when it was not as written ("Read 'Jinqioa' as 'Jinqiao'").
    reading: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for p in data["passages"]:
            p.pop("sentences", None)
        return data


@dataclass
class SkippedFile:
    """A file (or folder) named in an ingest report, with the reason it is there."""

    source: str
    reason: str
    duplicate_of: str | None = None  #: for a file with the same text as an indexed document: that document


@dataclass
class Coverage:
    """How much of a document's extracted text became passages (characters, white space not counted)."""

    source: str
    extracted: int
    indexed: int

    @property
    def share(self) -> float:
        return self.indexed / self.extracted if self.extracted else 1.0


@dataclass
class IngestReport:
    """What an ingest changed. ``embedded`` counts texts sent to the embedding model."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    #: Files and folders not read at all (hidden, unsupported type, unreadable folder), with the reason.
    ignored: list[SkippedFile] = field(default_factory=list)
    #: Problems that did not stop a document from being indexed (a sidecar that cannot be used).
    warnings: list[SkippedFile] = field(default_factory=list)
    #: For each document read by this ingest: how much of its extracted text became passages.
    coverage: list[Coverage] = field(default_factory=list)
    embedded: int = 0
    passages: int = 0
    rebuilt: bool = False
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.removed)} removed",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.skipped)} skipped",
            f"{len(self.ignored)} ignored",
        ]
        text = ", ".join(parts) + f"; {self.passages} passages, {self.embedded} texts embedded"
        text += f" in {self.seconds:.1f}s"
        if self.rebuilt:
            text += " (full rebuild: settings or model changed)"
        for label, items in (("skipped", self.skipped), ("ignored", self.ignored), ("warning", self.warnings)):
            for s in items:
                text += f"\n  {label} {s.source}: {s.reason}"
        for c in self.coverage:
            if c.share < 0.9:
                text += (f"\n  read {c.source}: {c.share:.0%} of its extracted text is in passages "
                         f"({c.indexed:,} of {c.extracted:,} characters)")
        return text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for kind in ("skipped", "ignored", "warnings"):  # "duplicate_of" only where a file is a duplicate
            data[kind] = [{k: v for k, v in f.items() if k != "duplicate_of" or v} for f in data[kind]]
        return data
