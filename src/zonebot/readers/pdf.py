"""PDF: read as a person reads a page, from the words' positions (pdfplumber), not the text layer's order.

Per page: words grouped into lines; a vertical gutter that no line crosses splits the page into
columns, read one after the other (the text layer may run row by row across both); lines
grouped into paragraphs by the white space between them, headings by their larger or bold type;
ruled tables (pdfplumber's table finder) and aligned text of short cells become table rows.
Across pages: a line repeated at the top or bottom of most pages (running header, footer, page
number) is left out, and a paragraph that runs over a page break is joined. A page without text
is reported.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from ..errors import LoadError
from . import Block, Extracted
from .tables import table_blocks, tidy

_TERMINAL = re.compile(r"[.!?:;。！？：；\"”’)]$")
#: Lines at the top or bottom of a page that may be running headers or footers.
_MARGIN_LINES = 3


@dataclass
class _Line:
    words: list[dict]
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    bold: bool

    @property
    def text(self) -> str:
        return " ".join(w["text"] for w in self.words)


@dataclass
class _Page:
    number: int
    lines: list[_Line] = field(default_factory=list)
    tables: list[tuple[float, list[Block]]] = field(default_factory=list)  # (top, rows)


def _make_line(words: list[dict]) -> _Line:
    words = sorted(words, key=lambda w: w["x0"])
    sizes = [w.get("size", 0.0) for w in words]
    return _Line(
        words,
        min(w["top"] for w in words),
        max(w["bottom"] for w in words),
        words[0]["x0"],
        max(w["x1"] for w in words),
        statistics.median(sizes) if sizes else 0.0,
        all("bold" in str(w.get("fontname", "")).lower() for w in words),
    )


def _lines(words: list[dict]) -> list[_Line]:
    """Words grouped into lines by their vertical position, top to bottom."""
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(w["top"] - lines[-1][0]["top"]) <= max(2.0, 0.3 * w.get("size", 10)):
            lines[-1].append(w)
        else:
            lines.append([w])
    return [_make_line(ws) for ws in lines]


def _segments(line: _Line, gap: float) -> list[_Line]:
    """A line cut where its words stand further apart than ``gap`` (a column gutter or a table cell)."""
    parts: list[list[dict]] = [[line.words[0]]]
    for w in line.words[1:]:
        if w["x0"] - parts[-1][-1]["x1"] > gap:
            parts.append([w])
        else:
            parts[-1].append(w)
    return [_make_line(p) for p in parts]


# -- columns and tables of aligned text ------------------------------------------------------------
@dataclass
class _Region:
    lines: list[_Line]
    gutters: list[list[float]]  # surviving gutter intervals [a, b]
    split_lines: int = 0


def _narrow(gutters: list[list[float]], segs: list[_Line], min_width: float) -> list[list[float]]:
    """The gutters no segment of a line crosses (a segment inside one side leaves it standing)."""
    alive = []
    for a, b in gutters:
        for s in segs:
            if s.x1 > a and s.x0 < b:  # overlaps: shrink to the free side, if any
                if s.x0 - a >= min_width and s.x0 > a:
                    b = s.x0
                elif b - s.x1 >= min_width:
                    a = s.x1
                else:
                    a = b
        if b - a >= min_width:
            alive.append([a, b])
    return alive


def _regions(lines: list[_Line], size: float) -> list[_Region]:
    """Runs of lines that share vertical gutters (columns, or the columns of a table), top to bottom."""
    gap, min_width = 1.5 * size, 0.8 * size
    regions: list[_Region] = []
    for line in lines:
        segs = _segments(line, gap)
        own = [[segs[i].x1, segs[i + 1].x0] for i in range(len(segs) - 1)]
        current = regions[-1] if regions else None
        if current is not None and current.gutters:
            alive = _narrow(current.gutters, segs, min_width)
            if alive:
                current.gutters = alive
                current.lines.append(line)
                current.split_lines += len(segs) > 1
                continue
        regions.append(_Region([line], own, int(len(segs) > 1)))
    return regions


def _fills(parts: list[list[_Line]]) -> bool:
    """Every part's lines run to near its right edge, as wrapped prose does (a table's short cells do not)."""
    for part in parts:
        if len(part) < 2:
            return False
        left, right = min(s.x0 for s in part), max(s.x1 for s in part)
        full = sum(s.x1 >= right - 0.3 * (right - left) for s in part)
        if full < 0.6 * len(part):
            return False
    return True


def _cut(region: _Region) -> list[list[_Line]]:
    """The region's lines cut at its gutters: one list of segments per column, top to bottom."""
    edges = [(a + b) / 2 for a, b in region.gutters]
    parts: list[list[_Line]] = [[] for _ in range(len(edges) + 1)]
    for line in region.lines:
        buckets: list[list[dict]] = [[] for _ in parts]
        for w in line.words:
            buckets[sum(w["x0"] > e for e in edges)].append(w)
        for i, ws in enumerate(buckets):
            if ws:
                parts[i].append(_make_line(ws))
    return parts


def _aligned_rows(region: _Region) -> list[list[str]]:
    """A table of aligned text: one row per line, a cell per column; a line that only continues the
    cells above it (its first cell empty) is joined to them."""
    edges = [(a + b) / 2 for a, b in region.gutters]
    grid: list[list[str]] = []
    for line in region.lines:
        row = [""] * (len(edges) + 1)
        for w in line.words:
            i = sum(w["x0"] > e for e in edges)
            row[i] = (row[i] + " " + w["text"]).strip()
        if grid and not row[0]:
            grid[-1] = [(a + " " + b).strip() for a, b in zip(grid[-1], row, strict=True)]
        else:
            grid.append(row)
    return grid


# -- paragraphs -----------------------------------------------------------------------------------
def _paragraphs(lines: list[_Line], body: float, page: int) -> list[Block]:
    """Lines of one column as paragraphs and headings, by the white space between lines and their type."""
    if not lines:
        return []
    spaces = [b.top - a.bottom for a, b in zip(lines, lines[1:], strict=False)]
    usual = statistics.median(spaces) if spaces else 0.0
    groups: list[list[_Line]] = [[lines[0]]]
    for prev, line in zip(lines, lines[1:], strict=False):
        space = line.top - prev.bottom
        styled = abs(line.size - prev.size) > 0.5 or line.bold != prev.bold
        if styled or space > max(1.5 * usual, 0.8 * line.size) or space < -0.5 * line.size:
            groups.append([line])
        else:
            groups[-1].append(line)
    blocks = []
    for group in groups:
        text = "\n".join(line.text for line in group)
        words = len(text.split())
        heading = (group[0].size >= 1.15 * body or all(line.bold for line in group)) and words <= 15
        heading = heading and not _TERMINAL.search(text)
        blocks.append(Block("heading" if heading else "prose", text, page=page))
    return blocks


def _page_blocks(page: _Page, body: float) -> list[Block]:
    """One page's blocks in reading order: regions top to bottom, columns left to right, tables in place."""
    items: list[tuple[float, list[Block]]] = list(page.tables)
    flow: list[_Line] = []  # consecutive lines read as one column

    def flush() -> None:
        if flow:
            items.append((flow[0].top, _paragraphs(list(flow), body, page.number)))
            flow.clear()

    for region in _regions(page.lines, body):
        if region.split_lines < 2 or not region.gutters:
            flow.extend(region.lines)
            continue
        parts = _cut(region)
        flush()
        if _fills(parts):
            for part in parts:
                items.append((region.lines[0].top, _paragraphs(part, body, page.number)))
        else:
            head = 1 if region.lines[0].bold and not all(line.bold for line in region.lines) else None
            items.append((region.lines[0].top, table_blocks(_aligned_rows(region), header_rows=head,
                                                            page=page.number)))  # fmt: skip
    flush()
    items.sort(key=lambda item: item[0])  # stable: columns of one region keep their order
    return _join([blocks for _, blocks in items])


# -- the document ---------------------------------------------------------------------------------
def _key(line: _Line) -> str:
    """A line as compared across pages: digits stand for any number ("page 2 of 3")."""
    return re.sub(r"\d+", "#", line.text.lower())


def _drop_running_lines(pages: list[_Page]) -> None:
    """Remove lines that stand at the top or bottom of most pages (headers, footers, page numbers)."""
    if len(pages) < 2:
        return
    counts: Counter[str] = Counter()
    for page in pages:
        margin = page.lines[:_MARGIN_LINES] + page.lines[-_MARGIN_LINES:]
        counts.update({_key(line) for line in margin})
    need = max(2, len(pages) // 2 + 1)  # more than half of the pages
    running = {k for k, n in counts.items() if n >= need}
    for page in pages:
        n = len(page.lines)
        page.lines = [
            line for i, line in enumerate(page.lines)
            if not (_key(line) in running and (i < _MARGIN_LINES or i >= n - _MARGIN_LINES))
        ]  # fmt: skip


def _table_rows(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """A pdfplumber table as a grid: a merged cell fills the columns (or rows) it covers."""
    texts = table.extract()
    rows = table.rows
    width = max((len(r.cells) for r in rows), default=0)
    left_edge = [
        min((r.cells[c][0] for r in rows if c < len(r.cells) and r.cells[c] is not None), default=float("inf"))
        for c in range(width)
    ]
    grid: list[list[str]] = []
    for r, row in enumerate(rows):
        out: list[str] = []
        reach = float("-inf")  # right edge of the row's last real cell
        for c, cell in enumerate(row.cells):
            if cell is not None:
                text = texts[r][c] if r < len(texts) and c < len(texts[r]) else ""
                reach = cell[2]
            elif reach > left_edge[c] + 1:  # the cell to the left spans this column
                text = out[-1]
            else:  # a cell above spans this row
                text = grid[-1][c] if grid and c < len(grid[-1]) else ""
            out.append(tidy(text or ""))
        grid.append(out)
    return grid


def _read_page(page, number: int) -> _Page:  # type: ignore[no-untyped-def]
    found = _Page(number)
    boxes = []
    for table in page.find_tables():
        grid = _table_rows(table)
        if len(grid) >= 2 and max(len(r) for r in grid) >= 2:
            boxes.append(table.bbox)
            first = [c for c in table.rows[0].cells if c is not None]
            chars = [ch for box in first for ch in page.crop(box).chars if ch["text"].strip()]
            head = 1 if chars and all("bold" in ch["fontname"].lower() for ch in chars) else None
            found.tables.append((table.bbox[1], table_blocks(grid, header_rows=head, page=number)))
    words = page.extract_words(extra_attrs=["size", "fontname"])
    if boxes:
        words = [w for w in words if not any(b[0] <= w["x0"] and w["x1"] <= b[2] and b[1] <= w["top"] and
                                             w["bottom"] <= b[3] for b in boxes)]  # fmt: skip
    found.lines = _lines(words)
    return found


def _join(runs: list[list[Block]]) -> list[Block]:
    """Runs of blocks (columns, pages) as one list; a paragraph left open at a run's end ("... assemble
    circuit boards and") goes on with the next run's first paragraph when that carries on in lower case."""
    out: list[Block] = []
    for blocks in runs:
        if out and blocks and out[-1].kind == "prose" and blocks[0].kind == "prose":
            end, start = out[-1].text.rstrip(), blocks[0].text.lstrip()
            if not _TERMINAL.search(end) and (start[:1].islower() or end.endswith(("-", ","))):
                out[-1] = Block("prose", end + "\n" + start, page=out[-1].page)
                blocks = blocks[1:]
        out.extend(blocks)
    return out


def _open(data: bytes):  # type: ignore[no-untyped-def]
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises assorted errors on broken files; pdfplumber wraps them
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
        if isinstance(cause, PDFPasswordIncorrect):
            raise LoadError("PDF is encrypted (password required)") from exc
        raise LoadError(f"corrupt PDF ({type(cause).__name__}: {cause})") from exc


def read_pdf(data: bytes) -> Extracted:
    if not data.strip():
        raise LoadError("file is empty")
    meta: dict[str, str] = {}
    notes: list[str] = []
    with _open(data) as pdf:
        try:
            info = pdf.metadata or {}
            pages = []
            for n, page in enumerate(pdf.pages, 1):
                pages.append(_read_page(page, n))
                page.close()  # its parsed objects are not needed again: memory stays flat on long files
        except LoadError:
            raise
        except Exception as exc:  # pdfminer raises assorted errors on broken files
            raise LoadError(f"corrupt PDF ({type(exc).__name__}: {exc})") from exc
    for key, name in (("title", "Title"), ("publisher", "Author")):
        value = info.get(name)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.strip():
            meta[key] = value.strip()
    empty = [p.number for p in pages if not p.lines and not p.tables]
    if len(empty) == len(pages):
        raise LoadError("PDF has no extractable text (scanned images?)")
    if empty:
        notes.append(f"page{'s' if len(empty) > 1 else ''} {', '.join(map(str, empty))} of {len(pages)} "
                     "yielded no text (a scanned image?); not indexed")  # fmt: skip
    _drop_running_lines(pages)
    sizes = Counter(round(line.size) for p in pages for line in p.lines for _ in line.words)
    body = float(sizes.most_common(1)[0][0]) if sizes else 10.0
    blocks = _join([_page_blocks(p, body) for p in pages])
    return Extracted(meta=meta, blocks=blocks, notes=notes)
