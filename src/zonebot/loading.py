"""Reading corpus files (.txt, .md, .html/.htm, .pdf) into cleaned ``Document``s.

Metadata comes from, in order of precedence: a sidecar ``<file>.meta.json`` beside
the file (keys ``title``, ``publisher``, ``date``, ``url``), front matter in Markdown,
the HTML page's own metadata, and finally what the text itself states.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import nesting
from .cleaning import clean_text
from .errors import LoadError
from .models import Document, SkippedFile

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
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


_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)  # fmt: skip


def _wide_guess(data: bytes) -> str | None:
    """UTF-16/32 without a byte order mark, told apart by where the zero bytes fall: text in any
    script below U+10000 has two zero bytes in every UTF-32 unit, and Latin text one in every UTF-16 unit."""
    sample = data[: 1 << 16]
    zeros = [sum(1 for b in sample[i::4] if b == 0) / max(1, len(sample[i::4])) for i in range(4)]
    if len(data) % 4 == 0 and min(zeros[2], zeros[3]) > 0.9:
        return "utf-32-le"
    if len(data) % 4 == 0 and min(zeros[0], zeros[1]) > 0.9:
        return "utf-32-be"
    even, odd = (zeros[0] + zeros[2]) / 2, (zeros[1] + zeros[3]) / 2
    if len(data) % 2 == 0 and odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if len(data) % 2 == 0 and even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _wide_unicode(data: bytes) -> str | None:
    """Text of UTF-16 or UTF-32 data, with or without a byte order mark; None when it is not that."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None) or _wide_guess(data)
    if encoding is None:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    return text if text.strip() and printable >= 0.95 * len(text) else None


def decode_bytes(data: bytes) -> str:
    """Decode text in UTF-8, GB18030 or whatever charset-normalizer recognises."""
    if not data.strip():
        raise LoadError("file is empty")
    if b"\x00" in data[:8192]:
        wide = _wide_unicode(data)
        if wide is None:
            raise LoadError("binary data (NUL bytes), not text")
        return wide
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    bad = sum(1 for _ in re.finditer(rb"[\x80-\xff]", data))
    try:
        text = data.decode("gb18030")
        cjk = len(re.findall(r"[\u3400-\u9fff]", text))
        if cjk and cjk * 2 >= bad * 0.8:
            return text
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few broken bytes (a damaged or truncated file): keep the text, mark
    # the damage. Valid multi-byte sequences beside the errors say it was meant as UTF-8;
    # stray high bytes alone are more likely a legacy code page (cp1252 "café").
    text = data.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd")
    if damaged <= max(3, len(text) // 200) and re.search(r"[^\x00-\x7f\ufffd]", text):
        return text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding not in ("utf_8",):
        text = str(best)
        printable = sum(ch.isprintable() or ch.isspace() for ch in text)
        if printable >= 0.95 * len(text):
            return text
    # Mostly UTF-8 with a few broken bytes: keep the text, mark the damage.
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") <= max(3, len(text) // 100):
        return text
    raise LoadError(f"cannot decode as text ({utf8_error.reason} at byte {utf8_error.start})")


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


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    m = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if not m:
        return {}, text
    meta = {}
    for line in m.group(1).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            meta[key.strip().lower()] = value.strip().strip("'\"")
    return meta, text[m.end() :]


def _blocks_from_html(html: str) -> str:
    """Block-level text of an HTML fragment, one block per line."""
    import lxml.html

    root = lxml.html.fromstring(html)
    if nesting.tree_depth(root) >= nesting.LXML_DEPTH:
        return nesting.flat_html_text(html)
    tags = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "td")
    return "\n".join(nesting.own_texts(root, tags))


def _markdown(text: str) -> tuple[dict[str, str], str]:
    from markdown_it import MarkdownIt

    meta, body = _front_matter(text)
    heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    if heading and "title" not in meta:
        meta["title"] = heading.group(1).strip()
    md = MarkdownIt("commonmark", {"maxNesting": nesting.MARKDOWN_NESTING})
    tokens = md.parse(body)
    if nesting.markdown_too_deep(tokens, nesting.MARKDOWN_NESTING):
        tokens = md.parse(nesting.flatten_markdown(body))
    html = md.renderer.render(tokens, md.options, {})
    return meta, _blocks_from_html(html) if html.strip() else ""


def _html(data: bytes) -> tuple[dict[str, str], str]:
    import trafilatura

    html = decode_bytes(data)
    meta: dict[str, str] = {}
    info = trafilatura.extract_metadata(html)
    if info is not None:
        for key, attr in (("title", "title"), ("publisher", "sitename"), ("date", "date"), ("url", "url")):
            value = getattr(info, attr, None)
            if value:
                meta[key] = str(value)
    body = None if nesting.html_too_deep(html) else trafilatura.extract(
        html, output_format="txt", include_comments=False, include_tables=False, favor_precision=True
    )  # fmt: skip
    if not body:
        try:
            body = _blocks_from_html(html)
        except Exception as exc:  # lxml raises several types on hopeless markup
            raise LoadError(f"HTML has no readable text ({exc})") from exc
    if not body or not body.strip():
        raise LoadError("HTML has no readable main text")
    return meta, body


def _pdf(data: bytes) -> tuple[dict[str, str], str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:
                raise LoadError("PDF is encrypted (password required)") from exc
            if not ok:
                raise LoadError("PDF is encrypted (password required)")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta: dict[str, str] = {}
        info = reader.metadata
        if info is not None:
            if info.title:
                meta["title"] = str(info.title)
            if info.author:
                meta["publisher"] = str(info.author)
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"corrupt PDF ({exc})") from exc
    except Exception as exc:  # pypdf raises assorted errors on broken files
        raise LoadError(f"corrupt PDF ({type(exc).__name__}: {exc})") from exc
    # PDF text wraps lines mid-sentence: join lines inside a paragraph.
    text = "\n\n".join(re.sub(r"(?<![.!?:。！？])\n(?=\S)", " ", p) for p in pages)
    if not text.strip():
        raise LoadError("PDF has no extractable text (scanned images?)")
    return meta, text


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


def _extract(suffix: str, data: bytes) -> tuple[dict[str, str], str]:
    """Metadata and body text of a file's bytes, by type."""
    try:
        if suffix == ".pdf":
            if not data.strip():
                raise LoadError("file is empty")
            return _pdf(data)
        if suffix in (".html", ".htm"):
            return _html(data)
        if suffix in (".md", ".markdown"):
            return _markdown(decode_bytes(data))
        return {}, decode_bytes(data)
    except ImportError as exc:
        # An optional parser library missing from this install costs this file only, not the ingest.
        raise LoadError(f"a library needed to read {suffix} files is missing: {exc}") from exc


def load_document(path: Path, source: str, warn: Warn | None = None) -> Document:
    """Read, extract and clean one file. Raises ``LoadError`` with the reason when it cannot.

    ``warn`` receives problems that do not stop the document from being indexed (a bad sidecar).
    """
    meta, body = _extract(path.suffix.lower(), _read_bytes(path))
    cleaned = clean_text(body)
    if not cleaned.text.strip():
        raise LoadError("no prose left after removing page chrome (nothing to index)")
    sidecar = _read_sidecar(path, warn or (lambda _msg: None))
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
    )


def _scrub(value: str | None) -> str | None:
    """Lone surrogates (a sidecar's ``"\\ud800"``, a PDF's broken text layer) as U+FFFD: they cannot be
    written as UTF-8, and one of them would fail the whole generation."""
    return _SURROGATE.sub("\ufffd", value) if value else value
