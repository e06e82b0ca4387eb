"""Millimetres <-> pixels, and placing an image into a page at a sub-pixel position.

Pixel coordinates follow OpenCV: the centre of pixel (i, j) is at (i, j), so the page's top-left
edge is at (-0.5, -0.5). Templates, synthetic pages and the scanner all convert through here, so
a box in ``template.json`` lands on the same ink in every raster, at every DPI.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from zi2zi.handwriting.layout import Box

MM_PER_INCH = 25.4


def px_per_mm(dpi: float) -> float:
    return dpi / MM_PER_INCH


def mm_to_px(points_mm: np.ndarray, dpi: float) -> np.ndarray:
    """(N, 2) millimetres -> (N, 2) pixel coordinates at ``dpi``."""
    return np.asarray(points_mm, dtype=np.float64) * px_per_mm(dpi) - 0.5


def image_to_box(size: tuple[int, int], box: Box) -> np.ndarray:
    """3x3 map from an image's pixel coordinates (w, h pixels covering ``box`` edge to edge) to mm."""
    w, h = size
    return np.array(
        [[box.w / w, 0.0, box.x + 0.5 * box.w / w], [0.0, box.h / h, box.y + 0.5 * box.h / h], [0.0, 0.0, 1.0]]
    )


def mm_to_page(dpi: float) -> np.ndarray:
    """3x3 map from millimetres to page pixel coordinates at ``dpi``."""
    s = px_per_mm(dpi)
    return np.array([[s, 0.0, -0.5], [0.0, s, -0.5], [0.0, 0.0, 1.0]])


def paste_min(canvas: np.ndarray, image: np.ndarray, box: Box, dpi: float) -> None:
    """Darken ``canvas`` (uint8, 255 = paper) with ``image`` scaled into ``box`` (mm), in place.

    The image is pre-blurred in proportion to the reduction, so downscaled edges stay where they
    are (a plain bilinear reduction aliases and moves them by a fraction of a pixel).
    """
    h, w = image.shape
    s = px_per_mm(dpi)
    x0, y0 = max(0, math.floor(box.x * s) - 1), max(0, math.floor(box.y * s) - 1)
    x1 = min(canvas.shape[1], math.ceil((box.x + box.w) * s) + 1)
    y1 = min(canvas.shape[0], math.ceil((box.y + box.h) * s) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    # destination pixel (q + x0) -> source pixel: inverse of image -> mm -> page, shifted to the ROI
    forward = mm_to_page(dpi) @ image_to_box((w, h), box)
    forward[0, 2] -= x0
    forward[1, 2] -= y0
    reduction = max(w / (box.w * s), h / (box.h * s))
    if reduction > 1.0:
        sigma = 0.45 * math.sqrt(reduction**2 - 1.0)
        image = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    patch = cv2.warpAffine(
        image, forward[:2], (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=255,
    )
    np.minimum(canvas[y0:y1, x0:x1], patch, out=canvas[y0:y1, x0:x1])
