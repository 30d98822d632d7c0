"""HTML (.html, .htm): trafilatura finds the main content (XML output: headings, paragraphs, lists,
tables, in order); lxml expands table spans first, so a cell spanning rows or columns reaches every
row and column it covers. Definition lists become key–value rows. When trafilatura finds nothing,
every block element of the page is read instead.
"""

from __future__ import annotations

from .. import nesting
from ..errors import LoadError
from . import Block, Extracted
from .encoding import decode_bytes
from .tables import aligned_table, column_headers, table_blocks, tidy

_MAX_SPAN = 200  # a rowspan="100000" must not make a huge grid
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "dl", "pre")


def _span(cell, name: str) -> int:  # type: ignore[no-untyped-def]
    try:
        return max(1, min(_MAX_SPAN, int(cell.get(name, "1"))))
    except ValueError:
        return 1


def _own_rows(table):  # type: ignore[no-untyped-def]
    """The table's rows, not those of tables nested in its cells."""
    return [tr for tr in table.iter("tr") if next(tr.iterancestors("table"), None) is table]


def table_grid(table) -> tuple[list[list[str]], int, str | None]:  # type: ignore[no-untyped-def]
    """``(grid, header rows, caption)`` of an lxml ``<table>``, row and column spans expanded."""
    filled: dict[tuple[int, int], str] = {}
    header_rows, counting = 0, True
    rows = _own_rows(table)
    for r, tr in enumerate(rows):
        c = 0
        cells = [el for el in tr if el.tag in ("td", "th")]
        for cell in cells:
            while (r, c) in filled:
                c += 1
            text = tidy(cell.text_content())
            for dr in range(min(_span(cell, "rowspan"), len(rows) - r)):
                for dc in range(_span(cell, "colspan")):
                    filled[(r + dr, c + dc)] = text
            c += _span(cell, "colspan")
        in_head = tr.getparent() is not None and tr.getparent().tag == "thead"
        if counting and cells and (in_head or all(el.tag == "th" for el in cells)):
            header_rows += 1
        else:
            counting = False
    width = max((c for _, c in filled), default=-1) + 1
    grid = [[filled.get((r, c), "") for c in range(width)] for r in range(len(rows))]
    caption = table.find("caption")
    return grid, header_rows, tidy(caption.text_content()) if caption is not None else None


def _normalize_tables(root) -> bool:  # type: ignore[no-untyped-def]
    """Rewrite each data table, in place, as trafilatura reads tables best: its caption as a heading before
    it, one header row (several merged: "Output" over "2023" gives "Output 2023"), spans expanded so a
    cell reaches every row and column it covers. Layout tables (holding paragraphs or tables) are left
    alone. True when a table changed."""
    import lxml.html
    from lxml import etree

    changed = False
    for table in list(root.iter("table")):
        if table.getparent() is None or table.find(".//table") is not None or table.find(".//p") is not None:
            continue
        grid, header_rows, caption = table_grid(table)
        if not grid or not grid[0]:
            continue
        rows = ([column_headers(grid[:header_rows], len(grid[0]))] if header_rows else []) + grid[header_rows:]
        new = lxml.html.Element("table")
        for r, row in enumerate(rows):
            tr = etree.SubElement(new, "tr")
            for text in row:
                etree.SubElement(tr, "th" if r == 0 and header_rows else "td").text = text
        new.tail = table.tail
        parent = table.getparent()
        if caption:
            heading = lxml.html.Element("h4")
            heading.text = caption
            parent.insert(parent.index(table), heading)
        parent.replace(table, new)
        changed = True
    return changed


def _table_element(grid: list[list[str]]):  # type: ignore[no-untyped-def]
    import lxml.html
    from lxml import etree

    table = lxml.html.Element("table")
    for row in grid:
        tr = etree.SubElement(table, "tr")
        for text in row:
            etree.SubElement(tr, "td").text = text
    return table


def _leaf_text(el) -> str | None:  # type: ignore[no-untyped-def]
    """Text of an element that holds no blocks and no links, or None."""
    if el.find(".//a") is not None or any(c.tag in _BLOCKS or c.tag == "div" for c in el.iter() if c is not el):
        return None
    return tidy(el.text_content())


def _key_value_rows(root) -> bool:  # type: ignore[no-untyped-def]
    """Rewrite runs of two-part elements (``<div><span>Land area</span><span>29.4 km2</span></div>``)
    as tables, and ``<pre>`` blocks of aligned columns too, so that trafilatura keeps them as rows."""
    changed = False
    for pre in list(root.iter("pre")):
        grid = aligned_table(pre.text_content().split("\n"))
        if grid is not None and pre.getparent() is not None:
            table = _table_element(grid)
            table.tail = pre.tail
            pre.getparent().replace(pre, table)
            changed = True
    for parent in list(root.iter()):
        run: list = []
        for child in [*list(parent), None]:
            parts = list(child) if child is not None and not (child.text or "").strip() else []
            texts = [_leaf_text(p) for p in parts] if len(parts) == 2 else []
            if len(texts) == 2 and all(texts) and len(texts[0] or "") <= 60 and not _has_tail_text(parts):
                run.append((child, texts))
                continue
            if len(run) >= 2:
                table = _table_element([t for _, t in run])
                parent.insert(parent.index(run[0][0]), table)
                for el, _ in run:
                    parent.remove(el)
                changed = True
            run = []
    return changed


def _has_tail_text(parts: list) -> bool:  # type: ignore[type-arg]
    return any((p.tail or "").strip() for p in parts)


def _text(el) -> str:  # type: ignore[no-untyped-def]
    """Text of a trafilatura XML element; ``<lb/>`` line breaks kept."""
    parts = [el.text or ""]
    for child in el:
        parts.append("\n" if child.tag == "lb" else _text(child))
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _xml_table(table) -> list[Block]:  # type: ignore[no-untyped-def]
    grid, header_rows, counting = [], 0, True
    for row in table.iter("row"):
        cells = [c for c in row if c.tag == "cell"]
        grid.append([tidy(_text(c)) for c in cells])
        is_head = bool(cells) and all(c.get("role") == "head" or not _text(c) for c in cells)
        if counting and is_head:
            header_rows += 1
        else:
            counting = False
    return table_blocks(grid, header_rows=header_rows)


def _definition_rows(items: list[tuple[str, str]]) -> list[Block]:
    """``<dt>``/``<dd>`` pairs as key–value rows."""
    grid, key = [], None
    for kind, text in items:
        if kind == "dt":
            key = text
        elif key is not None:
            grid.append([key, text])
            key = None
    return table_blocks(grid, header_rows=0) if grid else []


def _xml_blocks(xml: str) -> list[Block]:
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(huge_tree=True, recover=True))
    main = root.find("main")
    blocks: list[Block] = []
    for el in main if main is not None else []:
        if el.tag == "head":
            blocks.append(Block("heading", _text(el)))
        elif el.tag == "table":
            blocks.extend(_xml_table(el))
        elif el.tag == "list" and el.get("rend") == "dl":
            items = [(str(i.get("rend", ""))[:2], tidy(_text(i))) for i in el.iter("item")]
            blocks.extend(_definition_rows(items))
        elif el.tag == "list":
            blocks.extend(Block("prose", _text(i)) for i in el.iter("item") if i.find("list") is None)
        elif el.tag in ("p", "quote", "code"):
            blocks.append(Block("prose", _text(el)))
    return [b for b in blocks if b.text or b.cells]


def _flat_blocks(html: str) -> list[Block]:
    """Markup nested past lxml's depth limit, read flat (one prose block per block element)."""
    return [Block("prose", line) for line in nesting.flat_html_text(html).splitlines()]


def fragment_blocks(html: str) -> list[Block]:
    """Every block element of an HTML document or fragment, in order (no boilerplate removal); markup
    nested past lxml's depth limit is read flat, keeping its prose."""
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception as exc:  # lxml raises several types on hopeless markup
        raise LoadError(f"HTML has no readable text ({exc})") from exc
    if nesting.tree_depth(root) >= nesting.LXML_DEPTH:
        return _flat_blocks(html)
    blocks: list[Block] = []
    skip: set = set()
    for el in root.iter(*_BLOCKS):
        if el in skip or any(a in skip for a in el.iterancestors()):
            continue
        if el.tag == "table":
            grid, header_rows, caption = table_grid(el)
            blocks.extend(table_blocks(grid, header_rows=header_rows, caption=caption))
            skip.add(el)
        elif el.tag == "dl":
            items = [(c.tag, tidy(c.text_content())) for c in el if c.tag in ("dt", "dd")]
            blocks.extend(_definition_rows(items))
            skip.add(el)
        else:
            text = " ".join(el.text_content().split())
            if text:
                blocks.append(Block("heading" if el.tag[0] == "h" and el.tag[1:].isdigit() else "prose", text))
            skip.add(el)
    return blocks


def _metadata(html: str) -> dict[str, str]:
    import trafilatura

    meta: dict[str, str] = {}
    info = trafilatura.extract_metadata(html)
    if info is not None:
        for key, attr in (("title", "title"), ("publisher", "sitename"), ("date", "date"), ("url", "url")):
            value = getattr(info, attr, None)
            if value:
                meta[key] = str(value)
    return meta


def _prepared(html: str) -> object:
    """The page for trafilatura: its lxml tree with tables, ``<pre>`` columns and key–value ``<div>`` rows
    normalised when there are any, else the markup as it is."""
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
        changed = _normalize_tables(root)
        changed = _key_value_rows(root) or changed
    except Exception:  # unparseable here: trafilatura and the fallback get the page as it is
        return html
    return root if changed else html


def read_html(data: bytes) -> Extracted:
    import trafilatura

    html = decode_bytes(data)
    if nesting.html_too_deep(html):  # lxml (and so trafilatura) would drop what lies below its depth limit
        return Extracted(meta=_metadata(html), blocks=_flat_blocks(html))
    xml = trafilatura.extract(
        _prepared(html), output_format="xml", include_comments=False, include_tables=True, favor_precision=True
    )
    blocks = _xml_blocks(xml) if xml else []
    if not any(b.kind != "heading" for b in blocks):
        blocks = fragment_blocks(html)
    return Extracted(meta=_metadata(html), blocks=blocks)  # no blocks: the loader says no prose was left
