"""Plain text (.txt): lines as prose, hard-wrapped paragraphs rejoined, aligned columns as tables."""

from __future__ import annotations

import re

from . import Block, Extracted
from .encoding import decode_bytes
from .tables import aligned_cells, aligned_table, table_blocks

# A line that ends a sentence (or a list intro): the next line starts a block of its own.
_ENDS = re.compile(r"[.!?:;。！？：；\"'”’)]\s*$")


def _continues(previous: str, line: str) -> bool:
    """``line`` carries on the paragraph ``previous`` was wrapped from (hard-wrapped text)."""
    return not _ENDS.search(previous) and bool(re.match(r"\s*[a-z(\d]", line)) and len(previous) >= 40


def text_blocks(text: str) -> list[Block]:
    """Blocks of plain text: each line is prose unless it is part of an aligned-column table or a
    continuation of a hard-wrapped paragraph. Linear in the text's length."""
    blocks: list[Block] = []
    wrapped: dict[int, list[str]] = {}  # a prose block's continuation lines, joined once at the end (linear)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if aligned_cells(line) is not None:
            j = i
            while j < len(lines) and lines[j].strip() and aligned_cells(lines[j]) is not None:
                j += 1
            grid = aligned_table(lines[i:j])
            if grid is not None:
                blocks.extend(table_blocks(grid))
                i = j
                continue
        if blocks and blocks[-1].kind == "prose" and i and lines[i - 1].strip() and _continues(lines[i - 1], line):
            wrapped.setdefault(len(blocks) - 1, []).append(line.strip())
        else:
            blocks.append(Block("prose", line))
        i += 1
    for n, more in wrapped.items():
        blocks[n].text = "\n".join([blocks[n].text, *more])
    return blocks


def read_text(data: bytes) -> Extracted:
    return Extracted(blocks=text_blocks(decode_bytes(data)))
