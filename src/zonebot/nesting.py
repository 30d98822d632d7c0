"""Reading documents nested deeper than their parsers go, keeping the prose.

Parsers stop at a depth, silently: libxml2 (lxml, trafilatura) drops everything below 255 nested
elements, and markdown-it drops the content of containers nested past its ``maxNesting``. A document
nested that deep is read flat instead: HTML by the standard library's event parser (no tree, so no
depth), Markdown with its block-quote and list markers taken off each line. Structure is lost; the
words are kept.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

#: libxml2 keeps 255 levels of elements; a tree this deep has probably lost some.
LXML_DEPTH = 250
#: Containers markdown-it nests (each blockquote or list level costs it one or two levels); the
#: default of 20 drops a list nested 10 deep. Recursion costs a few Python frames per level.
MARKDOWN_NESTING = 100

_BLOCKS = frozenset(
    "address article aside blockquote br caption dd details div dl dt figcaption figure footer form h1 h2 h3 h4 "
    "h5 h6 header hr li main nav ol p pre section summary table td th tr ul".split()
)
_SKIPPED = frozenset("script style noscript template title svg".split())
# Block-quote markers and list bullets at the start of a line ("> > - 1. text"); a list marker needs
# white space after it, so "-5 degrees" and "2019.5" stay.
_CONTAINERS = re.compile(r"^(?:[ \t]*(?:>|(?P<item>[-+*]|\d{1,9}[.)])(?=[ \t]|$)))+[ \t]*")


def tree_depth(root: Any) -> int:
    """Levels of elements under an lxml ``root``, walked without recursion."""
    from lxml import etree

    depth = deepest = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def own_texts(root: Any, tags: tuple[str, ...]) -> list[str]:
    """The text of each ``tags`` element under an lxml ``root``, in document order, without the text of
    ``tags`` elements inside it: a quote nested ten deep gives its sentence once, not ten times."""
    owned: dict[Any, list[str]] = {el: [] for el in root.iter(*tags)}
    for node in root.xpath("//text()"):
        owner = node.getparent()
        if owner is not None and node.is_tail:
            owner = owner.getparent()
        while owner is not None and owner.tag not in tags:
            owner = owner.getparent()
        if owner is not None and owner in owned:
            owned[owner].append(str(node))
    texts = (" ".join("".join(parts).split()) for parts in owned.values())
    return [text for text in texts if text]


def html_too_deep(html: str) -> bool:
    """True when lxml would lose part of ``html`` to its depth limit."""
    import lxml.html

    try:
        return tree_depth(lxml.html.fromstring(html)) >= LXML_DEPTH
    except Exception:  # lxml raises several types on hopeless markup; the caller's own parse reports it
        return False


class _FlatText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        if tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._words.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._words).split())
        if text:
            self.lines.append(text)
        self._words = []


def flat_html_text(html: str) -> str:
    """The text of ``html``, one line per block element (paragraph, list item, heading, cell…), read by an
    event parser at any depth; scripts, styles and the page title are left out."""
    parser = _FlatText()
    parser.feed(html)
    parser.close()
    parser._flush()
    return "\n".join(parser.lines)


def markdown_too_deep(tokens: list[Any], max_nesting: int) -> bool:
    """True when markdown-it reached its nesting limit on these tokens (and so dropped what was below)."""
    return any(t.level >= max_nesting - 1 for t in tokens)


def flatten_markdown(text: str) -> str:
    """``text`` with block-quote markers, list bullets and indentation taken off every line; a former list
    item starts a paragraph of its own."""
    lines = []
    for line in text.splitlines():
        m = _CONTAINERS.match(line)
        if m is None or not m.group(0):
            lines.append(line.lstrip())
            continue
        rest = line[m.end() :]
        lines.extend(["", rest] if m.group("item") else [rest])
    return "\n".join(lines)
