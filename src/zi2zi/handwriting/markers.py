"""Fiducial markers: ArUco 4x4 squares that say which page and which corner they are.

4x4 markers (6 x 6 modules with the border) are the coarsest ArUco family, so they survive blur,
low resolution and JPEG better than finer ones; DICT_4X4_1000 gives ids enough for 200 pages of
four corners plus a template fingerprint. Each marker's four corners come back in the marker's own
order, so the page's orientation in the photo (rotated, upside down) follows from the ids alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

MODULES = 6  # 4 x 4 data bits plus a one-module black border


@lru_cache(maxsize=1)
def dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_1000)


def marker_image(marker_id: int, module_px: int = 32) -> np.ndarray:
    """(6k, 6k) uint8, 0 = black, 255 = white: the marker as printed, without a quiet zone."""
    return cv2.aruco.generateImageMarker(dictionary(), marker_id, MODULES * module_px, borderBits=1)


@lru_cache(maxsize=1)
def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    # Sub-pixel corners: the page is rectified from them, and a glyph's placement is only as good.
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    params.cornerRefinementWinSize = 4
    # Uneven light: more adaptive-threshold window sizes find markers in shadow as well.
    params.adaptiveThreshWinSizeMin = 5
    params.adaptiveThreshWinSizeMax = 45
    params.adaptiveThreshWinSizeStep = 8
    return cv2.aruco.ArucoDetector(dictionary(), params)


@dataclass(frozen=True)
class Detection:
    id: int
    corners: np.ndarray  # (4, 2) float32, photo pixels (OpenCV convention: pixel centres at integers)


def detect(grey: np.ndarray, max_side: int = 2400) -> list[Detection]:
    """All markers in a grey photo. Large photos are searched at reduced size, then each corner is
    refined on the full-resolution image, which keeps both speed and precision."""
    scale = min(1.0, max_side / max(grey.shape))
    small = grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    corners, ids, _ = _detector().detectMarkers(small)
    if ids is None:
        return []
    found = []
    for quad, marker_id in zip(corners, ids.ravel()):
        quad = quad.reshape(4, 2).astype(np.float32)
        if scale != 1.0:
            quad = (quad + 0.5) / scale - 0.5
            # The window must stay inside one module (a sixth of the side), or the search
            # slides to the corner of an inner module.
            side = float(np.linalg.norm(quad[0] - quad[1]))
            win = max(2, min(10, int(side / 6 / 3)))
            cv2.cornerSubPix(grey, quad, (win, win), (-1, -1),
                             (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01))
        found.append(Detection(int(marker_id), quad))
    return found
