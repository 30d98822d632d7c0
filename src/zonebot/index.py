"""The on-disk index: generations, incremental ingest and atomic swaps.

Layout under ``index/``::

    CURRENT            name of the generation readers use (replaced atomically)
    .lock              held by the one ingest allowed at a time
    gen-<stamp>/       manifest.json, passages.jsonl, docs.jsonl, sentences.npy,
                       stats.json, bm25/ and (embedded mode) chroma/

An ingest builds a complete new generation beside the current one and only then
points ``CURRENT`` at it, so a crash at any moment leaves the previous index
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings
from .embeddings import Embedder
from .errors import IndexMissingError, IngestLockedError, LoadError
from .lexical import LexicalIndex, tokenize
from .loading import discover, fingerprint, load_document
from .models import Document, IngestReport, Passage, SkippedFile
from .splitting import split_document
from .store import VectorStore

FORMAT_VERSION = 4  # bump when cleaning, splitting or the layout changes
_NAME = re.compile(r"\b([A-Z][a-zA-Z]*(?:-[A-Za-z]+)*)")

Progress = Callable[[str], None]


def _pipeline_hash() -> str:
    """Hash of the code that turns files into passages and tokens: changing it re-ingests."""
    h = hashlib.sha256()
    for name in ("loading.py", "cleaning.py", "splitting.py", "lexical.py"):
        h.update((Path(__file__).parent / name).read_bytes())
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
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    index_dir, corpus_dir = settings.index_dir, settings.corpus_dir
    if not corpus_dir.is_dir():
        raise LoadError(f"corpus folder {corpus_dir} does not exist; create it or set ZONEBOT_CORPUS_DIR")
    report = IngestReport()
    with ingest_lock(index_dir, wait):
        prev_name = current_generation(index_dir)
        _remove_stale(index_dir, keep={prev_name}, settings=settings, embedder=embedder)
        fp = settings_fingerprint(settings, embedder)
        prev: Snapshot | None = None
        borrowed = current is not None and current.name == prev_name

        def release(snapshot: Snapshot) -> None:
            if not borrowed:
                snapshot.close()

        if prev_name:
            prev = current if borrowed else Snapshot(index_dir, prev_name, embedder, settings.chroma_url)
            assert prev is not None
            if prev.manifest.get("fingerprint") != fp or (prev.manifest.get("chroma_url") != settings.chroma_url):
                report.rebuilt = True
                release(prev)
                prev = None
        old_docs: dict[str, dict[str, Any]] = prev.docs if prev else {}

        # 1. What changed, by content hash.
        files = list(discover(corpus_dir))
        changed: list[tuple[str, Path, str]] = []
        digests: dict[str, str] = {}
        seen: set[str] = set()
        for source, path in files:
            seen.add(source)
            try:
                digest = fingerprint(path)
            except OSError as exc:
                report.skipped.append(SkippedFile(source, f"cannot read file ({exc.strerror})"))
                continue
            digests[source] = digest
            if source in old_docs and old_docs[source]["hash"] == digest:
                report.unchanged.append(source)
            else:
                changed.append((source, path, digest))
        report.removed = sorted(s for s in old_docs if s not in seen)
        prev_skipped = prev.manifest.get("skipped", {}) if prev else {}
        if (
            prev is not None
            and not report.removed
            and all(prev_skipped.get(s, {}).get("hash") == d for s, _, d in changed)
        ):
            report.skipped = [SkippedFile(s, prev_skipped[s]["reason"]) for s, _, _ in changed]
            report.passages = len(prev.passages)
            release(prev)
            report.seconds = time.perf_counter() - started
            return report

        # 2. Load and split what changed.
        new_docs: list[tuple[Document, str]] = []
        for i, (source, path, digest) in enumerate(changed, 1):
            say(f"reading {i}/{len(changed)}: {source}")
            try:
                new_docs.append((load_document(path, source), digest))
            except LoadError as exc:
                report.skipped.append(SkippedFile(source, str(exc)))
                if source in old_docs:
                    report.removed.append(source)  # its old text no longer matches the file
        kept_sources = [s for s in report.unchanged if s not in report.removed]
        text_hashes = {old_docs[s]["text_hash"]: s for s in kept_sources}
        accepted: list[tuple[Document, str, str]] = []
        for doc, digest in new_docs:
            th = hashlib.sha256(doc.text.encode()).hexdigest()
            if th in text_hashes:
                report.skipped.append(SkippedFile(doc.source, f"same text as {text_hashes[th]} (stored once)"))
                if doc.source in old_docs:
                    report.removed.append(doc.source)
                continue
            text_hashes[th] = doc.source
            accepted.append((doc, digest, th))
            (report.updated if doc.source in old_docs else report.added).append(doc.source)

        new_passages: list[Passage] = []
        count_many = _batch_counter(embedder)
        for i, (doc, _, _) in enumerate(accepted, 1):
            if i % 100 == 0:
                say(f"splitting {i}/{len(accepted)}")
            new_passages.extend(split_document(doc, embedder.count_tokens, settings.passage_tokens, count_many))

        # 3. Embed each distinct new sentence once; a passage vector is the mean of its sentences'.
        #    A sentence already in the index (an edited file's untouched sentences, a sentence
        #    repeated across documents) reuses its stored vector: same model, same text.
        sentences = [s for p in new_passages for s in p.sentence_texts()]
        known: dict[str, int] = {}
        if prev is not None and sentences:
            wanted = set(sentences)
            for row, old_p in enumerate(prev.passages):
                for text, srow in zip(old_p.sentence_texts(), prev.sentence_rows(row), strict=True):
                    if text in wanted and text not in known:
                        known[text] = srow
        fresh = [t for t in dict.fromkeys(sentences) if t not in known]
        say(f"embedding {len(fresh)} distinct new sentences ({len(sentences)} in {len(new_passages)} passages)")
        fresh_vecs = embedder.embed(fresh, show_progress=show_progress)
        report.embedded = len(fresh)
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

        # 4. Assemble the new generation.
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.perf_counter_ns() % 10**6:06d}"
        gen_dir = index_dir / name
        gen_dir.mkdir(parents=True)
        dropped = {s for s in old_docs if s not in kept_sources}
        keep_passages: list[Passage] = []
        keep_vec_rows: list[np.ndarray] = []
        if prev is not None:
            for row, p in enumerate(prev.passages):
                if p.source not in dropped:
                    keep_passages.append(p)
                    keep_vec_rows.append(np.asarray(prev.sentence_rows(row)))
        old_rows = np.concatenate(keep_vec_rows) if keep_vec_rows else np.zeros(0, dtype=np.int64)
        kept_vectors = (
            np.asarray(prev.sentence_vectors[old_rows], dtype=np.float16)
            if prev is not None and len(old_rows)
            else np.zeros((0, embedder.dimension), dtype=np.float16)
        )
        all_passages = keep_passages + new_passages
        all_sentence_vectors = np.concatenate([kept_vectors, sent_vecs.astype(np.float16)])

        say("writing vector store")
        cloned = prev is not None and VectorStore.clone(prev.dir, gen_dir, settings.chroma_url)
        store = VectorStore.open(gen_dir, name, embedder, settings.chroma_url)
        if prev is not None:
            if cloned:
                store.delete([p.id for p in prev.passages if p.source in dropped])
            else:
                store.copy_from(prev.vectors, [p.id for p in keep_passages])
        if new_passages:
            pvecs, offset = [], 0
            for p in new_passages:
                v = sent_vecs[offset : offset + len(p.sentences)].mean(axis=0)
                pvecs.append(v / (np.linalg.norm(v) or 1.0))
                offset += len(p.sentences)
            metas = [
                {"source": p.source, "title": p.title, "ordinal": p.ordinal, "start": p.start, "end": p.end}
                for p in new_passages
            ]
            store.add([p.id for p in new_passages], np.vstack(pvecs), [p.text for p in new_passages], metas)
        store.close()

        say("writing lexical index and passage table")
        with open(gen_dir / "passages.jsonl", "w", encoding="utf-8") as fh:
            row = 0
            for p in all_passages:
                rec = asdict(p)
                rec["score"] = 0.0
                rec["sent_start"] = row
                row += len(p.sentences)
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        np.save(gen_dir / "sentences.npy", all_sentence_vectors)
        texts: dict[str, str] = {}
        with open(gen_dir / "docs.jsonl", "w", encoding="utf-8") as out:
            if prev is not None:
                with open(prev.dir / "docs.jsonl", encoding="utf-8") as fh:
                    for line in fh:
                        rec = json.loads(line)
                        if rec["source"] in kept_sources:
                            out.write(line)
                            texts[rec["source"]] = rec["text"]
            for doc, _, _ in accepted:
                out.write(json.dumps({"source": doc.source, "text": doc.text}, ensure_ascii=False) + "\n")
                texts[doc.source] = doc.text
        (gen_dir / "bm25").mkdir()
        # Each passage is tokenized once, for both BM25 (title + text) and the IDF table (text).
        title_tokens = {t: tokenize(t) for t in dict.fromkeys(p.title for p in all_passages)}
        text_tokens = [tokenize(p.text) for p in all_passages]
        LexicalIndex.build(
            [title_tokens[p.title] + toks for p, toks in zip(all_passages, text_tokens, strict=True)]
        ).save(gen_dir / "bm25")
        _write(gen_dir / "stats.json", json.dumps(_stats(text_tokens, texts), ensure_ascii=False))

        docs_info: dict[str, Any] = {s: old_docs[s] for s in kept_sources}
        counts = Counter(p.source for p in new_passages)
        for doc, digest, th in accepted:
            docs_info[doc.source] = asdict(
                DocInfo(doc.source, digest, th, doc.title, doc.publisher, doc.date, doc.url,
                        counts[doc.source], len(doc.text))
            )  # fmt: skip
        manifest = {
            "fingerprint": fp,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "chroma_url": settings.chroma_url,
            "docs": dict(sorted(docs_info.items())),
            # Files not indexed (broken, duplicates), by hash: unchanged ones do not make the index stale.
            "skipped": {
                s.source: {"hash": digests[s.source], "reason": s.reason} for s in report.skipped if s.source in digests
            },
            "passages": len(all_passages),
        }
        _write(gen_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        _fsync_dir(gen_dir)

        # 5. The swap: readers see the old generation or the new one, never a mix.
        tmp = index_dir / f"CURRENT.{os.getpid()}.tmp"
        _write(tmp, name + "\n")
        os.replace(tmp, index_dir / "CURRENT")
        _fsync_dir(index_dir)
        if prev is not None:
            release(prev)
        _remove_stale(index_dir, keep={name, prev_name}, settings=settings, embedder=embedder)
        report.passages = len(all_passages)
        report.seconds = time.perf_counter() - started
        return report


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
    docs, skipped = manifest["docs"], manifest.get("skipped", {})
    seen = set()
    for source, path in discover(settings.corpus_dir):
        seen.add(source)
        digest = fingerprint(path)
        if (docs[source]["hash"] if source in docs else skipped.get(source, {}).get("hash")) != digest:
            return True
    return bool(set(docs) - seen)
