"""The contact sheet: every template character with what was read for it, for a person to check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from zi2zi.config import RenderSettings
from zi2zi.fonts import FontFile, Renderer
from zi2zi.grid import glyph_grid
from zi2zi.handwriting.intake import CellResult

TILE = 72
CAPTION = 14
COLUMNS = 16
# frame colours: read well / ink touches the square's edge / square empty / page not read
OK, TOUCH, EMPTY, MISSING = (60, 150, 60), (230, 120, 0), (170, 170, 170), (200, 40, 40)


def contact_sheet(chars: list[str], results: dict[str, CellResult], out: str | Path,
                  read_chars: set[str] | None = None, reference: FontFile | None = None) -> Path:
    """Tile every character of the template in order. Green: read; orange: ink touches the edge;
    grey: the square was empty; red: its page was not read. With a ``reference`` font each caption
    shows the character that belongs in the square, so a glyph in the wrong place stands out.
    Returns the PNG path."""
    read_chars = read_chars if read_chars is not None else set(results)
    renderer = Renderer(reference, RenderSettings(size=CAPTION)) if reference else None
    rows = max(1, -(-len(chars) // COLUMNS))
    sheet = Image.new("RGB", (COLUMNS * TILE, rows * (TILE + CAPTION)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=10)
    for i, char in enumerate(chars):
        r, c = divmod(i, COLUMNS)
        x, y = c * TILE, r * (TILE + CAPTION)
        cell = results.get(char)
        if cell is not None and cell.image is not None:
            glyph = Image.fromarray(cell.image).resize((TILE - 8, TILE - 8), Image.Resampling.LANCZOS)
            sheet.paste(glyph.convert("RGB"), (x + 4, y + 4))
            colour = TOUCH if cell.touches_border else OK
        elif char in read_chars:
            colour = EMPTY
        else:
            colour = MISSING
            draw.line([(x + 8, y + 8), (x + TILE - 8, y + TILE - 8)], fill=MISSING, width=1)
        draw.rectangle([x + 2, y + 2, x + TILE - 3, y + TILE - 3], outline=colour, width=2)
        label = renderer.render(char) if renderer else None
        if label is not None:
            sheet.paste(Image.fromarray(label).convert("RGB"), (x + 2, y + TILE))
        draw.text((x + 4 + (CAPTION if label is not None else 0), y + TILE + 1), f"U+{ord(char):04X}",
                  fill=(60, 60, 60), font=font)
    out = Path(out)
    sheet.save(out)
    return out


def glyph_strip(images: list[np.ndarray], tile: int = 64, columns: int = 12) -> Image.Image:
    """Glyphs side by side (for the README and the demo report)."""
    return glyph_grid([[image] for image in images], per_line=columns, cell=tile)
