"""Document readers: one module per file format, each turning a file's bytes into the same thing,
a list of :class:`Block` s in reading order, so that cleaning and splitting never see a format.

A block is one of three kinds:

* ``prose``: a paragraph, list item or line of running text, as extracted. Line breaks inside it
  are the source's own wrapping (a PDF line, a Markdown soft break) and may be rejoined;
* ``heading``: a heading, title or table caption: never a passage, but it names what follows;
* ``row``: one row of a table, a definition list or a key–value profile, as ``(column header,
  value)`` cells with the row's own header (``label``) and the table's caption, if any.

Readers register by file suffix in :data:`READERS`; :func:`read` picks one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["prose", "heading", "row"]


@dataclass
class Block:
    """One unit of a document's content, in reading order."""

    kind: Kind
    text: str  #: prose or heading text; for a row, its cells as read (for counting and messages)
    cells: list[tuple[str, str]] = field(default_factory=list)  #: row: ``(column header, value)``, header may be ""
    label: str | None = None  #: row: the row's own header (its first cell), when the table has one
    caption: str | None = None  #: row: the table's caption or subject, when the table states one
    page: int | None = None  #: 1-based page number (PDF)


@dataclass
class Extracted:
    """What a reader found in a file: metadata, content blocks and notes for the ingest report."""

    meta: dict[str, str] = field(default_factory=dict)  #: ``title``, ``publisher``, ``date``, ``url`` when stated
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  #: problems that cost part of the file ("page 3 has no text")


Reader = Callable[[bytes], Extracted]


def _text(data: bytes) -> Extracted:
    from .text import read_text

    return read_text(data)


def _markdown(data: bytes) -> Extracted:
    from .markdown import read_markdown

    return read_markdown(data)


def _html(data: bytes) -> Extracted:
    from .html import read_html

    return read_html(data)


def _pdf(data: bytes) -> Extracted:
    from .pdf import read_pdf

    return read_pdf(data)


#: The reader of each supported file suffix (lower case). Parser libraries are imported on first use,
#: so a missing one costs only the files that need it.
READERS: dict[str, Reader] = {
    ".txt": _text,
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
}


def read(suffix: str, data: bytes) -> Extracted:
    """The blocks of a file's ``data`` by its ``suffix``. Raises ``LoadError`` when the file cannot be read."""
    return READERS[suffix.lower()](data)
