"""Tables as row blocks: what every reader does once it has a table's grid of cell texts.

A grid is a list of rows of cell strings, spans already expanded (a cell spanning two columns
appears in both). From it come: the caption (a first row of one cell), the header rows, the
row-header column, notes (a row of one cell across the table) and, for each other row, a
``row`` block of ``(column header, value)`` cells. A unit in a column header ("Area (km²)")
moves to its numbers ("7.8 km²"), so that a row reads as the figure it states.
"""

from __future__ import annotations

import re

from . import Block

_NUMBER = re.compile(r"^[~≈<>]?\s*[-+]?\d[\d,]*(?:\.\d+)?\s*$")
_HAS_DIGIT = re.compile(r"\d")
# "Area (km²)", "Output (billion yuan)", "Share [%]": a unit in brackets at the end of a header.
_UNIT = re.compile(r"^(?P<name>.*\S)\s*[(\[](?P<unit>[^()\[\]]{1,20})[)\]]$")
_NOT_UNITS = {"year", "years", "date", "no", "no.", "name", "total", "estimated", "est.", "approx."}
_SPACES = re.compile(r"\s+")
_FILLER = re.compile(r"^\s*[:：\-–—|]?\s*$")


def tidy(text: str) -> str:
    """A cell's text on one line, without surrounding white space."""
    return _SPACES.sub(" ", text).strip()


def is_number(text: str) -> bool:
    return bool(_NUMBER.match(text))


def with_unit(header: str, value: str) -> tuple[str, str]:
    """``("Area (km²)", "7.8")`` -> ``("Area", "7.8 km²")``; other pairs unchanged."""
    m = _UNIT.match(header)
    if not m or not is_number(value) or m.group("unit").strip().lower() in _NOT_UNITS:
        return header, value
    unit = m.group("unit").strip()
    return m.group("name"), value.strip() + ("" if unit in ("%", "‰") else " ") + unit


def _square(grid: list[list[str]]) -> list[list[str]]:
    """Rows padded to one width, with empty rows and columns removed."""
    # A cell holding only a colon or dash ("Land area | : | 29.4 km2") separates, it says nothing.
    rows = [["" if _FILLER.match(c) else tidy(c) for c in row] for row in grid]
    rows = [row for row in rows if any(row)]
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = [j for j in range(width) if any(r[j] for r in rows)]
    return [[r[j] for j in keep] for r in rows]


def _single(row: list[str]) -> str | None:
    """The text of a row that holds one thing across the table (one cell, or one cell spanning all)."""
    filled = list(dict.fromkeys(c for c in row if c))
    return filled[0] if len(filled) == 1 and (len(row) > 1 or not row[0]) else None


def _numeric_share(cells: list[str]) -> float:
    filled = [c for c in cells if c]
    return sum(bool(_HAS_DIGIT.search(c)) for c in filled) / max(1, len(filled))


def _header_count(rows: list[list[str]], declared: int | None) -> int:
    """How many of the first rows are column headers: as the source declares (``<th>``, a Markdown
    header line, bold type), else one when the first row holds no numbers and the rows under it do.
    Two columns without a declared header are read as keys and values."""
    if declared is not None:
        return declared
    if len(rows) < 2 or len(rows[0]) < 3:
        return 0
    numbers = [is_number(c) for r in rows[1:] for c in r[1:] if c]
    return int(not any(is_number(c) for c in rows[0]) and any(numbers))


def column_headers(head: list[list[str]], width: int) -> list[str]:
    """One header per column from the header rows: a spanned group header and its own ("Output 2023"),
    a unit of either last ("Output 2023 (billion yuan)")."""
    headers = []
    for j in range(width):
        parts: list[str] = []
        unit = ""
        for row in head:
            cell = row[j]
            m = _UNIT.match(cell)
            if m and not unit and len(head) > 1:
                cell, unit = m.group("name"), cell[len(m.group("name")) :].strip()
            if cell and cell not in parts:
                parts.append(cell)
        headers.append(" ".join(parts + ([unit] if unit else [])))
    return headers


def table_blocks(
    grid: list[list[str]], *, header_rows: int | None = None, caption: str | None = None, page: int | None = None
) -> list[Block]:
    """The blocks of one table: a caption as a heading, notes as prose, every other row as a ``row`` block.

    ``header_rows`` is how many first rows the source marks as headers (None: inferred).
    A two-column table without headers is a key–value list: each row one ``(key, value)`` cell.
    """
    rows = _square(grid)
    blocks: list[Block] = []
    while rows and (text := _single(rows[0])) is not None and (header_rows is None or header_rows > 0):
        caption = caption or text  # a title row across the table: the caption
        rows = rows[1:]
        header_rows = None if header_rows is None else header_rows - 1
    if not rows:
        return [Block("heading", caption, page=page)] if caption else []
    if caption:
        blocks.append(Block("heading", caption, page=page))
    n_head = min(_header_count(rows, header_rows), len(rows))
    width = len(rows[0])
    headers = column_headers(rows[:n_head], width)
    body = rows[n_head:]
    labelled = width > 1 and _numeric_share([r[0] for r in body]) < 0.5
    for row in body:
        note = _single(row)
        if note is not None and width > 2:
            blocks.append(Block("prose", note, page=page))
            continue
        if width == 2 and not n_head and labelled:  # key–value
            cells = [(row[0], row[1])] if row[1] else []
            label = None
        else:
            start = 1 if labelled else 0
            cells = [(headers[j], row[j]) for j in range(start, width) if row[j]]
            label = row[0] if labelled and row[0] else None
        cells = [with_unit(h, v) for h, v in cells]
        if cells:
            text = " | ".join(c for c in row if c)
            blocks.append(Block("row", text, cells=cells, label=label, caption=caption, page=page))
    return blocks


# -- tables written as aligned plain text -----------------------------------------------------------
_GAP = re.compile(r"\t+| {2,}")


def aligned_cells(line: str) -> list[tuple[int, str]] | None:
    """``(column, text)`` cells of a line of an aligned-text table (cells apart by tabs or 2+ spaces), or
    None when the line is not one: a single cell, a long cell of prose, or a gap after a full stop."""
    s = line.rstrip()
    if len(s) > 240 or not _GAP.search(s.strip()):
        return None
    cells, pos = [], 0
    for m in _GAP.finditer(s):
        cells.append((pos, s[pos : m.start()]))
        pos = m.end()
    cells.append((pos, s[pos:]))
    cells = [(i, c.strip()) for i, c in cells if c.strip()]
    if len(cells) < 2 or any(len(c) > 60 for _, c in cells[:-1]) or len(cells[-1][1]) > 120:
        return None
    if any(c.endswith((".", "!", "?")) and len(c.split()) > 4 for _, c in cells[:-1]):
        return None  # "... end.  Next sentence": two spaces between sentences, not a table
    return cells


def aligned_table(lines: list[str]) -> list[list[str]] | None:
    """The grid of consecutive aligned-text lines when they form a table (two or more rows whose cells
    start at the same columns), else None."""
    parsed = [aligned_cells(line) for line in lines]
    if len(parsed) < 2 or any(p is None for p in parsed):
        return None
    starts = sorted({i for p in parsed for i, _ in p if p})  # type: ignore[union-attr]
    columns: list[int] = []
    for s in starts:  # columns a cell or two apart are one column (a ragged left edge)
        if not columns or s - columns[-1] > 2:
            columns.append(s)
    if len(columns) < 2 or len(columns) > 12:
        return None
    grid = []
    for p in parsed:
        row = [""] * len(columns)
        for i, text in p:  # type: ignore[union-attr]
            j = max(k for k, c in enumerate(columns) if c <= i + 2)
            row[j] = (row[j] + " " + text).strip()
        grid.append(row)
    # Every column is used by most rows: otherwise these are unrelated indented lines.
    if any(sum(bool(r[j]) for r in grid) < 0.5 * len(grid) for j in range(len(columns))):
        return None
    return grid
