"""Text set in font files at display size, one labelled line per font: how a reader sees a font.

Set through Pillow's FreeType (as an application would draw the installed font), not through
zi2zi's renderer: the picture shows what the font file itself gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from zi2zi.generation.sheet import labelled_rows


def set_line(font_path: str | Path, text: str, *, px: int = 150, face: int = 0) -> Image.Image:
    """One line of ``text`` set at ``px`` pixels per em, black on white."""
    font = ImageFont.truetype(str(font_path), px, index=face)
    # Laid out on the baseline ("ls" anchor) so that every font's line shares it, with room for the
    # ascender and descender of any of them: fonts are compared where a text would put them.
    left, top, right, bottom = (round(v) for v in font.getbbox(text, anchor="ls"))
    pad = px // 10
    above, below = max(-top, px), max(bottom, px // 4)
    image = Image.new("L", (max(1, right - min(left, 0)) + 2 * pad, above + below + 2 * pad), 255)
    ImageDraw.Draw(image).text((pad - min(left, 0), pad + above), text, font=font, fill=0, anchor="ls")
    return image


def font_lines(fonts: Sequence[tuple[str, str | Path, int]], text: str, *, px: int = 150) -> Image.Image:
    """``(label, font file, face)`` per line, each setting ``text`` at ``px``."""
    return labelled_rows([(label, set_line(path, text, px=px, face=face)) for label, path, face in fonts])


__all__ = ["font_lines", "set_line"]
