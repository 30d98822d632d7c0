"""Small real PDFs for tests, written by hand: text placed at positions, ruled lines, several pages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Page:
    """One page of text runs ``(x, y, size, text, bold)`` and ruled lines ``(x0, y0, x1, y1)``, in PDF points
    from the bottom left."""

    texts: list[tuple[float, float, float, str, bool]] = field(default_factory=list)
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)

    def text(self, x: float, y: float, s: str, size: float = 11, bold: bool = False) -> Page:
        self.texts.append((x, y, size, s, bold))
        return self

    def paragraph(self, x: float, y: float, lines: list[str], size: float = 11, leading: float = 15) -> Page:
        for i, line in enumerate(lines):
            self.text(x, y - i * leading, line, size)
        return self

    def rule(self, x0: float, y0: float, x1: float, y1: float) -> Page:
        self.lines.append((x0, y0, x1, y1))
        return self

    def grid(self, x: float, y: float, widths: list[float], rows: list[list[str]], height: float = 18) -> Page:
        """A ruled table with its top left corner at ``(x, y)``; an empty string leaves a cell empty."""
        right = x + sum(widths)
        for r in range(len(rows) + 1):
            self.rule(x, y - r * height, right, y - r * height)
        edge = x
        for w in [0.0, *widths]:
            edge += w
            self.rule(edge, y, edge, y - len(rows) * height)
        for r, row in enumerate(rows):
            left = x
            for w, cell in zip(widths, row, strict=True):
                if cell:
                    self.text(left + 4, y - (r + 1) * height + 5, cell, 10, bold=r == 0)
                left += w
        return self

    def content(self) -> str:
        def esc(s: str) -> str:
            return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

        ops = [f"BT /{'F2' if b else 'F1'} {size} Tf {x} {y} Td ({esc(s)}) Tj ET" for x, y, size, s, b in self.texts]
        ops += [f"{x0} {y0} m {x1} {y1} l S" for x0, y0, x1, y1 in self.lines]
        return "\n".join(ops)


def make_pdf(pages: list[Page], title: str | None = None) -> bytes:
    """A valid PDF of ``pages`` (US Letter, Helvetica and Helvetica-Bold)."""
    n = len(pages)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{5 + 2 * i} 0 R' for i in range(n))}] /Count {n} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>",
    ]
    for i, page in enumerate(pages):
        content = page.content()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {6 + 2 * i} 0 R "
                       "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>")  # fmt: skip
        objects.append(f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream")
    info = None
    if title:
        objects.append(f"<< /Title ({title}) >>")
        info = len(objects)
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"/Size {len(objects) + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "")
    out += f"trailer\n<< {trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out
