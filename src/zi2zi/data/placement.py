"""Where a written glyph sits in its square compared with its source glyph, and bringing a hand's
glyphs to one consistent placement.

A hand writes each character a little larger or smaller and a little off centre, differently
every time. A model trained on such glyphs with L1 learns the average of those placements: faint,
doubled strokes. So before training, each written glyph is measured against its source glyph
drawn by the renderer in the same em box (ink centroid and spread, the first and second moments
of the ink) and moved and scaled onto it (:func:`normalise`); the model then learns the hand's
shapes, not its jitter. The median of what was undone is the hand's own placement
(:class:`Placement`): generated glyphs get it back (:func:`place`), so they sit beside the written
ones as the hand places its glyphs on average.

Normalisations (``METHODS``):

``none``      the glyphs as written;
``centroid``  moved so that their ink centroid is the source glyph's;
``scale``     moved, and scaled uniformly about the centroid to the source glyph's ink spread
              (the root-mean-square distance of ink from the centroid);
``axes``      moved, and scaled per axis to the source glyph's spread across and down.

:func:`compare` says how much placement variation each leaves on a set of written glyphs, by
measures the normalisations do not align themselves (ink-box IoU with the source glyph, spread of
ink-box centre and size); ``benchmarks/bench_placement.py`` compares them on the demo's
synthetic hand, where the jitter is known, and :data:`DEFAULT_METHOD` is the one it found best
(``zi2zi.finetune.recipe.DEFAULT_PLACEMENT``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from zi2zi.errors import DatasetError

# The choices and the measured default live with fine-tuning's other choices (light to import).
from zi2zi.finetune.recipe import DEFAULT_PLACEMENT as DEFAULT_METHOD
from zi2zi.finetune.recipe import PLACEMENTS as METHODS
from zi2zi.fonts import EmBox, FontFile

SCALE_LIMITS = (0.5, 2.0)  # a scale beyond these is a stray mark or a broken scan, not a hand
INK = 128  # a pixel darker than this is ink (as everywhere in zi2zi)
PAPER_FLOOR = 230.0  # pixels lighter than this weigh nothing in the moments


@dataclass(frozen=True)
class Moments:
    """The ink of one glyph: its centroid and spread in pixels, and its ink box."""

    cx: float
    cy: float
    sx: float  # standard deviation of ink across (px)
    sy: float  # ... and down
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) of the pixels darker than INK

    @property
    def radius(self) -> float:
        """Root-mean-square distance of the ink from its centroid."""
        return float(np.hypot(self.sx, self.sy))


def moments(image: np.ndarray) -> Moments | None:
    """The ink of an (S, S) uint8 glyph (0 = ink), weighted by darkness; None for a blank one."""
    # Darkness above a floor: the near-white paper of a generated glyph would pull the centroid
    # to the middle and swell the spread.
    weight = np.clip((PAPER_FLOOR - image.astype(np.float64)) / PAPER_FLOOR, 0.0, 1.0)
    total = weight.sum()
    if total <= 0.0:
        return None
    mask = image < INK
    if not mask.any():  # a faint glyph (a weak model's): its box is where its ink is darkest
        mask = weight >= 0.5 * weight.max()
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    cx, cy = (weight * xs).sum() / total, (weight * ys).sum() / total
    sx = float(np.sqrt((weight * (xs - cx) ** 2).sum() / total))
    sy = float(np.sqrt((weight * (ys - cy) ** 2).sum() / total))
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    return Moments(float(cx), float(cy), max(sx, 0.5), max(sy, 0.5), box)


@dataclass(frozen=True)
class Offset:
    """How one written glyph sits relative to its source glyph: its centroid's offset (em, x right
    and y down) and its size ratio per axis (written / source) under a normalisation."""

    dx: float
    dy: float
    kx: float
    ky: float


def offset_of(written: Moments, source: Moments, method: str, size: int) -> Offset:
    """What ``method`` undoes for a glyph with ink ``written`` whose source glyph has ``source``."""
    check_method(method)
    if method == "none":
        return Offset(0.0, 0.0, 1.0, 1.0)
    dx, dy = (written.cx - source.cx) / size, (written.cy - source.cy) / size
    if method == "centroid":
        return Offset(dx, dy, 1.0, 1.0)
    lo, hi = SCALE_LIMITS
    if method == "scale":
        k = float(np.clip(written.radius / source.radius, lo, hi))
        return Offset(dx, dy, k, k)
    return Offset(dx, dy, float(np.clip(written.sx / source.sx, lo, hi)), float(np.clip(written.sy / source.sy, lo, hi)))


def warp(image: np.ndarray, *, centre: tuple[float, float], to: tuple[float, float], kx: float, ky: float) -> np.ndarray:
    """``image`` scaled by (kx, ky) about ``centre`` and moved so that ``centre`` lands on ``to``
    (pixels); paper fills what comes in from outside."""
    (cx, cy), (tx, ty) = centre, to
    matrix = np.array([[kx, 0.0, tx - kx * cx], [0.0, ky, ty - ky * cy]])
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def normalise(written: np.ndarray, source: np.ndarray, method: str) -> tuple[np.ndarray, Offset | None]:
    """The written glyph brought onto its source glyph's placement by ``method``, and what was
    undone; a glyph (or source glyph) with no ink comes back unchanged, with None."""
    if written.shape != source.shape:
        raise DatasetError(f"a written glyph of {written.shape} px cannot be placed against a source glyph of "
                           f"{source.shape} px; render the source at the glyphs' size")
    mw, ms = moments(written), moments(source)
    if mw is None or ms is None or method == "none":
        return written, None if mw is None or ms is None else Offset(0.0, 0.0, 1.0, 1.0)
    off = offset_of(mw, ms, method, written.shape[0])
    return warp(written, centre=(mw.cx, mw.cy), to=(ms.cx, ms.cy), kx=1.0 / off.kx, ky=1.0 / off.ky), off


@dataclass(frozen=True)
class Placement:
    """How a hand places its glyphs relative to the source glyphs, on average: the median of the
    offsets (em of the square, x right, y down) and size ratios that ``method`` undid in
    training. Recorded in the run; :func:`place` gives generated glyphs the same placement."""

    method: str
    dx: float = 0.0
    dy: float = 0.0
    kx: float = 1.0
    ky: float = 1.0
    glyphs: int = 0  # how many glyphs were measured

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Placement:
        try:
            placement = cls(str(data["method"]), float(data.get("dx", 0.0)), float(data.get("dy", 0.0)),
                            float(data.get("kx", 1.0)), float(data.get("ky", 1.0)), int(data.get("glyphs", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"the recorded placement {dict(data)} is incomplete ({exc}); fine-tune again") from None
        check_method(placement.method)
        return placement

    @property
    def identity(self) -> bool:
        return self.method == "none" or (self.dx, self.dy, self.kx, self.ky) == (0.0, 0.0, 1.0, 1.0)


def median_placement(method: str, offsets: Iterable[Offset]) -> Placement:
    found = list(offsets)
    if not found or method == "none":
        return Placement(method, glyphs=len(found))
    med = np.median(np.array([[o.dx, o.dy, o.kx, o.ky] for o in found]), axis=0)
    return Placement(method, float(med[0]), float(med[1]), float(med[2]), float(med[3]), len(found))


def normalise_all(written: Mapping[str, np.ndarray], sources: Mapping[str, np.ndarray],
                  method: str) -> tuple[dict[str, np.ndarray], Placement]:
    """Every written glyph that has a source glyph normalised by ``method`` (the others as
    written), and the hand's median placement."""
    check_method(method)
    out: dict[str, np.ndarray] = {}
    offsets = []
    for char, image in written.items():
        source = sources.get(char)
        if source is None:
            out[char] = image
            continue
        out[char], off = normalise(image, source, method)
        if off is not None:
            offsets.append(off)
    return out, median_placement(method, offsets)


def place(image: np.ndarray, placement: Placement) -> np.ndarray:
    """A glyph drawn at the source glyphs' placement (what a model trained on normalised glyphs
    draws) moved and scaled to the hand's median placement, about its own ink centroid."""
    m = moments(image)
    if m is None or placement.identity:
        return image
    size = image.shape[0]
    return warp(image, centre=(m.cx, m.cy), to=(m.cx + placement.dx * size, m.cy + placement.dy * size),
                kx=placement.kx, ky=placement.ky)


def source_glyphs(source: FontFile, chars: Iterable[str], embox: EmBox) -> dict[str, np.ndarray]:
    """The source font's glyphs of ``chars`` drawn in ``embox`` at its size (the box the written
    glyphs were cut in), for the characters it draws: what each written glyph is measured against."""
    from zi2zi.config import RenderSettings
    from zi2zi.fonts import Renderer

    renderer = Renderer(source, RenderSettings(size=embox.size, mode="em", margin=embox.margin), embox=embox)
    drawn = {c: renderer.render(c) for c in chars if source.covers(c)}
    return {c: image for c, image in drawn.items() if image is not None}


def tidy(written: np.ndarray, source: np.ndarray, placement: Placement) -> np.ndarray:
    """A written glyph given the hand's median placement instead of its own: normalised as the
    run's training glyphs were, then placed as generated glyphs are (``--normalize-written``)."""
    return place(normalise(written, source, placement.method)[0], placement)


def check_method(method: str) -> None:
    if method not in METHODS:
        raise DatasetError(f"unknown placement normalisation {method!r}; use one of {', '.join(METHODS)}")
    # (zi2zi.finetune.recipe.check_placement says the same to a user choosing one)


# ---- measuring -----------------------------------------------------------------------------------


def ink_iou(a: np.ndarray, b: np.ndarray) -> float:
    ia, ib = a < INK, b < INK
    union = (ia | ib).sum()
    return float((ia & ib).sum() / union) if union else 1.0


@dataclass(frozen=True)
class PlacementStats:
    """What one normalisation leaves of the placement variation of a set of written glyphs, by
    ink-box measures (which no normalisation aligns directly): the median ink IoU with the source
    glyph, and the spread (interquartile range) across glyphs of the ink-box centre's offset
    from the source glyph's (em) and of the log ink-box size ratio (written / source)."""

    method: str
    glyphs: int
    median_iou: float
    centre_spread: float  # mean of the x and y IQRs, em
    size_spread: float  # mean of the width and height IQRs of log(size ratio)
    placement: Placement

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "glyphs": self.glyphs, "median_iou": round(self.median_iou, 4),
                "centre_spread": round(self.centre_spread, 4), "size_spread": round(self.size_spread, 4),
                "placement": self.placement.to_dict()}


def _iqr(values: np.ndarray) -> float:
    q1, q3 = np.percentile(values, [25, 75])
    return float(q3 - q1)


def box_spread(images: Mapping[str, np.ndarray], sources: Mapping[str, np.ndarray]) -> tuple[float, float]:
    """(centre spread in em, log size spread) of the ink boxes of ``images`` against ``sources``."""
    centres, sizes = [], []
    for char, image in images.items():
        mw, ms = moments(image), moments(sources[char])
        if mw is None or ms is None:
            continue
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = mw.box, ms.box
        size = image.shape[0]
        centres.append([(ax0 + ax1 - bx0 - bx1) / (2 * size), (ay0 + ay1 - by0 - by1) / (2 * size)])
        sizes.append([np.log((ax1 - ax0) / (bx1 - bx0)), np.log((ay1 - ay0) / (by1 - by0))])
    if not centres:
        return 0.0, 0.0
    offsets, ratios = np.array(centres, dtype=np.float64), np.array(sizes, dtype=np.float64)
    return (_iqr(offsets[:, 0]) + _iqr(offsets[:, 1])) / 2, (_iqr(ratios[:, 0]) + _iqr(ratios[:, 1])) / 2


def compare(written: Mapping[str, np.ndarray], sources: Mapping[str, np.ndarray],
            methods: Iterable[str] = METHODS) -> list[PlacementStats]:
    """Each normalisation of ``methods`` applied to the written glyphs that have a source glyph,
    and what it leaves (:class:`PlacementStats`)."""
    pairs = {c: g for c, g in written.items() if c in sources}
    if not pairs:
        raise DatasetError("none of the written glyphs has a source glyph to be measured against")
    stats = []
    for method in methods:
        images, placement = normalise_all(pairs, sources, method)
        centre, size = box_spread(images, sources)
        iou = float(np.median([ink_iou(images[c], sources[c]) for c in images]))
        stats.append(PlacementStats(method, len(images), iou, centre, size, placement))
    return stats


__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "Moments",
    "Offset",
    "Placement",
    "PlacementStats",
    "box_spread",
    "compare",
    "ink_iou",
    "median_placement",
    "moments",
    "normalise",
    "normalise_all",
    "place",
    "source_glyphs",
    "tidy",
]
