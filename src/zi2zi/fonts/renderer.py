"""THE glyph renderer: the only place in zi2zi where a character becomes a bitmap.

Training data, inference input, export checks and the classifier all call this, so the model
never sees a glyph drawn differently from the ones it learned on (the forks crop-and-pad for
training and draw at (0, 0) for inference, and their results shift).

Rasterisation is FreeType's, through freetype-py, with hinting and embedded bitmaps off and the
sub-pixel origin passed to FreeType: hinting (which Pillow cannot turn off) snaps edges to the
pixel grid and moves glyphs by up to a pixel, and then a bitmap no longer maps back to font units.
Placement is ours, from :class:`EmBox`.
"""

from __future__ import annotations

import ctypes
import math

import freetype
import numpy as np

from zi2zi.config import RenderSettings
from zi2zi.errors import FontError
from zi2zi.fonts.font import FontFile
from zi2zi.fonts.geometry import EmBox

PAPER = 255
INK = 0
_LOAD_FLAGS = freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP | freetype.FT_LOAD_RENDER
_IDENTITY = freetype.Matrix(0x10000, 0, 0, 0x10000)


class Renderer:
    """Renders characters of one font face to S x S uint8 arrays (0 = ink, 255 = paper).

    ``render`` returns ``None`` for a character the cmap lacks or whose glyph has no ink, so a
    missing glyph can never pass for a blank training image.
    """

    def __init__(self, font: FontFile, settings: RenderSettings, *, embox: EmBox | None = None) -> None:
        """``embox``: place glyphs in this box instead of the font's own (``em`` mode): another
        font's, so that the two fonts' glyphs of a character land at the same scale and height
        (the refiner reads the source glyph where the target's will be)."""
        if settings.size < 8:
            raise FontError(f"render size {settings.size} is too small; use 8 px or more")
        if not 0.0 <= settings.margin < 0.5:
            raise FontError(f"render margin {settings.margin} must be in [0, 0.5)")
        if settings.mode not in ("em", "fit"):
            raise FontError(f"render mode {settings.mode!r} is unknown; use 'em' or 'fit'")
        if embox is not None and embox.size != settings.size:
            raise FontError(f"em box of {embox.size} px given for rendering at {settings.size} px")
        self.font = font
        self.settings = settings
        self.embox = embox.in_units(font.units_per_em) if embox is not None else font.embox(settings.size, settings.margin)
        self._face: freetype.Face | None = None

    def __getstate__(self) -> dict:
        # FreeType handles do not pickle; worker processes reopen the face lazily.
        state = self.__dict__.copy()
        state["_face"] = None
        return state

    @property
    def face(self) -> freetype.Face:
        if self._face is None:
            self._face = freetype.Face(str(self.font.path), index=self.font.face_index)
        return self._face

    def render(self, char: str) -> np.ndarray | None:
        if len(char) != 1:
            raise ValueError(f"render takes one character, got {char!r}")
        if not self.font.covers(char):
            return None
        image: np.ndarray | None
        try:
            if self.settings.mode == "em":
                image = self._draw(char, self.embox.scale, self.embox.to_pixels(0, 0, self.font.advance(char)))
            else:
                image = self._render_fit(char)
        except freetype.FT_Exception as exc:
            # Damaged outlines (e.g. bytes flipped in glyf/loca) only fail when FreeType reads them.
            raise FontError(
                f"{self.font.path}: FreeType cannot draw {char!r} (U+{ord(char):04X}): {exc}; "
                "the font file is damaged: use an intact copy"
            ) from None
        if image is None or image.min() == PAPER:
            return None
        return image

    def _load(self, char: str, scale: float, origin: tuple[float, float]) -> freetype.GlyphSlot:
        """Load the glyph at ``scale`` px/unit, its outline shifted by the origin's fraction."""
        face = self.face
        face.set_char_size(0, max(1, round(scale * self.font.units_per_em * 64)), 72, 72)
        fx, fy = origin[0] - math.floor(origin[0]), origin[1] - math.floor(origin[1])
        # FreeType's y axis points up, the image's down: a fraction down is a negative shift.
        face.set_transform(_IDENTITY, freetype.Vector(round(fx * 64), round(-fy * 64)))
        face.load_char(char, _LOAD_FLAGS)
        return face.glyph

    def _draw(self, char: str, scale: float, origin: tuple[float, float]) -> np.ndarray:
        """Draw with the glyph origin (left end of the baseline) at ``origin`` in pixels."""
        size = self.settings.size
        canvas = np.full((size, size), PAPER, dtype=np.uint8)
        slot = self._load(char, scale, origin)
        bitmap = slot.bitmap
        if bitmap.rows == 0 or bitmap.width == 0:
            return canvas
        # Read FreeType's buffer directly: freetype-py's `.buffer` builds a Python list (~5x slower).
        raw = ctypes.string_at(bitmap._FT_Bitmap.buffer, bitmap.rows * bitmap.pitch)
        coverage = np.frombuffer(raw, dtype=np.uint8).reshape(bitmap.rows, bitmap.pitch)[:, : bitmap.width]
        top = math.floor(origin[1]) - slot.bitmap_top
        left = math.floor(origin[0]) + slot.bitmap_left
        # Clip the glyph bitmap to the canvas (ink outside the box is lost, by design of `em`).
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + bitmap.rows, size), min(left + bitmap.width, size)
        if y0 < y1 and x0 < x1:
            canvas[y0:y1, x0:x1] = PAPER - coverage[y0 - top : y1 - top, x0 - left : x1 - left]
        return canvas

    def _render_fit(self, char: str) -> np.ndarray | None:
        """Scale the ink box to fill the area inside the margin, centred (the forks' auto-fit)."""
        size = self.settings.size
        face = self.face
        face.set_char_size(0, self.font.units_per_em * 64, 72, 72)  # 1 px per font unit
        face.set_transform(_IDENTITY, freetype.Vector(0, 0))
        face.load_char(char, freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP | freetype.FT_LOAD_NO_SCALE)
        box = face.glyph.outline.get_bbox()  # font units, y up
        width, height = box.xMax - box.xMin, box.yMax - box.yMin
        if width <= 0 or height <= 0:
            return None
        scale = size * (1.0 - 2.0 * self.settings.margin) / max(width, height)
        cx, cy = (box.xMin + box.xMax) / 2.0, (box.yMin + box.yMax) / 2.0
        return self._draw(char, scale, (size / 2.0 - cx * scale, size / 2.0 + cy * scale))
