"""Markdown (.md): markdown-it-py's token stream (CommonMark with GFM pipe tables) as blocks.

Front matter (``title:``, ``publisher:``, ``date:``) is metadata; the first ``#`` heading is the
title when the front matter gives none. Containers nested past markdown-it's nesting limit would be
dropped, so such a body is read with its block-quote and list markers taken off (see ``nesting``).
"""

from __future__ import annotations

import re

from .. import nesting
from . import Block, Extracted
from .encoding import decode_bytes
from .tables import table_blocks


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """``(metadata, body)`` of a text that may open with a ``---`` front matter block."""
    m = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if not m:
        return {}, text
    meta = {}
    for line in m.group(1).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            meta[key.strip().lower()] = value.strip().strip("'\"")
    return meta, text[m.end() :]


def _inline_text(token) -> str:  # type: ignore[no-untyped-def]
    """Plain text of an inline token: words, code and image descriptions, no markup; breaks as new lines."""
    out = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "image":
            out.append(_inline_text(child))
        elif child.type in ("html_inline",):
            continue
    return "".join(out).strip()


def markdown_blocks(body: str) -> list[Block]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"maxNesting": nesting.MARKDOWN_NESTING}).enable("table")
    tokens = md.parse(body)
    if nesting.markdown_too_deep(tokens, nesting.MARKDOWN_NESTING):
        tokens = md.parse(nesting.flatten_markdown(body))
    blocks: list[Block] = []
    grid: list[list[str]] | None = None
    head_rows = 0
    in_head = False
    for i, tok in enumerate(tokens):
        if tok.type == "table_open":
            grid, head_rows = [], 0
        elif tok.type == "table_close" and grid is not None:
            blocks.extend(table_blocks(grid, header_rows=head_rows))
            grid = None
        elif grid is not None:
            if tok.type in ("thead_open", "thead_close"):
                in_head = tok.type == "thead_open"
            elif tok.type == "tr_open":
                grid.append([])
                head_rows += in_head
            elif tok.type == "inline":
                grid[-1].append(_inline_text(tok))
        elif tok.type == "inline":
            text = _inline_text(tok)
            kind = "heading" if i and tokens[i - 1].type == "heading_open" else "prose"
            if text:
                blocks.append(Block(kind, text))
        elif tok.type == "html_block":
            from .html import fragment_blocks

            blocks.extend(fragment_blocks(tok.content))
    return blocks


def read_markdown(data: bytes) -> Extracted:
    meta, body = front_matter(decode_bytes(data))
    heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    if heading and "title" not in meta:
        meta["title"] = heading.group(1).strip()
    meta = {k: v for k, v in meta.items() if k in ("title", "publisher", "date", "url") and v}
    return Extracted(meta=meta, blocks=markdown_blocks(body))
