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
from collections.abc import Iterator
from pathlib import Path

from .cleaning import clean_text
from .errors import LoadError
from .models import Document

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
SIDECAR = ".meta.json"
#: Files larger than this are refused rather than read into memory.
MAX_FILE_BYTES = 64 * 1024 * 1024


def discover(corpus_dir: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(relative name, path)`` of every ingestible file, sorted, not following links."""
    root = corpus_dir.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or name.endswith(SIDECAR):
                continue
            if path.suffix.lower() not in SUFFIXES:
                continue
            yield path.relative_to(root).as_posix(), path


def fingerprint(path: Path) -> str:
    """Content hash of a file and its sidecar: what decides whether it needs re-ingesting."""
    h = hashlib.sha256()
    if path.is_symlink():  # never read through a link (it may point outside the corpus)
        h.update(b"\0symlink\0" + os.fsencode(os.readlink(path)))
        return h.hexdigest()
    if not path.is_file():  # a FIFO or device would block or never end
        return hashlib.sha256(b"\0special\0" + path.name.encode()).hexdigest()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    sidecar = path.with_name(path.name + SIDECAR)
    if sidecar.is_file() and not sidecar.is_symlink():
        h.update(b"\0sidecar\0" + sidecar.read_bytes())
    return h.hexdigest()


def decode_bytes(data: bytes) -> str:
    """Decode text in UTF-8, GB18030 or whatever charset-normalizer recognises."""
    if not data.strip():
        raise LoadError("file is empty")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary data (NUL bytes), not text")
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


def _read_sidecar(path: Path) -> dict[str, str]:
    sidecar = path.with_name(path.name + SIDECAR)
    if not sidecar.is_file() or sidecar.is_symlink():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"sidecar {sidecar.name} is not valid JSON: {exc}") from exc
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
    lines = []
    for el in root.iter("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "td"):
        text = " ".join(el.text_content().split())
        if text:
            lines.append(text)
    return "\n".join(lines)


def _markdown(text: str) -> tuple[dict[str, str], str]:
    from markdown_it import MarkdownIt

    meta, body = _front_matter(text)
    heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    if heading and "title" not in meta:
        meta["title"] = heading.group(1).strip()
    html = MarkdownIt("commonmark").render(body)
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
    body = trafilatura.extract(
        html, output_format="txt", include_comments=False, include_tables=False, favor_precision=True
    )
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


def load_document(path: Path, source: str) -> Document:
    """Read, extract and clean one file. Raises ``LoadError`` with the reason when it cannot."""
    if path.is_symlink():
        raise LoadError(
            f"symbolic link to {os.readlink(path)}: links are not followed (copy the file into the corpus folder)"
        )
    if not path.is_file():
        raise LoadError("not a regular file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(f"file is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MiB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file ({exc.strerror})") from exc
    suffix = path.suffix.lower()
    meta: dict[str, str] = {}
    if suffix == ".pdf":
        if not data.strip():
            raise LoadError("file is empty")
        meta, body = _pdf(data)
    elif suffix in (".html", ".htm"):
        meta, body = _html(data)
    elif suffix in (".md", ".markdown"):
        meta, body = _markdown(decode_bytes(data))
    else:
        body = decode_bytes(data)
    cleaned = clean_text(body)
    if not cleaned.text.strip():
        raise LoadError("no prose left after removing page chrome (nothing to index)")
    sidecar = _read_sidecar(path)
    found = {"title": cleaned.title, "publisher": cleaned.publisher, "date": cleaned.date, "url": cleaned.url}
    merged = {k: sidecar.get(k) or meta.get(k) or found.get(k) for k in found}
    title = merged["title"] or Path(source).stem.replace("-", " ").replace("_", " ").strip().capitalize()
    return Document(
        source=source,
        text=cleaned.text,
        title=title,
        publisher=merged["publisher"],
        date=merged["date"],
        url=merged["url"],
    )
