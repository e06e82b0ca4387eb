"""THE glyph renderer: the only place in zi2zi where a character becomes a bitmap.

Training data, inference input, export checks and the classifier all call this, so the model
never sees a glyph drawn differently from the ones it learned on (the forks crop-and-pad for
training and draw at (0, 0) for inference, and their results shift).

Rasterisation is FreeType's, through Pillow; placement is ours, from :class:`EmBox`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from zi2zi.config import RenderSettings
from zi2zi.errors import FontError
from zi2zi.fonts.font import FontFile

PAPER = 255
INK = 0


class Renderer:
    """Renders characters of one font face to S x S uint8 arrays (0 = ink, 255 = paper).

    ``render`` returns ``None`` for a character the cmap lacks or whose glyph has no ink, so a
    missing glyph can never pass for a blank training image.
    """

    def __init__(self, font: FontFile, settings: RenderSettings) -> None:
        if settings.size < 8:
            raise FontError(f"render size {settings.size} is too small; use 8 px or more")
        if not 0.0 <= settings.margin < 0.5:
            raise FontError(f"render margin {settings.margin} must be in [0, 0.5)")
        if settings.mode not in ("em", "fit"):
            raise FontError(f"render mode {settings.mode!r} is unknown; use 'em' or 'fit'")
        self.font = font
        self.settings = settings
        self.embox = font.embox(settings.size, settings.margin)
        self._pil_fonts: dict[float, ImageFont.FreeTypeFont] = {}

    def __getstate__(self) -> dict:
        # FreeType handles do not pickle; worker processes reopen the face lazily.
        state = self.__dict__.copy()
        state["_pil_fonts"] = {}
        return state

    def _pil_font(self, ppem: float) -> ImageFont.FreeTypeFont:
        key = round(ppem, 4)
        if key not in self._pil_fonts:
            self._pil_fonts[key] = ImageFont.truetype(
                str(self.font.path), size=key, index=self.font.face_index,
                layout_engine=ImageFont.Layout.BASIC,
            )
        return self._pil_fonts[key]

    def render(self, char: str) -> np.ndarray | None:
        if len(char) != 1:
            raise ValueError(f"render takes one character, got {char!r}")
        if not self.font.covers(char):
            return None
        if self.settings.mode == "em":
            image = self._draw(char, self.embox.scale, self.embox.to_pixels(0, 0, self.font.advance(char)))
        else:
            image = self._render_fit(char)
        if image is None or image.min() == PAPER:
            return None
        return image

    def _draw(
        self, char: str, scale: float, origin: tuple[float, float], canvas_size: int | None = None
    ) -> np.ndarray:
        """Draw with the glyph origin (left end of the baseline) at ``origin`` in pixels."""
        size = canvas_size or self.settings.size
        canvas = Image.new("L", (size, size), PAPER)
        ImageDraw.Draw(canvas).text(
            origin, char, font=self._pil_font(scale * self.font.units_per_em), fill=INK, anchor="ls"
        )
        return np.asarray(canvas)

    def _render_fit(self, char: str) -> np.ndarray | None:
        """Scale the ink box to fill the area inside the margin, centred (the forks' auto-fit)."""
        size = self.settings.size
        em_scale = self.embox.scale
        # Find the ink box on a canvas twice as large, so ink outside the em box is seen too.
        ox, oy = self.embox.to_pixels(0, 0, self.font.advance(char))
        probe = self._draw(char, em_scale, (ox + size / 2, oy + size / 2), canvas_size=2 * size)
        ink_rows = np.flatnonzero((probe < PAPER).any(axis=1))
        ink_cols = np.flatnonzero((probe < PAPER).any(axis=0))
        if ink_rows.size == 0:
            return None
        # Ink box relative to the glyph origin, in pixels at the em scale.
        left, right = ink_cols[0] - (ox + size / 2), ink_cols[-1] + 1 - (ox + size / 2)
        top, bottom = ink_rows[0] - (oy + size / 2), ink_rows[-1] + 1 - (oy + size / 2)
        k = size * (1.0 - 2.0 * self.settings.margin) / max(right - left, bottom - top)
        # The ink box centre, relative to the origin, scales with the font size.
        cx, cy = (left + right) / 2.0 * k, (top + bottom) / 2.0 * k
        return self._draw(char, em_scale * k, (size / 2.0 - cx, size / 2.0 - cy))

    def render_many(self, chars: str | list[str]) -> dict[str, np.ndarray | None]:
        return {c: self.render(c) for c in chars}
