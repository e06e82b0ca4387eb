"""Vertical metrics by the CJK convention, and what vertical text needs (BASE, vhea / vmtx, VORG).

The convention is the one of Adobe's Source Han / Google's Noto CJK fonts (checked by fontbakery's
CJK profile): the ideographic em box (one em tall, e.g. 880 / -120 per 1000 units) is the typo
ascender / descender with no typo line gap and USE_TYPO_METRICS off; hhea and win metrics are
equal, give a default line height (1.3 em unless set) and always cover every glyph, so nothing is
clipped; a BASE table names the ideographic baselines; vertical text advances one em per ideograph.
"""

from __future__ import annotations

from dataclasses import dataclass

from fontTools.feaLib.builder import addOpenTypeFeaturesFromString
from fontTools.ttLib import TTFont

from zi2zi.errors import ExportError
from zi2zi.fonts.geometry import EmBox


@dataclass(frozen=True)
class MetricsOptions:
    """How a new font's vertical metrics are set (see the module docstring for the defaults)."""

    # hhea ascent + descent (= win ascent + descent) in em, spread evenly above and below the em
    # box; widened further where a glyph reaches beyond. fontbakery wants 1.1-1.5.
    line_spacing: float = 1.3
    # OS/2 fsSelection bit 7: apps that honour it set lines by the typo metrics (1 em, tight).
    use_typo_metrics: bool = False
    # The ideographic em box (top, bottom) in font units; None: one em centred on the em box the
    # glyphs were rendered in (880 / -120 for the usual 1000-unit box).
    ideographic_box: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not 1.0 <= self.line_spacing <= 3.0:
            raise ExportError(f"line spacing {self.line_spacing} em is out of range; use 1.0 to 3.0 (default 1.3)")


@dataclass(frozen=True)
class VerticalMetrics:
    """The numbers every metrics table is filled from, in font units."""

    units_per_em: int
    top: int  # ideographic em box: typo ascender, vertical origin, BASE 'idtp'
    bottom: int  # typo descender, BASE 'ideo'
    ascent: int  # hhea ascender = OS/2 usWinAscent
    descent: int  # hhea descender = -usWinDescent (negative)
    use_typo_metrics: bool


def vertical_metrics(embox: EmBox, y_extent: tuple[int, int], options: MetricsOptions) -> VerticalMetrics:
    upm = embox.units_per_em
    if options.ideographic_box is not None:
        top, bottom = options.ideographic_box
        if top - bottom <= 0:
            raise ExportError(f"ideographic box top {top} is not above bottom {bottom}; give top > bottom")
    else:
        bottom = round(embox.centre_y_units - upm / 2.0)
        top = bottom + upm
    extra = max(0.0, options.line_spacing * upm - (top - bottom))
    y_min, y_max = y_extent
    ascent = max(round(top + extra / 2.0), y_max)
    descent = min(round(bottom - extra / 2.0), y_min)
    return VerticalMetrics(upm, top, bottom, ascent, descent, options.use_typo_metrics)


def add_base_table(font: TTFont, metrics: VerticalMetrics, advance: int) -> None:
    """BASE: the ideographic em box bottom / top ('ideo' / 'idtp') and the Roman baseline for
    horizontal text, and their places across the column for vertical text, so mixed scripts line
    up. Hanzi, kana and hangul hang on 'ideo'; Latin sits on 'romn'."""
    m = metrics
    # Across a vertical column (x): the em box runs 0..advance; the Roman baseline keeps the
    # distance from the em box's bottom it has in horizontal text.
    v_ideo, v_idtp, v_romn = 0, advance, -m.bottom
    horizontal = ", ".join(
        f"{script} {default} {m.bottom} {m.top} 0"
        for script, default in (("DFLT", "ideo"), ("hani", "ideo"), ("kana", "ideo"), ("hang", "ideo"), ("latn", "romn"))
    )
    vertical = ", ".join(
        f"{script} {default} {v_ideo} {v_idtp} {v_romn}"
        for script, default in (("DFLT", "ideo"), ("hani", "ideo"), ("kana", "ideo"), ("hang", "ideo"), ("latn", "romn"))
    )
    fea = (
        "table BASE {\n"
        "  HorizAxis.BaseTagList ideo idtp romn;\n"
        f"  HorizAxis.BaseScriptList {horizontal};\n"
        "  VertAxis.BaseTagList ideo idtp romn;\n"
        f"  VertAxis.BaseScriptList {vertical};\n"
        "} BASE;\n"
    )
    addOpenTypeFeaturesFromString(font, fea, tables=["BASE"])


def vertical_glyph_metrics(
    bounds: dict[str, tuple[int, int, int, int] | None], origin: int, advance_height: int
) -> dict[str, tuple[int, int]]:
    """vmtx entries: every glyph advances `advance_height` down the column, hung from the
    vertical origin `origin` (the em box top): top side bearing = origin - yMax. An empty glyph
    (a space) gets `origin` itself: HarfBuzz and FreeType take tsb + yMax as the origin, and its
    yMax is 0."""
    return {name: (advance_height, origin - box[3] if box else origin) for name, box in bounds.items()}
