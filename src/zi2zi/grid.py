"""Glyph images laid out on a grid: the one layout behind comparison grids, training sample grids,
specimen rows, glyph strips and dataset previews.

A grid holds *units*: a few images shown side by side (``source | generated | target``), touching
or ``inner_gap`` apart, so that the eye reads each unit as one. Units fill a row of ``per_line``
(or, ``down_first``, a column), each followed by ``gap`` pixels; ``margin`` pixels come before the
first row and column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image


def glyph_grid(
    units: Sequence[Sequence[np.ndarray]],
    *,
    per_line: int,
    cell: int | tuple[int, int] | None = None,
    gap: int | tuple[int, int] = 0,
    inner_gap: int = 0,
    margin: int = 0,
    background: int = 255,
    down_first: bool = False,
) -> Image.Image:
    """A greyscale picture of ``units`` (each a sequence of uint8 (H, W) images).

    ``cell``: the size (side, or (width, height)) every image is resized to; None keeps their own
    (one size for all). ``gap``: pixels after each unit, across and down (one number: both).
    """
    if cell is None:
        height, width = units[0][0].shape[:2]
        size = None
    else:
        width, height = (cell, cell) if isinstance(cell, int) else cell
        size = (width, height)
    gap_x, gap_y = (gap, gap) if isinstance(gap, int) else gap
    k = max((len(u) for u in units), default=1)
    pitch_x = k * width + (k - 1) * inner_gap + gap_x
    pitch_y = height + gap_y
    lines = max(1, -(-len(units) // per_line))
    columns, rows = (lines, per_line) if down_first else (per_line, lines)
    sheet = Image.new("L", (margin + columns * pitch_x, margin + rows * pitch_y), background)
    for i, unit in enumerate(units):
        line, place = divmod(i, per_line)
        column, row = (line, place) if down_first else (place, line)
        x, y = margin + column * pitch_x, margin + row * pitch_y
        for j, image in enumerate(unit):
            tile = Image.fromarray(image)
            if size is not None:
                tile = tile.resize(size, Image.Resampling.LANCZOS)
            sheet.paste(tile, (x + j * (width + inner_gap), y))
    return sheet
