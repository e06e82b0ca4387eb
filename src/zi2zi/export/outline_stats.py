"""Outline figures a type designer looks at, for an exported font and the font it came from.

Per glyph: points (every coordinate stored: on- and off-curve), the share of straight segments,
stair steps (two short axis-aligned lines in a row, the mark of traced pixels), whether any
point repeats the one before it, and the bytes its outline takes in the font file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont

# A stair step's lines are at most this share of the em long (about 2.5 px at 256 px).
STEP_EM = 0.01


@dataclass(frozen=True)
class OutlineStats:
    glyphs: int
    median_points: float
    line_share: float  # straight segments / all segments
    stair_steps_per_glyph: float
    duplicate_point_glyphs: float  # share of glyphs with a point equal to the one before it
    bytes_per_glyph: float  # mean outline bytes (glyf entry, or CFF charstring after subroutinising)

    def to_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def outline_stats(font: TTFont, codepoints) -> OutlineStats:
    cmap = font.getBestCmap() or {}
    names = [cmap[cp] for cp in codepoints if cp in cmap]
    step = STEP_EM * font["head"].unitsPerEm
    glyph_set = font.getGlyphSet()
    points, lines, curves, steps, duplicates = [], 0, 0, 0, 0
    for name in names:
        pen = DecomposingRecordingPen(glyph_set)
        glyph_set[name].draw(pen)
        n, lin, cur, st, dup = _count(pen.value, step)
        points.append(n)
        lines, curves, steps, duplicates = lines + lin, curves + cur, steps + st, duplicates + dup
    count = max(1, len(names))
    return OutlineStats(
        glyphs=len(names),
        median_points=float(np.median(points)) if points else 0.0,
        line_share=lines / max(1, lines + curves),
        stair_steps_per_glyph=steps / count,
        duplicate_point_glyphs=duplicates / count,
        bytes_per_glyph=_bytes_per_glyph(font, names),
    )


def _count(commands, step: float) -> tuple[int, int, int, int, int]:
    points = lines = curves = steps = 0
    duplicate = False
    previous_line: tuple[float, float] | None = None  # (dx, dy) of the line just drawn
    current = start = None
    for op, args in commands:
        if op == "moveTo":
            current = start = args[0]
            points += 1
            previous_line = None
            continue
        if op in ("closePath", "endPath"):
            previous_line = None
            continue
        pts = [p for p in args if p is not None]
        points += len(pts)
        if pts and current is not None and pts[0] == current:
            duplicate = True
        if op == "lineTo" and current is not None:
            lines += 1
            dx, dy = args[0][0] - current[0], args[0][1] - current[1]
            short_axis = (dx == 0 or dy == 0) and max(abs(dx), abs(dy)) <= step
            if short_axis and previous_line is not None and (previous_line[0] == 0) != (dx == 0):
                steps += 1
            previous_line = (dx, dy) if short_axis else None
        else:
            # A TrueType run of n off-curve points is n quadratic pieces; a cubic is one.
            curves += max(1, len(args) - 1) if op == "qCurveTo" else 1
            previous_line = None
        current = args[-1] if args[-1] is not None else start
    return points, lines, curves, steps, int(duplicate)


def _bytes_per_glyph(font: TTFont, names: list[str]) -> float:
    if not names:
        return 0.0
    if "glyf" in font:
        glyf = font["glyf"]
        return float(np.mean([len(glyf[name].compile(glyf)) for name in names]))
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    charstrings = top.CharStrings
    sizes = []
    for name in names:
        charstring = charstrings[name]
        charstring.compile()
        sizes.append(len(charstring.bytecode))
    # Subroutines are shared: spread their bytes over every glyph of the font.
    # A CID-keyed font (Noto CJK, Source Han) keeps a Private dict per font dict, not one in the top dict.
    privates = [fd.Private for fd in top.FDArray] if hasattr(top, "FDArray") else [top.Private]
    subrs = list(cff.GlobalSubrs) + [s for private in privates for s in (getattr(private, "Subrs", None) or [])]
    for subr in subrs:
        subr.compile()
    shared = sum(len(subr.bytecode) for subr in subrs) / max(1, len(charstrings))
    return float(np.mean(sizes)) + shared
