"""Bitmap -> outline: trace the ink of one glyph image into contours in font units.

contourpy (matplotlib's contouring engine) follows the 50 % grey level of the image with marching
squares, so anti-aliased edges give sub-pixel contours without pixel stair steps; `fit` then
draws them as a designer would (corners, extrema, lines and few cubic curves). Nesting decides
each contour's direction (outer or counter), the em box maps pixels back to font units exactly
as the renderer mapped them forward, and TrueType output is converted to quadratic curves with
cu2qu. The result is a plain list of pen commands (picklable, so worker processes can return it)
with integer coordinates, already in the curve type of the target format.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from contourpy import LineType, contour_generator
from fontTools.pens.basePen import AbstractPen
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.filterPen import FilterPen
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.roundingPen import RoundingPen

from zi2zi.data.glyphfolder import load_image
from zi2zi.export.fit import FitTolerances, fit_loop
from zi2zi.fonts.geometry import EmBox

# Pen commands as recorded by fontTools' RecordingPen: [("moveTo", ((x, y),)), ...].
Outline = list[tuple[str, tuple[Any, ...]]]

INK_THRESHOLD = 128  # grey < 128 is ink, as everywhere else in zi2zi
EXTREMUM_PX = 1.0


@dataclass(frozen=True)
class TraceOptions:
    """Knobs of the tracer, in pixels of the glyph image unless said otherwise.

    The defaults come from 256 px renders of LXGW WenKai and AR PL UKai (see the export section
    of benchmarks/reports/speed.md): fewer points than this costs ink IoU, more buys none."""

    # Grey level of the traced edge: the middle of the anti-aliasing ramp, where `ink_mask`
    # (grey < 128) switches, so the outline encloses exactly the pixels counted as ink.
    level: float = 127.5
    # Ink patches and holes smaller than this many pixels across are dropped (GAN speckle).
    speckle: float = 3.0
    # Largest distance of a traced contour point from its fitted curve, in pixels of a 256 px
    # glyph: a fixed share of the em box, so smaller images get a tighter tolerance in their
    # own pixels (down to `min_tolerance`), as each of their pixels decides more of the shape.
    curve_tolerance: float = 0.5
    # A run of contour within this distance (same scale) of its chord is one straight line.
    line_tolerance: float = 0.35
    # No tolerance goes below this many of the image's own pixels: finer would draw the traced
    # contour's own wobble.
    min_tolerance: float = 0.15
    # Corners: turns sharper than `corner_angle` degrees within `corner_window` pixels.
    corner_window: float = 2.0
    corner_angle: float = 55.0
    # Largest allowed distance (font units) between a cubic and its quadratic approximation.
    max_quadratic_error: float = 1.5

    def tolerances(self, units_per_pixel: float, size: int) -> FitTolerances:
        scale = size / 256.0
        return FitTolerances(
            curve=max(self.curve_tolerance * scale, self.min_tolerance) * units_per_pixel,
            line=max(self.line_tolerance * scale, 0.7 * self.min_tolerance) * units_per_pixel,
            window=self.corner_window * units_per_pixel,
            corner_angle=self.corner_angle,
            extremum=max(1.0, EXTREMUM_PX * units_per_pixel),
        )


def ink_mask(image: np.ndarray) -> np.ndarray:
    """(S, S) uint8 grey -> (S, S) bool, True where the pixel is ink (< 128)."""
    return np.asarray(image) < INK_THRESHOLD


def trace_bitmap(
    image: np.ndarray,
    embox: EmBox,
    advance: float,
    *,
    quadratic: bool,
    options: TraceOptions = TraceOptions(),
) -> Outline:
    """Trace the ink of one (S, S) glyph image into integer font-unit contours.

    `quadratic` picks TrueType curves (clockwise outer contours) over CFF cubics
    (counter-clockwise outer contours). An image without ink gives an empty outline.
    """
    grey = np.asarray(image)  # (S, S) uint8
    if grey.shape != (embox.size, embox.size):
        raise ValueError(f"image is {grey.shape}, the em box expects {embox.size} px square")
    loops = contour_loops(grey, options.level)  # pixel coordinates, x right, y down
    if not loops:
        return []
    units_per_pixel = 1.0 / embox.scale
    to_units = _pixel_to_units(embox, advance)
    loops = [_apply(to_units, loop) for loop in loops if _extent(loop) >= options.speckle]
    tol = options.tolerances(units_per_pixel, embox.size)
    recording = RecordingPen()
    pen: AbstractPen = RoundingPen(_CleanContours(recording))
    if quadratic:
        pen = Cu2QuPen(pen, max_err=options.max_quadratic_error, reverse_direction=False)
    for loop, depth in zip(loops, _depths(loops)):
        # Outer contours (even depth) run counter-clockwise in CFF, clockwise in TrueType.
        want_ccw = (depth % 2 == 0) != quadratic
        if (_signed_area(loop) > 0) != want_ccw:
            loop = loop[::-1]
        start, segments = fit_loop(loop, tol)
        if not segments:
            continue
        pen.moveTo(start)
        for seg in segments:
            if seg[0] == "line":
                pen.lineTo(seg[1])
            else:
                pen.curveTo(seg[1], seg[2], seg[3])
        pen.closePath()
    return recording.value


def contour_loops(grey: np.ndarray, level: float) -> list[np.ndarray]:
    """Closed iso-lines of `grey` at `level`, as (N, 2) arrays of pixel coordinates (x, y), where
    pixel (i, j) covers [i, i + 1] x [j, j + 1]; the first point is not repeated at the end."""
    if not (grey < level).any():
        return []
    # Only the box of everything not white (faint edge pixels place the iso-line too), plus
    # paper all round so every contour closes, is contoured.
    rows, cols = np.nonzero(grey < 255)
    top, left = int(rows.min()), int(cols.min())
    crop = grey[top : int(rows.max()) + 1, left : int(cols.max()) + 1].astype(np.float64)
    crop = np.pad(crop, 1, constant_values=255.0)
    lines = contour_generator(z=crop, line_type=LineType.Separate).lines(level)
    loops = []
    for raw in lines:
        if raw is None or len(raw) < 4:
            continue
        line = np.asarray(raw, dtype=np.float64)  # (N, 2) x, y
        if np.array_equal(line[0], line[-1]):
            line = line[:-1]
        # Array index k sits at the pixel centre k + 0.5; the pad moved everything by one.
        loops.append(line + np.array([left - 1 + 0.5, top - 1 + 0.5]))
    return loops


def draw_outline(outline: Outline, pen: AbstractPen) -> None:
    """Replay a traced outline into any fontTools pen."""
    for operator, operands in outline:
        getattr(pen, operator)(*operands)


def _pixel_to_units(embox: EmBox, advance: float) -> np.ndarray:
    """The affine map of EmBox.to_units as a (3, 2) matrix, read off the em box itself so it
    stays the one source: [x, y, 1] @ M."""
    ox, oy = embox.to_units(0.0, 0.0, advance)
    xx, xy = embox.to_units(1.0, 0.0, advance)
    yx, yy = embox.to_units(0.0, 1.0, advance)
    return np.array([[xx - ox, xy - oy], [yx - ox, yy - oy], [ox, oy]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:2] + matrix[2]


def _extent(loop: np.ndarray) -> float:
    return float(max(np.ptp(loop[:, 0]), np.ptp(loop[:, 1])))


def _signed_area(loop: np.ndarray) -> float:
    x, y = loop[:, 0], loop[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _depths(loops: list[np.ndarray]) -> list[int]:
    """How many other loops enclose each loop (iso-lines never cross, so one vertex decides)."""
    boxes = [(loop[:, 0].min(), loop[:, 1].min(), loop[:, 0].max(), loop[:, 1].max()) for loop in loops]
    depths = []
    for i, loop in enumerate(loops):
        x, y = loop[0]
        depth = 0
        for j, other in enumerate(loops):
            b = boxes[j]
            if j != i and b[0] <= x <= b[2] and b[1] <= y <= b[3] and _inside(other, x, y):
                depth += 1
        depths.append(depth)
    return depths


def _inside(polygon: np.ndarray, x: float, y: float) -> bool:
    """Even-odd ray casting."""
    px, py = polygon[:, 0], polygon[:, 1]
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    crosses = (py > y) != (qy > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = px + (y - py) * (qx - px) / (qy - py)
    return bool(np.count_nonzero(crosses & (x < xs)) % 2)


class _CleanContours(FilterPen):
    """Buffers each contour after rounding: drops zero-length segments (duplicate points),
    straight spikes, and contours that rounding collapsed to a line or a point."""

    def __init__(self, outPen: AbstractPen):
        super().__init__(outPen)
        self._contour: list[tuple[str, tuple[Any, ...]]] = []
        self._current: Any = None

    def moveTo(self, pt):
        self._contour = [("moveTo", (pt,))]
        self._current = pt

    def lineTo(self, pt):
        if pt == self._current:
            return
        contour = self._contour
        if len(contour) >= 2 and contour[-1][0] == "lineTo" and contour[-2][1][-1] == pt:
            # A -> B -> A: a spike of no width (where two corners of a thin gap met after
            # rounding); drop it rather than draw a segment over itself.
            contour.pop()
            self._current = pt
            return
        contour.append(("lineTo", (pt,)))
        self._current = pt

    def curveTo(self, *points):
        self._segment("curveTo", points)

    def qCurveTo(self, *points):
        self._segment("qCurveTo", points)

    def _segment(self, operator: str, points) -> None:
        if all(p == self._current for p in points):
            return
        if operator == "qCurveTo":
            # Rounding can land an off-curve point on its neighbour: a repeated point in glyf.
            kept = [self._current]
            for p in points:
                if p != kept[-1]:
                    kept.append(p)
            points = tuple(kept[1:])
            if len(points) == 1:
                self.lineTo(points[0])
                return
        self._contour.append((operator, points))
        self._current = points[-1]

    def closePath(self):
        self._flush("closePath")

    def endPath(self):
        self._flush("endPath")

    def _flush(self, end: str) -> None:
        contour = self._contour
        # A final line back to the start duplicates the implied closing segment.
        if len(contour) > 2 and contour[-1] == ("lineTo", contour[0][1]) and end == "closePath":
            contour.pop()
        points = {pt for _, operands in contour for pt in operands if pt is not None}
        xs = {x for x, _ in points}
        ys = {y for _, y in points}
        if len(points) >= 3 and len(xs) > 1 and len(ys) > 1:
            for operator, operands in contour:
                getattr(self._outPen, operator)(*operands)
            getattr(self._outPen, end)()
        self._contour = []


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Below this many glyphs, starting worker processes costs more than it saves.
MIN_GLYPHS_PER_WORKER = 32


def trace_files(
    files: dict[int, Path],
    embox: EmBox,
    advance: float,
    *,
    quadratic: bool,
    options: TraceOptions = TraceOptions(),
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[int, Outline], int]:
    """Trace many glyph images, on every usable core when there are enough of them.

    Returns the outlines by code point and the number of processes used. Workers read the images
    themselves, so only paths go out and small lists of pen commands come back.
    ``progress(done, total)`` is called as outlines come back.
    """
    items = [(cp, path, embox, advance, quadratic, options) for cp, path in files.items()]
    wanted = usable_cpus() if workers is None else max(1, workers)
    workers = max(1, min(wanted, len(items) // MIN_GLYPHS_PER_WORKER))
    if workers == 1:
        return _collect(map(_trace_one, items), len(items), progress), 1
    # Chunks amortise the inter-process round trips; several per worker keep the load balanced.
    chunksize = max(1, min(64, len(items) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return _collect(pool.map(_trace_one, items, chunksize=chunksize), len(items), progress), workers


def _collect(results: Iterable[tuple[int, Outline]], total: int,
             progress: Callable[[int, int], None] | None) -> dict[int, Outline]:
    outlines: dict[int, Outline] = {}
    for codepoint, outline in results:
        outlines[codepoint] = outline
        if progress is not None:
            progress(len(outlines), total)
    return outlines


def _trace_one(item: tuple[int, Path, EmBox, float, bool, TraceOptions]) -> tuple[int, Outline]:
    codepoint, path, embox, advance, quadratic, options = item
    return codepoint, trace_bitmap(load_image(path), embox, advance, quadratic=quadratic, options=options)
