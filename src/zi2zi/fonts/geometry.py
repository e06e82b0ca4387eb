"""The em box: the one mapping between font units and bitmap pixels.

Rendering (font units -> pixels) and export (pixels -> font units) both use this class, so an
exported glyph sits exactly where the rendered one did.

Vertically the box spans the font's ascender..descender (at least one em, centred on that span),
horizontally each glyph is centred on its own advance. One scale serves every glyph of a font, so
relative size and position survive and descenders are never cut.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Font units are 16-bit in the tables that hold metrics (hhea, OS/2, hmtx).
MAX_FONT_UNITS = 32767


@dataclass(frozen=True)
class EmBox:
    units_per_em: int
    ascender: int  # font units above the baseline (positive)
    descender: int  # font units below the baseline (negative)
    size: int  # bitmap side in pixels
    margin: float = 0.0  # blank border, fraction of `size`

    @property
    def height_units(self) -> float:
        return float(max(self.units_per_em, self.ascender - self.descender))

    @property
    def scale(self) -> float:
        """Pixels per font unit."""
        return self.size * (1.0 - 2.0 * self.margin) / self.height_units

    @property
    def centre_y_units(self) -> float:
        return (self.ascender + self.descender) / 2.0

    def to_pixels(self, x: float, y: float, advance: float) -> tuple[float, float]:
        """Font units (y up, origin at the glyph's origin) -> pixel coordinates (y down)."""
        return (
            self.size / 2.0 + (x - advance / 2.0) * self.scale,
            self.size / 2.0 - (y - self.centre_y_units) * self.scale,
        )

    def to_units(self, px: float, py: float, advance: float) -> tuple[float, float]:
        """Inverse of :meth:`to_pixels`."""
        return (
            (px - self.size / 2.0) / self.scale + advance / 2.0,
            self.centre_y_units - (py - self.size / 2.0) / self.scale,
        )

    def in_units(self, units_per_em: int) -> EmBox:
        """The same box measured in a font of ``units_per_em`` (another font's glyphs placed in it
        come out at the same size per em)."""
        if units_per_em == self.units_per_em:
            return self
        k = units_per_em / self.units_per_em
        return EmBox(units_per_em=units_per_em, ascender=round(self.ascender * k), descender=round(self.descender * k),
                     size=self.size, margin=self.margin)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmBox:
        """The box a manifest records, range-checked (a manifest may be crafted): ValueError or
        TypeError says which value cannot be used, KeyError which is missing."""
        if not isinstance(data, dict):
            raise TypeError(f"em box {str(data)[:40]!r} is not a mapping")
        upm, asc, desc, size, margin = (data[k] for k in ("units_per_em", "ascender", "descender", "size", "margin"))
        for name, value, low, high in (("units_per_em", upm, 16, 16384), ("ascender", asc, -MAX_FONT_UNITS, MAX_FONT_UNITS),
                                       ("descender", desc, -MAX_FONT_UNITS, MAX_FONT_UNITS), ("size", size, 1, 1 << 16)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"em box {name} {value!r} is not a whole number from {low} to {high}")
        if asc <= desc:
            raise ValueError(f"em box ascender {asc} is not above its descender {desc}")
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0.0 <= margin < 0.5:
            raise ValueError(f"em box margin {margin!r} is not a fraction in [0, 0.5)")
        return cls(units_per_em=upm, ascender=asc, descender=desc, size=size, margin=float(margin))

    @classmethod
    def cjk_default(cls, size: int, margin: float = 0.0) -> EmBox:
        """The usual ideographic box (1000 upm, 880 / -120), for glyphs of unknown origin."""
        return cls(units_per_em=1000, ascender=880, descender=-120, size=size, margin=margin)
