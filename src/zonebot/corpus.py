"""Adding and removing corpus files: what the UI's upload and delete buttons call.

Both only change the corpus folder; ``ZoneBot.ingest()`` then brings the index in line.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from .errors import CorpusError, DocumentExistsError
from .loading import SIDECAR, SUFFIXES

#: File types accepted for upload (what ``loading`` can read).
UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
#: Largest upload accepted, in bytes.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

#: Characters no file name gets: path separators and what Windows forbids (control characters go too).
_FORBIDDEN = frozenset('/\\:*?"<>|')
#: Longest stem kept, in UTF-8 bytes (file systems allow 255 per name; room is left for " (2)" and the suffix).
_MAX_STEM_BYTES = 200
IF_EXISTS = ("error", "replace", "rename")


def _unsafe(ch: str) -> bool:
    # Categories C* are control, format (bidi overrides that disguise a name), surrogate, private and unassigned.
    return ch in _FORBIDDEN or unicodedata.category(ch)[0] == "C"


def safe_name(name: str) -> str:
    """A file name safe to create in the corpus folder that stays readable: Unicode NFC, letters of every script,
    spaces and punctuation kept; no folders, control or invisible characters, or characters Windows forbids
    (each run becomes ``-``); no leading dot or dash; the suffix lower-cased; ``document`` when nothing is left."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", name or "")[-1])
    base = "".join(" " if ch.isspace() else "-" if _unsafe(ch) else ch for ch in base)
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"-{2,}", "-", " ".join(stem.split())).strip(" .-_")
    stem = stem.encode()[:_MAX_STEM_BYTES].decode(errors="ignore").rstrip(" .-_") or "document"
    suffix = suffix.strip().lower()
    return f"{stem}.{suffix}" if suffix else stem


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


def add_document(corpus_dir: Path, name: str, data: bytes, *, if_exists: str = "error") -> str:
    """Store ``data`` as a file of the corpus folder; returns its source name (the file name used).

    The name is made safe (``safe_name``). When a file of that name is there already: ``if_exists="error"``
    raises ``DocumentExistsError``; ``"replace"`` puts the new version in its place (atomically; its sidecar
    stays); ``"rename"`` keeps both, the new one as ``name (2).md`` (or the next number free).
    """
    if if_exists not in IF_EXISTS:
        raise CorpusError(f"if_exists must be one of {', '.join(IF_EXISTS)}, not {if_exists!r}")
    source = safe_name(name)
    _check_content(source, data)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = corpus_dir / source
    if (target.exists() or target.is_symlink()) and if_exists == "error":
        raise DocumentExistsError(source)
    # Written beside the target and renamed, so an ingest never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if if_exists == "replace" and (target.exists() or target.is_symlink()):
            if target.is_symlink() or not target.is_file():
                raise CorpusError(f"{source} is not a plain file of the corpus folder, so it is not replaced")
            os.replace(tmp, target)
            return source
        return _link_new(tmp, corpus_dir, source, rename=if_exists == "rename")
    except OSError as exc:
        raise CorpusError(f"{source} could not be stored in {corpus_dir}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _link_new(tmp: str, corpus_dir: Path, source: str, rename: bool) -> str:
    """Link ``tmp`` as ``source`` (or, with ``rename``, the first free ``stem (n).suffix``); never overwrites."""
    stem, dot, suffix = source.rpartition(".")
    for n in range(1, 1000):
        candidate = source if n == 1 else f"{stem} ({n}){dot}{suffix}"
        try:
            os.link(tmp, corpus_dir / candidate)  # fails rather than replacing a file created meanwhile
            return candidate
        except FileExistsError:
            if not rename:
                raise DocumentExistsError(source) from None
    raise CorpusError(f"{source}: too many files of that name in the corpus folder")


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
