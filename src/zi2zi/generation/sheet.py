"""Laying glyph images out in labelled rows: the picture format of specimens and strips."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from zi2zi.grid import glyph_grid


def glyph_row(images: list[np.ndarray], cell: int, gap: int = 2) -> Image.Image:
    """Glyphs side by side, each resized to ``cell`` px."""
    return glyph_grid([[image] for image in images], per_line=max(1, len(images)), cell=cell, gap=(gap, 0))


def labelled_rows(rows: list[tuple[str, Image.Image]], label_height: int = 14, gap: int = 8) -> Image.Image:
    """Stack rows, each under an ASCII label (Pillow's built-in font has no CJK)."""
    width = max(r.width for _, r in rows) + 8
    height = sum(label_height + r.height + gap for _, r in rows) + gap
    sheet = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(sheet)
    y = gap
    for label, row in rows:
        draw.text((4, y), label.encode("ascii", "replace").decode(), fill=90)
        sheet.paste(row, (4, y + label_height))
        y += label_height + row.height + gap
    return sheet
