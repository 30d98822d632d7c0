"""Reading corpus files (.txt, .md, .html/.htm, .pdf) into cleaned ``Document``s.

Metadata comes from, in order of precedence: a sidecar ``<file>.meta.json`` beside
the file (keys ``title``, ``publisher``, ``date``, ``url``), front matter in Markdown,
the HTML page's own metadata, and finally what the text itself states.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .cleaning import clean_blocks
from .errors import LoadError
from .models import Document, SkippedFile
from .readers import READERS, Extracted, read
from .readers.encoding import decode_bytes

__all__ = ["SUFFIXES", "Scan", "corpus_problem", "decode_bytes", "discover", "fingerprint", "load_document", "scan"]

SUFFIXES = set(READERS)
SIDECAR = ".meta.json"
#: Files larger than this are refused rather than read into memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Receives a problem that does not stop a document from being indexed (a bad sidecar).
Warn = Callable[[str], None]
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass
class Scan:
    """What a walk of the corpus folder found: files to ingest, and what it passed over with the reason."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    ignored: list[SkippedFile] = field(default_factory=list)


def display_name(relative: str) -> str:
    """A name safe to print, store as JSON and hash: bytes that are not UTF-8 (a Latin-1 ``café``) become
    ``\\xe9`` escapes instead of lone surrogates, which cannot be encoded and would stop the whole ingest."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def scan(corpus_dir: Path) -> Scan:
    """Every ingestible file as ``(display name, path)``, sorted, not following links; and what was ignored."""
    root = corpus_dir.resolve()
    found = Scan()
    seen: set[str] = set()

    def unreadable(exc: OSError) -> None:  # os.walk's onerror: a folder it could not list
        where = display_name(os.path.relpath(exc.filename, root)) if exc.filename else "?"
        found.ignored.append(SkippedFile(where + "/", f"folder cannot be read ({exc.strerror})"))

    # os.walk on a str root yields str names; bytes that are not UTF-8 arrive as surrogate escapes
    # (os.fsdecode), which still open the right file.
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root)
        for d in sorted(d for d in dirnames if d.startswith(".")):
            found.ignored.append(SkippedFile(display_name((rel_dir / d).as_posix()) + "/", "hidden folder"))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(SIDECAR):
                continue
            source = display_name((rel_dir / name).as_posix())
            reason = _ignore_reason(name)
            if not reason and source in seen:  # a literal "caf\xe9" beside a Latin-1 "café"
                reason = "its name, shown with escapes, is the same as another file's: rename one of them"
            if reason:
                found.ignored.append(SkippedFile(source, reason))
            else:
                seen.add(source)
                found.files.append((source, Path(dirpath) / name))
    return found


def _ignore_reason(name: str) -> str | None:
    if name.startswith("."):
        return "hidden file"
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        kind = f"{suffix} files are" if suffix else "files without an extension are"
        return f"unsupported type: {kind} not read (supported: {', '.join(sorted(SUFFIXES))})"
    return None


def corpus_problem(corpus_dir: Path) -> str | None:
    """Why the corpus folder as a whole cannot be read (missing, not a folder, no permission), or None."""
    try:
        with os.scandir(corpus_dir) as entries:
            next(entries, None)
    except FileNotFoundError:
        return f"corpus folder {corpus_dir} does not exist; create it or set ZONEBOT_CORPUS_DIR"
    except OSError as exc:
        return (
            f"corpus folder {corpus_dir} cannot be read ({exc.strerror}); check its permissions or ZONEBOT_CORPUS_DIR"
        )
    return None


def discover(corpus_dir: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(display name, path)`` of every ingestible file, sorted, not following links."""
    yield from scan(corpus_dir).files


def fingerprint(path: Path) -> str:
    """Content hash of a file and its sidecar: what decides whether it needs re-ingesting.

    Never raises: a file that cannot be read hashes to a marker of that (so it reads as changed, and
    the ingest reports why), because answering from an existing index must not depend on the corpus.
    """
    h = hashlib.sha256()
    try:
        if path.is_symlink():  # never read through a link (it may point outside the corpus)
            h.update(b"\0symlink\0" + os.fsencode(os.readlink(path)))
            return h.hexdigest()
        if not path.is_file():  # a FIFO or device would block or never end
            return hashlib.sha256(b"\0special\0" + os.fsencode(path.name)).hexdigest()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        return hashlib.sha256(f"\0unreadable\0{exc.errno}".encode()).hexdigest()
    sidecar = path.with_name(path.name + SIDECAR)
    try:
        if sidecar.is_file() and not sidecar.is_symlink():
            h.update(b"\0sidecar\0" + sidecar.read_bytes())
    except OSError as exc:
        h.update(f"\0sidecar-unreadable\0{exc.errno}".encode())
    return h.hexdigest()


def _read_sidecar(path: Path, warn: Warn) -> dict[str, str]:
    """The sidecar's metadata; a sidecar that cannot be used is a warning, never a reason to drop the document."""
    sidecar = path.with_name(path.name + SIDECAR)
    try:
        if not sidecar.is_file() or sidecar.is_symlink():
            return {}
        data = json.loads(sidecar.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        warn(f"sidecar {display_name(sidecar.name)} cannot be read ({exc.strerror}); metadata taken from the file")
        return {}
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        warn(f"sidecar {display_name(sidecar.name)} is not valid JSON ({exc}); metadata taken from the file")
        return {}
    except RecursionError:  # the JSON decoder recurses once per nesting level
        warn(f"sidecar {display_name(sidecar.name)} is nested too deeply to read; metadata taken from the file")
        return {}
    if not isinstance(data, dict):
        warn(f"sidecar {display_name(sidecar.name)} holds a JSON {type(data).__name__}, not an object "
             '({"title": ..., "publisher": ..., "date": ..., "url": ...}); ignored')  # fmt: skip
        return {}
    return {k: str(v) for k, v in data.items() if k in ("title", "publisher", "date", "url") and v}


def _read_bytes(path: Path) -> bytes:
    if path.is_symlink():
        raise LoadError(
            f"symbolic link to {display_name(os.readlink(path))}: links are not followed "
            "(copy the file into the corpus folder)"
        )
    try:
        if not path.is_file():
            raise LoadError("not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(f"file is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MiB limit")
        return path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file ({exc.strerror})") from exc


def _extract(suffix: str, data: bytes) -> Extracted:
    """Metadata and content blocks of a file's bytes, by type (see ``zonebot.readers``)."""
    try:
        return read(suffix, data)
    except ImportError as exc:
        # An optional parser library missing from this install costs this file only, not the ingest.
        raise LoadError(f"a library needed to read {suffix} files is missing: {exc}") from exc


#: Below this share of its extracted text in passages, a document's ingest carries a warning.
LOW_COVERAGE = 0.5


def load_document(path: Path, source: str, warn: Warn | None = None) -> Document:
    """Read, extract and clean one file. Raises ``LoadError`` with the reason when it cannot.

    ``warn`` receives problems that do not stop the document from being indexed: a bad sidecar,
    a PDF page without text, most of the extracted text left out as page chrome.
    """
    warn = warn or (lambda _msg: None)
    extracted = _extract(path.suffix.lower(), _read_bytes(path))
    cleaned = clean_blocks(extracted.blocks)
    if not cleaned.text.strip():
        raise LoadError("no prose left after removing page chrome (nothing to index)")
    for note in extracted.notes:
        warn(note)
    if cleaned.extracted - cleaned.kept >= 500 and cleaned.kept < LOW_COVERAGE * cleaned.extracted:
        warn(f"only {cleaned.kept / cleaned.extracted:.0%} of its extracted text became passages "
             f"({cleaned.kept:,} of {cleaned.extracted:,} characters); the rest read as page chrome "
             "(menus, captions, repeated lines): check that nothing you need is missing")  # fmt: skip
    sidecar = _read_sidecar(path, warn)
    meta = extracted.meta
    found = {"title": cleaned.title, "publisher": cleaned.publisher, "date": cleaned.date, "url": cleaned.url}
    merged = {k: _scrub(sidecar.get(k) or meta.get(k) or found.get(k)) for k in found}
    title = merged["title"] or Path(source).stem.replace("-", " ").replace("_", " ").strip().capitalize()
    return Document(
        source=source,
        text=_scrub(cleaned.text) or "",
        title=title,
        publisher=merged["publisher"],
        date=merged["date"],
        url=merged["url"],
        extracted_chars=cleaned.extracted,
        kept_chars=cleaned.kept,
        open_breaks=cleaned.open_breaks,
    )


def _scrub(value: str | None) -> str | None:
    """Lone surrogates (a sidecar's ``"\\ud800"``, a PDF's broken text layer) as U+FFFD: they cannot be
    written as UTF-8, and one of them would fail the whole generation."""
    return _SURROGATE.sub("\ufffd", value) if value else value
