"""The on-disk index: generations, incremental ingest and atomic swaps.

Layout under ``index/``::

    CURRENT            name of the generation readers use (replaced atomically)
    .lock              held by the one ingest allowed at a time
    gen-<stamp>/       manifest.json, passages.jsonl, docs.jsonl, sentences.npy,
                       stats.json, bm25/ and (embedded mode) chroma/

An ingest builds a complete new generation beside the current one and only then
points ``CURRENT`` at it (phases: ``_diff`` → ``_load`` / ``_split`` → ``_embed`` →
``_assemble`` → ``_swap``), so a crash at any moment leaves the previous index
answering. Unchanged files are carried over with their vectors, and a sentence
whose text is already indexed reuses its vector: no text is embedded twice.
Sentence vectors are kept too, for the answerer; a passage's vector is the
normalised mean of its sentences' vectors.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings
from .embeddings import Embedder
from .errors import IndexMissingError, IngestLockedError, LoadError
from .lexical import LexicalIndex, tokenize
from .loading import SIDECAR, corpus_problem, discover, fingerprint, load_document, scan
from .models import Coverage, Document, IngestReport, Passage, SkippedFile
from .splitting import split_document
from .store import VectorStore

FORMAT_VERSION = 5  # bump when cleaning, splitting or the layout changes
_NAME = re.compile(r"\b([A-Z][a-zA-Z]*(?:-[A-Za-z]+)*)")

Progress = Callable[[str], None]


def _pipeline_hash() -> str:
    """Hash of the code that turns files into passages and tokens: changing it re-ingests."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in ("loading.py", "cleaning.py", "splitting.py", "lexical.py", "tokens.py"):
        h.update((here / name).read_bytes())
    for reader in sorted((here / "readers").glob("*.py")):
        h.update(reader.read_bytes())
    return h.hexdigest()[:16]


def settings_fingerprint(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """What the vectors depend on: a mismatch means a full rebuild, never mixed vectors."""
    return {
        "format": FORMAT_VERSION,
        "pipeline": _pipeline_hash(),
        "model": embedder.name,
        "dimension": embedder.dimension,
        "passage_tokens": settings.passage_tokens,
    }


@dataclass
class DocInfo:
    source: str
    hash: str
    text_hash: str
    title: str
    publisher: str | None
    date: str | None
    url: str | None
    passages: int
    chars: int
    extracted: int = 0  #: characters the reader extracted (white space not counted)
    kept: int = 0  #: of them, characters in the passages


@contextmanager
def ingest_lock(index_dir: Path, wait: bool):  # type: ignore[no-untyped-def]
    index_dir.mkdir(parents=True, exist_ok=True)
    # The lock lives as long as the open file: the kernel drops it when the process dies.
    with open(index_dir / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise IngestLockedError(
                f"another ingest is already running on {index_dir} ({holder}); "
                "wait for it to finish, or pass --wait to queue behind it"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        yield


def current_generation(index_dir: Path) -> str | None:
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except OSError:
        return None
    return name if name and (index_dir / name / "manifest.json").exists() else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, data: str | bytes) -> None:
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class Snapshot:
    """One loaded generation: everything a question needs, read-only."""

    def __init__(self, index_dir: Path, name: str, embedder: Embedder, chroma_url: str | None) -> None:
        self.name = name
        self.dir = index_dir / name
        self.manifest = json.loads((self.dir / "manifest.json").read_text(encoding="utf-8"))
        self.passages: list[Passage] = []
        self.sent_start: list[int] = []
        with open(self.dir / "passages.jsonl", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                self.sent_start.append(rec.pop("sent_start"))
                rec["sentences"] = [tuple(s) for s in rec["sentences"]]
                self.passages.append(Passage(**rec))
        self.row_of = {p.id: i for i, p in enumerate(self.passages)}
        self.sentence_vectors = np.load(self.dir / "sentences.npy", mmap_mode="r")
        stats = json.loads((self.dir / "stats.json").read_text(encoding="utf-8"))
        self.idf: dict[str, float] = stats["idf"]
        self.names: dict[str, list[str]] = stats["names"]
        self.default_idf = math.log(1 + len(self.passages) + 0.5)
        self.lexical = LexicalIndex.load(self.dir / "bm25")
        self.docs: dict[str, dict[str, Any]] = self.manifest["docs"]
        self.created = self.manifest["created"]
        self.vectors = VectorStore.open(self.dir, name, embedder, self.manifest.get("chroma_url") or chroma_url)

    def sentence_rows(self, row: int) -> range:
        start = self.sent_start[row]
        return range(start, start + len(self.passages[row].sentences))

    def document_text(self, source: str) -> str | None:
        with open(self.dir / "docs.jsonl", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if rec["source"] == source:
                    return str(rec["text"])
        return None

    def document_texts(self) -> Iterator[tuple[str, str]]:
        """``(source, cleaned text)`` of every document of this generation."""
        with open(self.dir / "docs.jsonl", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                yield str(rec["source"]), str(rec["text"])

    def close(self) -> None:
        self.vectors.close()


def _batch_counter(embedder: Embedder) -> Callable[[list[str]], list[int]]:
    """Word pieces of many texts in one tokenizer call (one call per sentence is the slow part of splitting)."""
    batch = getattr(embedder, "count_tokens_batch", None)
    if batch is not None:
        return batch  # type: ignore[no-any-return]

    def count_many(texts: list[str]) -> list[int]:
        if not texts:
            return []
        ids = embedder.model.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [len(x) for x in ids]

    return count_many


def _stats(passage_tokens: list[list[str]], documents: dict[str, str]) -> dict[str, Any]:
    """IDF over the passages' words (``passage_tokens``: each passage's text through ``tokenize``) and the
    corpus's names."""
    df: Counter[str] = Counter()
    for tokens in passage_tokens:
        df.update(set(tokens))
    n = max(1, len(passage_tokens))
    idf = {t: round(math.log(1 + (n - c + 0.5) / (c + 0.5)), 4) for t, c in df.items()}
    # Words written capitalised inside a sentence: the corpus's names (zones, parks, people).
    names: dict[str, set[str]] = {}
    for source, text in documents.items():
        for m in _NAME.finditer(text):
            before = text[max(0, m.start() - 4) : m.start()].rstrip()[-1:]
            if before in ("", "\n", ".", "!", "?", ":", '"', "“", "(", "。"):
                continue  # capitalised because it starts a sentence, not because it is a name
            names.setdefault(m.group(1).lower(), set()).add(source)
    return {"idf": idf, "names": {k: sorted(v) for k, v in names.items()}}


@dataclass
class _Build:
    """What one ingest carries from phase to phase."""

    settings: Settings
    embedder: Embedder
    report: IngestReport
    say: Progress
    prev: Snapshot | None = None
    old_docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: list[tuple[str, Path, str]] = field(default_factory=list)  # source, path, content hash
    digests: dict[str, str] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)  # every file found, by source
    accepted: list[tuple[Document, str, str]] = field(default_factory=list)  # document, hash, text hash
    kept_sources: list[str] = field(default_factory=list)
    new_passages: list[Passage] = field(default_factory=list)
    sent_vecs: np.ndarray | None = None  # one row per sentence of ``new_passages``

    @property
    def dropped(self) -> set[str]:
        """Sources of the previous generation whose passages do not carry over."""
        return {s for s in self.old_docs if s not in self.kept_sources}


def ingest(
    settings: Settings,
    embedder: Embedder,
    *,
    wait: bool = False,
    progress: Progress | None = None,
    show_progress: bool = False,
    current: Snapshot | None = None,
) -> IngestReport:
    """Bring the index in line with the corpus folder. Safe to interrupt at any point.

    ``current`` is a snapshot the caller already holds open; when it is the current
    generation it is read instead of opening a second copy (and left open).
    """
    started = time.perf_counter()
    problem = corpus_problem(settings.corpus_dir)
    if problem:  # refused, not read as an empty corpus: that would delete every document from the index
        raise LoadError(problem)
    build = _Build(settings, embedder, IngestReport(), progress or (lambda _msg: None))
    with ingest_lock(settings.index_dir, wait):
        prev_name = current_generation(settings.index_dir)
        _remove_stale(settings.index_dir, keep={prev_name}, settings=settings, embedder=embedder)
        borrowed = current is not None and current.name == prev_name
        try:
            build.prev = _open_previous(build, prev_name, current if borrowed else None)
            _diff(build)
            if _nothing_changed(build):
                build.report.passages = len(build.prev.passages) if build.prev else 0
            else:
                _load(build)
                _split(build)
                _embed(build, show_progress)
                name = _assemble(build)
                _swap(settings.index_dir, name)
                _remove_stale(settings.index_dir, keep={name, prev_name}, settings=settings, embedder=embedder)
        finally:
            if build.prev is not None and not borrowed:
                build.prev.close()
    build.report.seconds = time.perf_counter() - started
    return build.report


def _open_previous(build: _Build, prev_name: str | None, borrowed: Snapshot | None) -> Snapshot | None:
    """The current generation to build on, or None when there is none or its vectors cannot be reused."""
    if not prev_name:
        return None
    settings = build.settings
    prev = borrowed or Snapshot(settings.index_dir, prev_name, build.embedder, settings.chroma_url)
    fp = settings_fingerprint(settings, build.embedder)
    if prev.manifest.get("fingerprint") != fp or prev.manifest.get("chroma_url") != settings.chroma_url:
        build.report.rebuilt = True
        if borrowed is None:
            prev.close()
        return None
    build.old_docs = prev.docs
    return prev


def _diff(build: _Build) -> None:
    """Phase 1: which files are new, changed, unchanged or gone, by content hash."""
    report, old_docs = build.report, build.old_docs
    found = scan(build.settings.corpus_dir)
    report.ignored = found.ignored
    for source, path in found.files:
        digest = fingerprint(path)  # never raises: an unreadable file hashes to a marker and is reported below
        build.digests[source] = digest
        build.paths[source] = path
        if source in old_docs and old_docs[source]["hash"] == digest:
            report.unchanged.append(source)
        else:
            build.changed.append((source, path, digest))
    report.removed = sorted(s for s in old_docs if s not in build.digests)
    if build.prev is not None:  # an unchanged file's warnings (a bad sidecar) still hold
        unchanged = set(report.unchanged)
        report.warnings = [SkippedFile(w["source"], w["reason"]) for w in build.prev.manifest.get("warnings", [])
                           if w["source"] in unchanged]  # fmt: skip


def _nothing_changed(build: _Build) -> bool:
    """True when the only changes are files already skipped, for the same reason, last time."""
    if build.prev is None or build.report.removed:
        return False
    before = build.prev.manifest.get("skipped", {})
    if not all(before.get(s, {}).get("hash") == d for s, _, d in build.changed):
        return False
    if any(s not in build.digests for s in before):  # a file listed as not indexed is gone: list it no more
        return False
    build.report.skipped = [SkippedFile(s, before[s]["reason"], before[s].get("duplicate_of"))
                            for s, _, _ in build.changed]  # fmt: skip
    return True


def _load_one(path: Path, source: str, report: IngestReport) -> Document | None:
    """One file's document, or None with the reason in the report: one bad file never stops the ingest."""
    try:
        return load_document(path, source, warn=lambda msg: report.warnings.append(SkippedFile(source, msg)))
    except LoadError as exc:
        report.skipped.append(SkippedFile(source, str(exc)))
    except Exception as exc:  # a parser's own bug on a hostile file: report it, keep going
        report.skipped.append(SkippedFile(source, f"could not be read ({type(exc).__name__}: {exc})"))
    return None


def _load(build: _Build) -> None:
    """Phase 2a: read what changed; a text already indexed under another name is stored once."""
    report, old_docs = build.report, build.old_docs
    loaded: list[tuple[Document, str]] = []
    for i, (source, path, digest) in enumerate(build.changed, 1):
        build.say(f"reading {i}/{len(build.changed)}: {source}")
        doc = _load_one(path, source, report)
        if doc is not None:
            loaded.append((doc, digest))
        elif source in old_docs:
            report.removed.append(source)  # its old text no longer matches the file
    build.kept_sources = [s for s in report.unchanged if s not in report.removed]
    _close_breaks(build, [doc for doc, _ in loaded])
    hashes = {doc.source: hashlib.sha256(doc.text.encode()).hexdigest() for doc, _ in loaded}
    twin_of = _twins(build, {**{s: old_docs[s]["text_hash"] for s in build.kept_sources}, **hashes})
    for source, first in twin_of.items():
        report.skipped.append(SkippedFile(source, f"same text as {first} (stored once)", duplicate_of=first))
        if source in build.kept_sources:  # an indexed document gives way to a twin with metadata, or an older one
            build.kept_sources.remove(source)
            report.unchanged.remove(source)
        if source in old_docs:
            report.removed.append(source)
    for doc, digest in loaded:
        if doc.source not in twin_of:
            build.accepted.append((doc, digest, hashes[doc.source]))
            report.coverage.append(Coverage(doc.source, doc.extracted_chars, doc.kept_chars))
            (report.updated if doc.source in old_docs else report.added).append(doc.source)


def _twins(build: _Build, text_hashes: dict[str, str]) -> dict[str, str]:
    """Documents with the same text as another: each one (by source) that is not indexed, and the one that is.

    Of a set of twins the one with a metadata sidecar is indexed, else the older file (then the first by name):
    a copy made later never takes over the original's citations.
    """

    def precedence(source: str) -> tuple[bool, int, str]:
        path = build.paths.get(source)
        try:
            has_sidecar = path is not None and path.with_name(path.name + SIDECAR).is_file()
            mtime = path.lstat().st_mtime_ns if path is not None else 0
        except OSError:
            has_sidecar, mtime = False, 0
        return (not has_sidecar, mtime, source)

    groups: dict[str, list[str]] = {}
    for source, th in text_hashes.items():
        groups.setdefault(th, []).append(source)
    twin_of: dict[str, str] = {}
    for sources in groups.values():
        first, *others = sorted(sources, key=precedence)
        twin_of.update({s: first for s in others})
    return twin_of


def _close_breaks(build: _Build, docs: list[Document]) -> None:
    """Join the line-end hyphens a document left open ("photo-resist") where the corpus writes the word
    whole ("photoresist"): the documents read now and those already indexed."""
    if not any(doc.open_breaks for doc in docs):
        return
    texts = [doc.text for doc in docs]
    if build.prev is not None:
        texts += [text for source, text in build.prev.document_texts() if source in build.kept_sources]
    vocabulary = set()
    for text in texts:
        vocabulary.update(re.findall(r"[^\W\d_]+", text.lower()))
    for doc in docs:
        for written, joined in doc.open_breaks:
            if joined.lower() in vocabulary:
                doc.text = re.sub(rf"\b{re.escape(written)}\b", joined, doc.text)


def _split(build: _Build) -> None:
    """Phase 2b: the accepted documents as passages."""
    count_many = _batch_counter(build.embedder)
    for i, (doc, _, _) in enumerate(build.accepted, 1):
        if i % 100 == 0:
            build.say(f"splitting {i}/{len(build.accepted)}")
        build.new_passages.extend(
            split_document(doc, build.embedder.count_tokens, build.settings.passage_tokens, count_many)
        )


def _embed(build: _Build, show_progress: bool) -> None:
    """Phase 3: embed each distinct new sentence once; a passage vector is the mean of its sentences'.

    A sentence already in the index (an edited file's untouched sentences, a sentence repeated
    across documents) reuses its stored vector: same model, same text.
    """
    prev, embedder = build.prev, build.embedder
    sentences = [s for p in build.new_passages for s in p.sentence_texts()]
    known: dict[str, int] = {}
    if prev is not None and sentences:
        wanted = set(sentences)
        for row, old_p in enumerate(prev.passages):
            for text, srow in zip(old_p.sentence_texts(), prev.sentence_rows(row), strict=True):
                if text in wanted and text not in known:
                    known[text] = srow
    fresh = [t for t in dict.fromkeys(sentences) if t not in known]
    build.say(f"embedding {len(fresh)} distinct new sentences ({len(sentences)} in {len(build.new_passages)} passages)")
    fresh_vecs = embedder.embed(fresh, show_progress=show_progress)
    build.report.embedded = len(fresh)
    sent_vecs = np.empty((len(sentences), embedder.dimension), dtype=np.float32)
    if sentences:
        slot = {t: i for i, t in enumerate(fresh)}
        mine = np.array([i for i, t in enumerate(sentences) if t in slot], dtype=np.int64)
        theirs = np.array([i for i, t in enumerate(sentences) if t not in slot], dtype=np.int64)
        if len(mine):
            sent_vecs[mine] = fresh_vecs[[slot[sentences[i]] for i in mine]]
        if len(theirs):
            assert prev is not None
            rows = np.array([known[sentences[i]] for i in theirs], dtype=np.int64)
            sent_vecs[theirs] = np.asarray(prev.sentence_vectors[rows], dtype=np.float32)
    build.sent_vecs = sent_vecs


def _assemble(build: _Build) -> str:
    """Phase 4: write the complete new generation beside the current one; returns its name."""
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.perf_counter_ns() % 10**6:06d}"
    gen_dir = build.settings.index_dir / name
    gen_dir.mkdir(parents=True)
    all_passages, all_vectors = _carried_over(build)
    build.say("writing vector store")
    _write_vectors(build, gen_dir, name)
    build.say("writing lexical index and passage table")
    _write_passages(gen_dir, all_passages, all_vectors)
    texts = _write_docs(build, gen_dir)
    (gen_dir / "bm25").mkdir()
    # Each passage is tokenized once, for both BM25 (title + text) and the IDF table (text).
    title_tokens = {t: tokenize(t) for t in dict.fromkeys(p.title for p in all_passages)}
    text_tokens = [tokenize(p.text) for p in all_passages]
    lexical = LexicalIndex.build([title_tokens[p.title] + t for p, t in zip(all_passages, text_tokens, strict=True)])
    lexical.save(gen_dir / "bm25")
    _write(gen_dir / "stats.json", json.dumps(_stats(text_tokens, texts), ensure_ascii=False))
    _write_manifest(build, gen_dir, len(all_passages))
    _fsync_dir(gen_dir)
    build.report.passages = len(all_passages)
    return name


def _carried_over(build: _Build) -> tuple[list[Passage], np.ndarray]:
    """All passages of the new generation (kept ones first) and their sentence vectors, as float16."""
    prev, dropped = build.prev, build.dropped
    keep_passages: list[Passage] = []
    keep_rows: list[np.ndarray] = []
    if prev is not None:
        for row, p in enumerate(prev.passages):
            if p.source not in dropped:
                keep_passages.append(p)
                keep_rows.append(np.asarray(prev.sentence_rows(row)))
    old_rows = np.concatenate(keep_rows) if keep_rows else np.zeros(0, dtype=np.int64)
    kept_vectors = (
        np.asarray(prev.sentence_vectors[old_rows], dtype=np.float16)
        if prev is not None and len(old_rows)
        else np.zeros((0, build.embedder.dimension), dtype=np.float16)
    )
    assert build.sent_vecs is not None
    return keep_passages + build.new_passages, np.concatenate([kept_vectors, build.sent_vecs.astype(np.float16)])


def _write_vectors(build: _Build, gen_dir: Path, name: str) -> None:
    """The new generation's vector store: the previous one's kept records plus the new passages."""
    prev, settings, new_passages = build.prev, build.settings, build.new_passages
    cloned = prev is not None and VectorStore.clone(prev.dir, gen_dir, settings.chroma_url)
    store = VectorStore.open(gen_dir, name, build.embedder, settings.chroma_url)
    if prev is not None:
        if cloned:
            store.delete([p.id for p in prev.passages if p.source in build.dropped])
        else:
            store.copy_from(prev.vectors, [p.id for p in prev.passages if p.source not in build.dropped])
    if new_passages:
        assert build.sent_vecs is not None
        pvecs, offset = [], 0
        for p in new_passages:
            v = build.sent_vecs[offset : offset + len(p.sentences)].mean(axis=0)
            pvecs.append(v / (np.linalg.norm(v) or 1.0))
            offset += len(p.sentences)
        metas = [
            {"source": p.source, "title": p.title, "ordinal": p.ordinal, "start": p.start, "end": p.end}
            for p in new_passages
        ]
        store.add([p.id for p in new_passages], np.vstack(pvecs), [p.text for p in new_passages], metas)
    store.close()


def _write_passages(gen_dir: Path, passages: list[Passage], sentence_vectors: np.ndarray) -> None:
    with open(gen_dir / "passages.jsonl", "w", encoding="utf-8") as fh:
        row = 0
        for p in passages:
            rec = asdict(p)
            rec["score"] = 0.0
            rec["sent_start"] = row
            row += len(p.sentences)
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    np.save(gen_dir / "sentences.npy", sentence_vectors)


def _write_docs(build: _Build, gen_dir: Path) -> dict[str, str]:
    """Every document's cleaned text (kept ones copied from the previous generation); returns them by source."""
    texts: dict[str, str] = {}
    kept = set(build.kept_sources)
    with open(gen_dir / "docs.jsonl", "w", encoding="utf-8") as out:
        if build.prev is not None:
            with open(build.prev.dir / "docs.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    rec = json.loads(line)
                    if rec["source"] in kept:
                        out.write(line)
                        texts[rec["source"]] = rec["text"]
        for doc, _, _ in build.accepted:
            out.write(json.dumps({"source": doc.source, "text": doc.text}, ensure_ascii=False) + "\n")
            texts[doc.source] = doc.text
    return texts


def _write_manifest(build: _Build, gen_dir: Path, passages: int) -> None:
    report, settings = build.report, build.settings
    docs_info: dict[str, Any] = {s: build.old_docs[s] for s in build.kept_sources}
    counts = Counter(p.source for p in build.new_passages)
    for doc, digest, th in build.accepted:
        docs_info[doc.source] = asdict(
            DocInfo(doc.source, digest, th, doc.title, doc.publisher, doc.date, doc.url,
                    counts[doc.source], len(doc.text), doc.extracted_chars, doc.kept_chars)
        )  # fmt: skip
    manifest = {
        "fingerprint": settings_fingerprint(settings, build.embedder),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "chroma_url": settings.chroma_url,
        "docs": dict(sorted(docs_info.items())),
        # Files not indexed (broken, duplicates), by hash: unchanged ones do not make the index stale.
        "skipped": {
            s.source: {"hash": build.digests[s.source], "reason": s.reason,
                       **({"duplicate_of": s.duplicate_of} if s.duplicate_of else {})}  # fmt: skip
            for s in report.skipped
            if s.source in build.digests
        },
        "warnings": [asdict(w) for w in report.warnings],
        "passages": passages,
    }
    _write(gen_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))


def _swap(index_dir: Path, name: str) -> None:
    """Phase 5: point CURRENT at the new generation; readers see the old one or the new one, never a mix."""
    tmp = index_dir / f"CURRENT.{os.getpid()}.tmp"
    _write(tmp, name + "\n")
    os.replace(tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)


def _remove_stale(index_dir: Path, keep: set[str | None], settings: Settings, embedder: Embedder) -> None:
    """Delete generations no reader should be using: all but the current and the previous one."""
    if not index_dir.exists():
        return
    gens = sorted(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("gen-"))
    for gen in gens:
        if gen.name in keep:
            continue
        url = None
        try:
            url = json.loads((gen / "manifest.json").read_text()).get("chroma_url")
        except (OSError, ValueError):
            url = settings.chroma_url
        if url:
            try:
                store = VectorStore.open(gen, gen.name, embedder, url)
                store.drop()
            except Exception:
                pass
        shutil.rmtree(gen, ignore_errors=True)
    for tmp in index_dir.glob("CURRENT.*.tmp"):
        tmp.unlink(missing_ok=True)


def open_current(index_dir: Path, embedder: Embedder, chroma_url: str | None) -> Snapshot:
    name = current_generation(index_dir)
    if name is None:
        raise IndexMissingError(f"no index in {index_dir}: run `zonebot ingest` first (or `make run`)")
    return Snapshot(index_dir, name, embedder, chroma_url)


def is_stale(settings: Settings, embedder: Embedder | None = None) -> bool:
    """True when the index is missing or any corpus file differs from what was indexed."""
    name = current_generation(settings.index_dir)
    if name is None:
        return True
    manifest = json.loads((settings.index_dir / name / "manifest.json").read_text(encoding="utf-8"))
    if embedder is not None and manifest.get("fingerprint") != settings_fingerprint(settings, embedder):
        return True
    if manifest.get("fingerprint", {}).get("format") != FORMAT_VERSION:
        return True
    if corpus_problem(settings.corpus_dir):
        return False  # nothing to compare with: keep answering from the index (an ingest would say why)
    docs, skipped = manifest["docs"], manifest.get("skipped", {})
    seen = set()
    for source, path in discover(settings.corpus_dir):
        seen.add(source)
        digest = fingerprint(path)
        if (docs[source]["hash"] if source in docs else skipped.get(source, {}).get("hash")) != digest:
            return True
    return bool((set(docs) | set(skipped)) - seen)
