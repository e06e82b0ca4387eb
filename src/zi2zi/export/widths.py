"""Advance widths: ideographs and CJK punctuation one em, Latin and digits their own width.

A traced Latin letter or digit comes out centred on a one-em advance (the renderer centres every
glyph on its advance). Set like that, "Hello 2026" reads as letters in boxes. Here such glyphs
get an advance from their ink box plus a side bearing on each side, and the outline moves so that
its left side bearing is that bearing, as a type designer spaces a proportional font. Which
code points are proportional is ``zi2zi.fonts.punctuation.is_proportional``.
"""

from __future__ import annotations

from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.transformPen import TransformPen

from zi2zi.export.trace import Outline, draw_outline
from zi2zi.fonts.punctuation import is_proportional

# Side bearing of a proportional glyph, per side, in em: the middle of what Noto Sans and Source
# Han Sans give their Latin (40-90 units per 1000).
SIDE_BEARING_EM = 0.06


def shifted(outline: Outline, dx: int, dy: int = 0) -> Outline:
    """The outline moved by whole font units (integer points stay integers)."""
    recording = RecordingPen()
    draw_outline(outline, TransformPen(recording, (1, 0, 0, 1, dx, dy)))
    return [(op, tuple((round(x), round(y)) for x, y in args)) for op, args in recording.value]


def ink_x_range(outline: Outline) -> tuple[float, float] | None:
    pen = BoundsPen(None)
    draw_outline(outline, pen)
    return None if pen.bounds is None else (pen.bounds[0], pen.bounds[2])


def proportional(outline: Outline, units_per_em: int, side_bearing_em: float = SIDE_BEARING_EM) -> tuple[Outline, int]:
    """(the outline with its left side bearing set, its advance): ink width plus two bearings."""
    box = ink_x_range(outline)
    bearing = round(side_bearing_em * units_per_em)
    if box is None:  # no ink: a quarter em, the width of a thin space
        return outline, units_per_em // 4
    x_min, x_max = box
    return shifted(outline, bearing - round(x_min)), round(x_max - x_min) + 2 * bearing


def set_widths(outlines: dict[int, Outline], advance: int, units_per_em: int) -> tuple[dict[int, Outline], dict[int, int]]:
    """Proportional glyphs placed and measured; every other glyph keeps ``advance``."""
    placed, widths = dict(outlines), {}
    for cp, outline in outlines.items():
        if is_proportional(cp):
            placed[cp], widths[cp] = proportional(outline, units_per_em)
        else:
            widths[cp] = advance
    return placed, widths
