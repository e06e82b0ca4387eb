"""Quality of a font as its reader sees it: glyphs rendered back from the font file against the
real font's, character by character.

Both fonts are drawn by the renderer in ``fit`` mode at 128 px (each glyph's ink box scaled to
fill a square, centred: cropped to its ink and padded to square), then thresholded at 50 %:

- identification: a glyph counts as identified when, among the real glyphs of all the measured
  characters, its own is the one its ink overlaps best (IoU; a tie with an identical glyph counts);
- shape IoU: the ink IoU with its own real glyph;
- edge F: the boundary F-score (Csurka et al., BMVC 2013) at 2 px, 1/64 of the box: the share of
  each outline within 2 px of the other's, combined as an F-measure; serrated edges, blobs and
  broken strokes all lower it;
- contours off: the glyph's contour count (outer outlines plus holes of its ink, specks under
  3 px left out) is outside 0.8-1.25x the real glyph's: strokes broken apart, merged or lost.

Measured on the exported file, not on the generator's bitmaps: a classifier that reads the
unchanged source glyph as the right character cannot tell a good font from a bad one, and the
tracer's 50 % level is where faint strokes break. Copying the source font through the same
measures is the trivial baseline to report beside any result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from zi2zi.config import RenderSettings
from zi2zi.fonts import FontFile, Renderer

SIZE = 128
EDGE_TOLERANCE = 2  # px at SIZE: 1/64 of the glyph box
CONTOUR_RANGE = (0.8, 1.25)
MIN_CONTOUR_AREA = 3.0  # px^2 at SIZE: smaller specks are rasterisation noise in either font


@dataclass
class FontQuality:
    """Per-character figures and their summary; characters either font lacks are left out."""

    chars: list[str]
    identified: list[bool] = field(repr=False)
    shape_iou: list[float] = field(repr=False)
    edge_f: list[float] = field(repr=False)
    contours: list[int] = field(repr=False)
    real_contours: list[int] = field(repr=False)
    missing: list[str] = field(default_factory=list)

    @property
    def contours_off(self) -> list[bool]:
        lo, hi = CONTOUR_RANGE
        return [not (lo * r <= c <= hi * r) for c, r in zip(self.contours, self.real_contours)]

    def summary(self) -> dict[str, float | int]:
        n = len(self.chars)
        if n == 0:
            return {"characters": 0}
        return {
            "characters": n,
            "identified": round(float(np.mean(self.identified)), 4),
            "shape_iou": round(float(np.median(self.shape_iou)), 4),
            "edge_f": round(float(np.median(self.edge_f)), 4),
            "contours_off": round(float(np.mean(self.contours_off)), 4),
        }

    def to_dict(self) -> dict:
        data = asdict(self)
        data["summary"] = self.summary()
        return data


def masks(font: FontFile, chars: Sequence[str]) -> dict[str, np.ndarray]:
    """Bool ink masks (SIZE, SIZE) of the characters the font draws, ink box fitted to the square."""
    renderer = Renderer(font, RenderSettings(size=SIZE, mode="fit", margin=0.0))
    out = {}
    for char in chars:
        image = renderer.render(char)
        if image is not None:
            out[char] = image < 128
    return out


def _boundary(mask: np.ndarray) -> np.ndarray:
    import cv2

    m = mask.astype(np.uint8)
    eroded = cv2.erode(m, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return (m - eroded).astype(bool)


def edge_f(pred: np.ndarray, real: np.ndarray, tolerance: float = EDGE_TOLERANCE) -> float:
    """Boundary F-score of two masks: precision and recall of boundary pixels within ``tolerance``."""
    import cv2

    bp, br = _boundary(pred), _boundary(real)
    if not bp.any() or not br.any():
        return 0.0
    # distanceTransform measures to the nearest zero pixel: zeros where the other boundary is.
    dist_to_real = cv2.distanceTransform((~br).astype(np.uint8), cv2.DIST_L2, 3)
    dist_to_pred = cv2.distanceTransform((~bp).astype(np.uint8), cv2.DIST_L2, 3)
    precision = float((dist_to_real[bp] <= tolerance).mean())
    recall = float((dist_to_pred[br] <= tolerance).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def contour_count(mask: np.ndarray) -> int:
    """Outer outlines plus holes of the ink, each enclosing at least MIN_CONTOUR_AREA px^2."""
    import cv2

    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return sum(1 for c in contours if cv2.contourArea(c) >= MIN_CONTOUR_AREA)


def font_quality(candidate: FontFile, real: FontFile, chars: Sequence[str]) -> FontQuality:
    """Measure ``candidate`` (an exported font, or the source font as the baseline) against the
    ``real`` font on ``chars``."""
    chars = list(dict.fromkeys(chars))
    real_masks = masks(real, chars)
    cand_masks = masks(candidate, [c for c in chars if c in real_masks])
    kept = [c for c in chars if c in cand_masks]
    missing = [c for c in chars if c not in cand_masks]
    if not kept:
        return FontQuality([], [], [], [], [], [], missing)
    gallery = list(real_masks)  # every real glyph measured competes in identification
    a = np.stack([cand_masks[c] for c in kept]).reshape(len(kept), -1).astype(np.float32)
    b = np.stack([real_masks[c] for c in gallery]).reshape(len(gallery), -1).astype(np.float32)
    inter = a @ b.T  # (N, M) ink pixels in common
    union = a.sum(1, keepdims=True) + b.sum(1)[None, :] - inter
    iou = inter / np.maximum(union, 1.0)
    own = np.array([gallery.index(c) for c in kept])
    own_iou = iou[np.arange(len(kept)), own]
    # A tie counts as identified: two real glyphs of identical ink cannot be told apart by anyone.
    identified = (own_iou >= iou.max(axis=1)).tolist()
    return FontQuality(
        chars=kept,
        identified=[bool(x) for x in identified],
        shape_iou=[float(x) for x in own_iou],
        edge_f=[edge_f(cand_masks[c], real_masks[c]) for c in kept],
        contours=[contour_count(cand_masks[c]) for c in kept],
        real_contours=[contour_count(real_masks[c]) for c in kept],
        missing=missing,
    )


__all__ = ["FontQuality", "contour_count", "edge_f", "font_quality", "masks"]
