"""Polygon -> Bezier outline: the curves a type designer would draw through a traced contour.

A traced contour is a dense closed polygon (a point every pixel or so). Drawn outlines have few
points: on-curve points at corners and at extrema, straight strokes as single lines, smooth
curves elsewhere. This module gets there in three steps:

1. corners: vertices where the contour turns sharply over a couple of pixels (a stroke's end, a
   hook) split the loop into pieces, and are moved to where the two sides meet, so they stay sharp;
2. each piece is fitted by least squares with as few cubic segments as keep every traced point
   within a tolerance (the classic chord-length / Newton reparameterisation scheme), and a piece
   that is straight within a smaller tolerance becomes one line;
3. curves that bulge past their end points are split at their x / y extrema (FontForge calls it
   "Add Extrema"), so a glyph's bounding box always runs through on-curve points.

Everything works on numpy arrays in font units; the result is a list of segments per loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from fontTools.misc.bezierTools import splitCubicAtT

Point = tuple[float, float]
# ("line", end) or ("curve", handle1, handle2, end); a loop starts where its last segment ends.
Segment = tuple


@dataclass(frozen=True)
class FitTolerances:
    """Distances in font units, angles in degrees."""

    curve: float  # largest distance of a traced point from its fitted curve
    line: float  # largest distance from the chord for a run to become one straight line
    window: float  # arc length over which a turn is measured when looking for corners
    corner_angle: float = 55.0  # turns sharper than this over `window` are corners
    extremum: float = 1.0  # curves that bulge more than this past their ends get an extremum point


def fit_loop(points: np.ndarray, tol: FitTolerances) -> tuple[Point, list[Segment]]:
    """(N, 2) closed polygon (first point not repeated) -> start point and segments."""
    pts = _dedupe(np.asarray(points, dtype=np.float64))
    n = len(pts)
    if n < 3:
        return (tuple(pts[0]) if n else (0.0, 0.0)), []
    arc = _arc_lengths(pts)  # (N + 1,) arc length at each vertex, arc[N] = perimeter
    corners = _find_corners(pts, arc, tol)
    if corners:
        pts = pts.copy()
        for i in corners:
            pts[i] = _sharpen(pts, arc, i, tol.window)
        splits = corners
        fixed = {}
    else:
        # A smooth loop (a dot, a round counter): start at its leftmost point, where the tangent
        # is vertical, so the first and last segments meet at an extremum.
        i = int(np.argmin(pts[:, 0]))
        splits = [i]
        step = pts[(i + 1) % n] - pts[i - 1]
        fixed = {i: (0.0, 1.0 if step[1] >= 0 else -1.0)}
    segments: list[Segment] = []
    for k, start in enumerate(splits):
        end = splits[(k + 1) % len(splits)]
        piece = _piece(pts, start, end)
        if corners:
            # The traced points rounding a corner off are not part of either side: fit without them.
            near = min(0.5 * tol.window, 0.25 * float(np.hypot(*(piece[-1] - piece[0]))))
            keep = (np.hypot(*(piece - piece[0]).T) >= near) & (np.hypot(*(piece - piece[-1]).T) >= near)
            keep[0] = keep[-1] = True
            piece = piece[keep]
        t_start = fixed.get(start) or _end_tangent(piece, tol.window)
        t_end = fixed.get(end)
        t_end = (-t_end[0], -t_end[1]) if t_end else _end_tangent(piece[::-1], tol.window)
        segments += _fit_piece(piece, np.array(t_start), np.array(t_end), tol, depth=0)
    start_point = tuple(pts[splits[0]])
    start_point, segments = _square_lines(start_point, segments, tol.line)
    return start_point, _add_extrema(start_point, segments, tol.extremum)


def _dedupe(pts: np.ndarray) -> np.ndarray:
    if len(pts) < 2:
        return pts
    step = np.hypot(*(np.roll(pts, -1, axis=0) - pts).T)
    return pts[step > 1e-9]


def _arc_lengths(pts: np.ndarray) -> np.ndarray:
    step = np.hypot(*(np.roll(pts, -1, axis=0) - pts).T)
    return np.concatenate([[0.0], np.cumsum(step)])


def _offsets(arc: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """For each vertex, the index of the vertex about `distance` before and after it (wrapping)."""
    n = len(arc) - 1
    perimeter = arc[-1]
    s = arc[:-1]
    ext = np.concatenate([s - perimeter, s, s + perimeter])  # (3N,) increasing
    after = np.searchsorted(ext, s + perimeter + distance) % n
    before = (np.searchsorted(ext, s + perimeter - distance, side="right") - 1) % n
    return before, after


def _find_corners(pts: np.ndarray, arc: np.ndarray, tol: FitTolerances) -> list[int]:
    perimeter = arc[-1]
    if perimeter < 6 * tol.window:
        return []  # a speck: smooth
    before, after = _offsets(arc, tol.window)
    a = pts - pts[before]
    b = pts[after] - pts
    turn = np.degrees(np.abs(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], (a * b).sum(axis=1))))
    candidates = np.nonzero(turn > tol.corner_angle)[0]
    chosen: list[int] = []
    s = arc[:-1]
    for i in candidates[np.argsort(-turn[candidates], kind="stable")]:
        # Keep the sharpest vertex of each bend: none already chosen within the window.
        if all(min(abs(s[i] - s[j]), perimeter - abs(s[i] - s[j])) > tol.window for j in chosen):
            chosen.append(int(i))
    return sorted(chosen)


def _sharpen(pts: np.ndarray, arc: np.ndarray, i: int, window: float) -> np.ndarray:
    """Where the straight-ish sides next to corner i meet: rasterising rounds a corner off by up
    to half a pixel, and the drawn corner lies at the sides' intersection."""
    s, perimeter = arc[i], arc[-1]
    offset = (arc[:-1] - s + perimeter / 2.0) % perimeter - perimeter / 2.0  # (N,) signed arc from i
    sides = []
    for sign in (-1.0, 1.0):
        # Points a little past the rounding and short of the next corner on a two-window stroke.
        near = pts[(sign * offset >= 0.4 * window) & (sign * offset <= 2.0 * window)]
        if len(near) < 2:
            return pts[i]
        centre = near.mean(axis=0)
        _, _, vt = np.linalg.svd(near - centre, full_matrices=False)
        sides.append((centre, vt[0]))  # a point on the side and its direction
    (c1, d1), (c2, d2) = sides
    denom = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(denom) < 0.2:  # sides nearly parallel (< ~12 degrees apart): no corner to restore
        return pts[i]
    t = ((c2[0] - c1[0]) * d2[1] - (c2[1] - c1[1]) * d2[0]) / denom
    meet = c1 + t * d1
    # Only a small move: anti-aliasing rounds a sharp corner off by under a pixel (0.6 window);
    # farther means the sides were not straight (a brush-rounded corner), so keep the vertex.
    return meet if np.hypot(*(meet - pts[i])) <= 0.6 * window else pts[i]


def _piece(pts: np.ndarray, start: int, end: int) -> np.ndarray:
    """Vertices start..end inclusive, wrapping; a single split gives the whole loop, closed."""
    if end > start:
        return pts[start : end + 1]
    return np.concatenate([pts[start:], pts[: end + 1]])


def _end_tangent(piece: np.ndarray, window: float) -> tuple[float, float]:
    """Unit direction into the piece from its first point, measured over about `window`."""
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(piece, axis=0).T))])
    reach = min(window, arc[-1] / 3.0)
    j = int(np.searchsorted(arc, reach))
    j = min(max(j, 1), len(piece) - 1)
    d = piece[j] - piece[0]
    length = math.hypot(*d)
    return (d[0] / length, d[1] / length) if length > 0 else (1.0, 0.0)


def _chord_distance(piece: np.ndarray) -> float:
    p0, p1 = piece[0], piece[-1]
    d = p1 - p0
    length = math.hypot(*d)
    rel = piece - p0
    if length == 0.0:
        return float(np.hypot(*rel.T).max())
    along = (rel @ d) / length
    across = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0]) / length
    # Points beyond the ends (a run that doubles back) are not on the segment.
    beyond = np.maximum(np.maximum(-along, along - length), 0.0)
    return float(np.maximum(across, beyond).max())


def _fit_piece(piece: np.ndarray, t1: np.ndarray, t2: np.ndarray, tol: FitTolerances, depth: int) -> list[Segment]:
    end = tuple(piece[-1])
    if len(piece) <= 2 or _chord_distance(piece) <= tol.line:
        return [("line", end)]
    u = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(piece, axis=0).T))])
    if u[-1] <= 0:
        return [("line", end)]
    u /= u[-1]
    bezier = _least_squares(piece, u, t1, t2)
    error, worst = _max_error(piece, bezier, u)
    # A fit this close is refined; a worse one is split at once (refining it rarely pays).
    if error > tol.curve and error < 4 * tol.curve:
        for _ in range(2):  # Newton steps move each point's parameter to its nearest curve point
            u = _reparameterise(piece, bezier, u)
            bezier = _least_squares(piece, u, t1, t2)
            error, worst = _max_error(piece, bezier, u)
            if error <= tol.curve:
                break
    if error <= tol.curve or len(piece) < 5 or depth > 12:
        if error > tol.curve:  # too few points to split: follow them with lines
            return [("line", tuple(p)) for p in piece[1:]]
        return [("curve", tuple(bezier[1]), tuple(bezier[2]), end)]
    k, centre = _split_point(piece, worst, tol.extremum)
    return _fit_piece(piece[: k + 1], t1, centre, tol, depth + 1) + _fit_piece(piece[k:], -centre, t2, tol, depth + 1)


def _split_point(piece: np.ndarray, worst: int, bulge: float) -> tuple[int, np.ndarray]:
    """Where to split a piece one cubic cannot follow, and the tangent there (pointing back).

    A designer puts points at a curve's extremes with horizontal or vertical handles, so the
    piece is split at its extreme x or y when it bulges past its ends there (the one nearest the
    worst-fitted point); otherwise at the worst-fitted point, along the local direction."""
    n = len(piece)
    lo, hi = max(2, n // 10), min(n - 3, n - 1 - n // 10)
    best: tuple[int, int] | None = None
    if hi > lo:
        inner = piece[lo : hi + 1]
        ends = piece[[0, -1]]
        for axis in (0, 1):
            values = inner[:, axis]
            for k, beyond in ((int(np.argmax(values)), values.max() - ends[:, axis].max()),
                              (int(np.argmin(values)), ends[:, axis].min() - values.min())):
                if beyond > bulge and (best is None or abs(lo + k - worst) < abs(best[0] - worst)):
                    best = (lo + k, axis)
    if best is not None:
        k, axis = best
        step = piece[k - 2] - piece[k + 2]
        centre = np.array([0.0, math.copysign(1.0, step[1])]) if axis == 0 else np.array([math.copysign(1.0, step[0]), 0.0])
        return k, centre
    k = min(max(worst, 2), n - 3)
    centre = piece[k - 2] - piece[k + 2]
    norm = math.hypot(*centre)
    return k, (centre / norm if norm > 0 else np.array([1.0, 0.0]))


def _bernstein(u: np.ndarray) -> np.ndarray:
    v = 1.0 - u
    uv3 = 3.0 * u * v
    out = np.empty((len(u), 4))  # (N, 4)
    out[:, 0] = v * v * v
    out[:, 1] = uv3 * v
    out[:, 2] = uv3 * u
    out[:, 3] = u * u * u
    return out


def _least_squares(piece: np.ndarray, u: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
    """The cubic through the piece's ends, leaving along t1 and arriving along -t2, whose handle
    lengths minimise the squared distance to the points at parameters u. (4, 2) control points."""
    p0, p3 = piece[0], piece[-1]
    b = _bernstein(u)
    rest = piece - (b[:, 0:1] + b[:, 1:2]) * p0 - (b[:, 2:3] + b[:, 3:4]) * p3
    b1, b2 = b[:, 1], b[:, 2]
    # a1 = b1 * t1 and a2 = b2 * t2 with unit t1, t2, so the normal equations reduce to sums.
    c11, c12, c22 = float(b1 @ b1), float(b1 @ b2) * float(t1 @ t2), float(b2 @ b2)
    x1, x2 = float(b1 @ (rest @ t1)), float(b2 @ (rest @ t2))
    det = c11 * c22 - c12 * c12
    chord = math.hypot(*(p3 - p0))
    alpha1 = alpha2 = 0.0
    if abs(det) > 1e-12:
        alpha1 = (x1 * c22 - x2 * c12) / det
        alpha2 = (c11 * x2 - c12 * x1) / det
    # Negative or vanishing handles make loops and cusps; a third of the chord is the safe guess.
    if alpha1 < 1e-3 * chord or alpha2 < 1e-3 * chord or alpha1 > 2 * chord or alpha2 > 2 * chord:
        alpha1 = alpha2 = chord / 3.0
    return np.array([p0, p0 + alpha1 * t1, p3 + alpha2 * t2, p3])


def _evaluate(bezier: np.ndarray, u: np.ndarray) -> np.ndarray:
    return _bernstein(u) @ bezier  # (N, 2)


def _max_error(piece: np.ndarray, bezier: np.ndarray, u: np.ndarray) -> tuple[float, int]:
    d = np.hypot(*(_evaluate(bezier, u) - piece).T)
    worst = int(np.argmax(d))
    return float(d[worst]), worst


def _reparameterise(piece: np.ndarray, bezier: np.ndarray, u: np.ndarray) -> np.ndarray:
    d1 = 3 * np.diff(bezier, axis=0)  # (3, 2) first-derivative control points
    d2 = 2 * np.diff(d1, axis=0)  # (2, 2)
    v = 1.0 - u
    q = _evaluate(bezier, u) - piece
    q1 = (v**2)[:, None] * d1[0] + (2 * u * v)[:, None] * d1[1] + (u**2)[:, None] * d1[2]
    q2 = v[:, None] * d2[0] + u[:, None] * d2[1]
    num = (q * q1).sum(axis=1)
    den = (q1 * q1).sum(axis=1) + (q * q2).sum(axis=1)
    step = np.divide(num, den, out=np.zeros_like(num), where=np.abs(den) > 1e-12)
    new = np.clip(u - step, 0.0, 1.0)
    new[0], new[-1] = 0.0, 1.0
    return np.maximum.accumulate(new)  # keep the order of the points along the curve


def _square_lines(start: Point, segments: list[Segment], snap: float) -> tuple[Point, list[Segment]]:
    """Lines within `snap` of horizontal or vertical become exactly so, as drawn strokes are: both
    ends move to their mean, and the handles next to a moved end move with it."""
    ends = [np.array(start, dtype=np.float64)] + [np.array(seg[-1], dtype=np.float64) for seg in segments]
    handles = [[np.array(h, dtype=np.float64) for h in seg[1:-1]] for seg in segments]
    n = len(segments)
    for i, seg in enumerate(segments):
        if seg[0] != "line":
            continue
        a, b = ends[i], ends[i + 1]  # ends[n] is the start point again
        d = b - a
        for axis in (0, 1):
            other = 1 - axis
            if abs(d[axis]) <= snap and abs(d[other]) > 4 * snap:
                mean = (a[axis] + b[axis]) / 2.0
                for k in (i, i + 1):
                    shift = mean - ends[k][axis]
                    ends[k][axis] = mean
                    if k % n == 0:
                        ends[0][axis] = ends[n][axis] = mean  # the loop's start and end are one point
                    # The handle leaving and the handle arriving at this end follow it.
                    if k < n and segments[k][0] == "curve":
                        handles[k][0][axis] += shift
                    if k >= 1 and segments[k - 1][0] == "curve":
                        handles[k - 1][-1][axis] += shift
    out: list[Segment] = []
    for i, seg in enumerate(segments):
        end = tuple(ends[i + 1])
        out.append(("line", end) if seg[0] == "line" else ("curve", tuple(handles[i][0]), tuple(handles[i][1]), end))
    return tuple(ends[0]), out


def _add_extrema(start: Point, segments: list[Segment], threshold: float) -> list[Segment]:
    out: list[Segment] = []
    current = start
    for seg in segments:
        if seg[0] != "curve":
            out.append(seg)
            current = seg[1]
            continue
        p0, p1, p2, p3 = current, seg[1], seg[2], seg[3]
        ts = _bulging_extrema(p0, p1, p2, p3, threshold)
        if not ts:
            out.append(seg)
        else:
            parts = list(splitCubicAtT(p0, p1, p2, p3, *ts))
            for k, (_a, b, c, d) in enumerate(parts):
                if k + 1 < len(parts):
                    # At an extremum the tangent is horizontal or vertical: make both handles
                    # exactly so, which the split's floating-point noise would otherwise spoil.
                    nb = parts[k + 1][1]
                    axis = 0 if abs(c[0] - d[0]) + abs(nb[0] - d[0]) < abs(c[1] - d[1]) + abs(nb[1] - d[1]) else 1
                    c = (d[0], c[1]) if axis == 0 else (c[0], d[1])
                    parts[k + 1] = (d, (d[0], nb[1]) if axis == 0 else (nb[0], d[1]), *parts[k + 1][2:])
                out.append(("curve", tuple(b), tuple(c), tuple(d)))
        current = p3
    return out


def _bulging_extrema(p0, p1, p2, p3, threshold: float) -> list[float]:
    ts: list[float] = []
    for axis in (0, 1):
        a, b, c, d = p0[axis], p1[axis], p2[axis], p3[axis]
        lo, hi = min(a, d), max(a, d)
        if lo - threshold <= min(b, c) and max(b, c) <= hi + threshold:
            continue  # the control polygon stays within the ends: no bulge worth a point
        # Derivative of the cubic / 3: A t^2 + B t + C.
        qa = -a + 3 * b - 3 * c + d
        qb = 2 * (a - 2 * b + c)
        qc = b - a
        for t in _quadratic_roots(qa, qb, qc):
            if 0.02 < t < 0.98:
                v = (1 - t) ** 3 * a + 3 * t * (1 - t) ** 2 * b + 3 * t**2 * (1 - t) * c + t**3 * d
                if v < lo - threshold or v > hi + threshold:
                    ts.append(t)
    ts = sorted(ts)
    return [t for i, t in enumerate(ts) if i == 0 or t - ts[i - 1] > 0.02]


def _quadratic_roots(a: float, b: float, c: float) -> list[float]:
    if abs(a) < 1e-12:
        return [-c / b] if abs(b) > 1e-12 else []
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    root = math.sqrt(disc)
    return [(-b - root) / (2 * a), (-b + root) / (2 * a)]
