"""Decoding a text file's bytes: UTF-8 first, then the encoding charset-normalizer finds most
likely, per file or, for a file that mixes encodings, per line.

UTF-16 and UTF-32 are recognised with or without a byte order mark. A legacy encoding is chosen
only among the ones the web actually uses (the WHATWG Encoding Standard's list), by
charset-normalizer's measures of mess and language coherence, never as "the first that does
not fail": Latin-1 bytes decode without error as GB18030, into nonsense.
"""

from __future__ import annotations

import re

from ..errors import LoadError

_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)  # fmt: skip
_WIDE = ["utf_32_le", "utf_32_be", "utf_16_le", "utf_16_be"]
#: Legacy encodings of the WHATWG Encoding Standard (what browsers decode), in Python's names.
LEGACY = [
    "cp1252", "iso8859_2", "iso8859_15", "cp1250", "cp1251", "koi8_r", "cp1253", "cp1254", "cp1255", "cp1256",
    "cp1257", "cp1258", "cp874", "gb18030", "big5", "shift_jis", "euc_jp", "euc_kr",
]  # fmt: skip
#: Past this, detection reads a sample: charset-normalizer's cost grows with the input.
_SAMPLE = 256 * 1024


def _printable(text: str) -> bool:
    return bool(text.strip()) and sum(ch.isprintable() or ch.isspace() for ch in text) >= 0.95 * len(text)


def _detect(data: bytes, candidates: list[str]) -> str | None:
    """The encoding among ``candidates`` charset-normalizer finds most likely for ``data`` (a sample of it
    when it is long), or None."""
    from charset_normalizer import from_bytes

    sample = data if len(data) <= _SAMPLE else data[: _SAMPLE // 2] + data[-_SAMPLE // 2 :]
    best = from_bytes(sample, cp_isolation=candidates, preemptive_behaviour=False).best()
    return best.encoding if best is not None else None


def _wide(data: bytes) -> str | None:
    """Text of UTF-16/32 data without a byte order mark (NUL bytes in it), or None when it is not that."""
    encoding = _detect(data[: 1 << 16], _WIDE)
    if encoding is None:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return text if _printable(text) else None


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _legacy(data: bytes) -> str | None:
    """The whole file in the legacy encoding it is most likely in; None when none fits."""
    encoding = _detect(data, LEGACY)
    if encoding is None:
        return None
    text = data.decode(encoding, errors="replace")
    return text if _printable(text) and text.count("\ufffd") <= max(3, len(text) // 200) else None


def _mixed(data: bytes) -> str | None:
    """A file whose lines are UTF-8 except some in a legacy encoding (text pasted together from several
    sources): each line decoded by itself. None when no line shows UTF-8 (then it is not mixed)."""
    lines = data.splitlines(keepends=True)
    good = [_is_utf8(line) for line in lines]
    if not any(ok and re.search(rb"[\xc2-\xf4][\x80-\xbf]", line) for ok, line in zip(good, lines, strict=True)):
        return None
    bad = b"".join(line for ok, line in zip(good, lines, strict=True) if not ok)
    encoding = _detect(bad, LEGACY) if len(re.findall(rb"[\x80-\xff]", bad)) >= 2 else None
    out = []
    for ok, line in zip(good, lines, strict=True):
        if ok:
            out.append(line.decode("utf-8"))
            continue
        legacy = line.decode(encoding, errors="replace") if encoding else ""
        # A line of another encoding reads as words in it; a damaged UTF-8 line (stray 0xFF bytes)
        # does not: keep that one as UTF-8 with the damage marked.
        out.append(legacy if legacy and _reads_as_words(legacy) else line.decode("utf-8", errors="replace"))
    return "".join(out)


def _reads_as_words(text: str) -> bool:
    """Every non-ASCII character of ``text`` sits inside a word, cased as words are (no "ÿþCouncil")."""
    from charset_normalizer.md import mess_ratio

    for m in re.finditer(r"[^\x00-\x7f]", text):
        before, after = text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
        if not m.group(0).isalpha() and not m.group(0).isspace():
            continue
        if m.group(0).islower() and after.isupper():
            return False
        if not (before.isalpha() or after.isalpha()):
            return False
    return mess_ratio(text) < 0.1


def decode_bytes(data: bytes) -> str:
    """Decode a text file's bytes. Raises ``LoadError`` for empty, binary or undecodable data.

    Order: a byte order mark; UTF-16/32 without one; UTF-8; UTF-8 mixed with lines in a legacy
    encoding; one legacy encoding for the whole file; UTF-8 with a few damaged bytes marked U+FFFD.
    """
    if not data.strip():
        raise LoadError("file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise LoadError(f"cannot decode as {encoding} ({exc.reason} at byte {exc.start})") from exc
    if b"\x00" in data[:8192]:
        wide = _wide(data)
        if wide is None:
            raise LoadError("binary data (NUL bytes), not text")
        return wide
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    for attempt in (_mixed, _legacy):
        text = attempt(data)
        if text is not None:
            return text
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") <= max(3, len(text) // 100):
        return text
    raise LoadError(f"cannot decode as text ({utf8_error.reason} at byte {utf8_error.start})")
