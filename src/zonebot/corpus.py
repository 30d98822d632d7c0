"""Adding and removing corpus files: what the UI's upload and delete buttons call.

Both only change the corpus folder; ``ZoneBot.ingest()`` then brings the index in line.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from .errors import CorpusError
from .loading import SIDECAR, SUFFIXES

#: File types accepted for upload (what ``loading`` can read).
UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
#: Largest upload accepted, in bytes.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name safe to create in the corpus folder: no folders, no leading dot, plain characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("-", stem).strip("-._")[:100] or "document"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def _check_content(name: str, data: bytes) -> None:
    """Refuse what is too large, empty, or not what its suffix says it is."""
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise CorpusError(f"{name}: only {', '.join(UPLOAD_SUFFIXES)} files can be added")
    if len(data) > MAX_UPLOAD_BYTES:
        raise CorpusError(f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB")
    if not data.strip():
        raise CorpusError(f"{name} is empty")
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise CorpusError(f"{name} does not look like a PDF file")
    elif b"\0" in data[:65536]:  # text files never hold NUL bytes; binaries nearly always do
        raise CorpusError(f"{name} looks like a binary file, not {suffix} text")


def add_document(corpus_dir: Path, name: str, data: bytes) -> str:
    """Store ``data`` as a new file of the corpus folder; returns its source name (the file name used).

    The name is sanitised; an existing file is never overwritten (delete it first to replace it).
    """
    source = safe_name(name)
    _check_content(source, data)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = corpus_dir / source
    if target.exists() or target.is_symlink():
        raise CorpusError(f"{source} is already in the corpus; delete it first to replace it")
    # Written beside the target and renamed, so an ingest never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.link(tmp, target)  # fails rather than replacing a file created meanwhile
    except FileExistsError:
        raise CorpusError(f"{source} is already in the corpus; delete it first to replace it") from None
    except OSError as exc:
        raise CorpusError(f"{source} could not be stored in {corpus_dir}: {exc.strerror}") from None
    finally:
        os.unlink(tmp)
    return source


def remove_document(corpus_dir: Path, source: str) -> None:
    """Delete the corpus file ``source`` (a path relative to the corpus folder) and its sidecar."""
    root = corpus_dir.resolve()
    path = corpus_dir / source
    # The name comes from a browser: it must stay inside the corpus folder.
    if not source or path.is_symlink() or root not in path.resolve().parents:
        raise CorpusError(f"{source!r} is not a file of the corpus folder")
    if path.suffix.lower() not in SUFFIXES or path.name.endswith(SIDECAR):
        raise CorpusError(f"{source} is not a document (only {', '.join(sorted(SUFFIXES))} files are)")
    if not path.is_file():
        raise CorpusError(f"{source} is no longer in the corpus folder")
    path.unlink()
    path.with_name(path.name + SIDECAR).unlink(missing_ok=True)
