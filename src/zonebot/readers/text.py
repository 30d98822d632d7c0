"""Plain text (.txt): lines as prose, hard-wrapped paragraphs rejoined, aligned columns as tables."""

from __future__ import annotations

import re

from . import Block, Extracted
from .encoding import decode_bytes
from .tables import aligned_cells, aligned_table, table_blocks

# A line that ends a sentence (or a list intro): the next line starts a block of its own.
_ENDS = re.compile(r"[.!?:;。！？：；\"'”’)]\s*$")


def _continues(previous: str, line: str) -> bool:
    """``line`` carries on the paragraph ``previous`` was wrapped from (hard-wrapped text): the previous
    line is long and ends mid-sentence, and this one goes on in lower case."""
    return len(previous) >= 40 and not _ENDS.search(previous) and bool(re.match(r"\s*[a-z(]", line))


def text_blocks(text: str) -> list[Block]:
    """Blocks of plain text: each line is prose unless it is part of an aligned-column table or a
    continuation of a hard-wrapped paragraph. Linear in the text's length."""
    blocks: list[Block] = []
    paragraph: list[str] = []  # lines of the prose block being read

    def flush() -> None:
        if paragraph:
            blocks.append(Block("prose", "\n".join(paragraph)))
            paragraph.clear()

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            flush()
            i += 1
            continue
        if aligned_cells(line) is not None:
            j = i
            while j < len(lines) and lines[j].strip() and aligned_cells(lines[j]) is not None:
                j += 1
            grid = aligned_table(lines[i:j])
            if grid is not None:
                flush()
                blocks.extend(table_blocks(grid))
                i = j
                continue
        if not (paragraph and _continues(paragraph[-1], line)):
            flush()
        paragraph.append(line.strip() if paragraph else line)
        i += 1
    flush()
    return blocks


def read_text(data: bytes) -> Extracted:
    return Extracted(blocks=text_blocks(decode_bytes(data)))
