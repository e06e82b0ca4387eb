"""A synthetic hand and a synthetic phone: filled template pages, photographed badly, with truth.

Tests, the benchmark and the demo need photos of written sheets without a person or a camera.
``fill_page`` writes each cell's character with a font, placed and sized a little differently in
every square as a person would, and returns the glyph it pasted (the truth the scanner must give
back). ``photograph`` then does to the page what a phone does: any rotation (upside down too), a
tilt and perspective, uneven light, a shadow band, blur, sensor noise and JPEG compression, with
the page at 150-300 DPI. Everything is drawn from one seeded generator, so a failing page can be
made again from its seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from zi2zi.config import RenderSettings
from zi2zi.fonts import FontFile, Renderer
from zi2zi.handwriting.draw import draw_page
from zi2zi.handwriting.layout import Template
from zi2zi.handwriting.raster import paste_min

WRITE_SIZE = 256  # px of the written glyph before it is pasted (finer than any page raster)


@dataclass(frozen=True)
class HandSettings:
    """How the synthetic writer varies from square to square (fractions of the square = one em):
    as a person writes, each glyph 0.82-1.0 of the usual size and up to 6 % off centre."""

    scale: tuple[float, float] = (0.82, 1.0)  # glyph size relative to the font's em
    shift: float = 0.06  # largest offset of the glyph from where the font puts it
    fill: float = 1.0  # share of cells written (the rest stay empty)


@dataclass(frozen=True)
class PhotoSettings:
    """The phone. Ranges are sampled uniformly per photo."""

    dpi: tuple[int, int] = (150, 300)  # page resolution in the photo
    rotations: tuple[int, ...] = (0, 90, 180, 270)
    tilt_deg: float = 6.0  # on top of the quarter turn
    perspective: float = 0.05  # corner displacement, fraction of the page's short side
    border: tuple[float, float] = (0.03, 0.09)  # table around the page, fraction of the frame
    light: tuple[float, float] = (0.55, 1.0)  # darkest / brightest of the lighting gradient
    shadow_depth: tuple[float, float] = (0.25, 0.5)  # light lost inside the shadow band
    blur_sigma: tuple[float, float] = (0.3, 1.1)  # px
    noise_sigma: tuple[float, float] = (1.5, 5.0)  # grey levels
    jpeg_quality: tuple[int, int] = (50, 70)


@dataclass
class FilledPage:
    index: int
    dpi: float
    raster: np.ndarray  # (H, W) uint8, the written page before the camera
    truth: dict[str, np.ndarray] = field(default_factory=dict)  # char -> (S, S) uint8 glyph pasted
    samples: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)  # (char, sample >= 1) -> the same


@dataclass
class Photo:
    jpeg: bytes
    page: int
    seed: int
    params: dict


def fill_page(template: Template, index: int, font: FontFile, *, dpi: float, truth_size: int,
              rng: np.random.Generator, hand: HandSettings | None = None,
              reference: FontFile | None = None) -> FilledPage:
    """Draw page ``index`` at ``dpi`` and write into its squares with ``font``."""
    hand = hand or HandSettings()
    raster = draw_page(template, index, dpi, reference)
    renderer = Renderer(font, RenderSettings(size=WRITE_SIZE))
    filled = FilledPage(index, dpi, raster)
    for cell in template.pages[index].cells:
        if rng.random() >= hand.fill:
            continue
        glyph = renderer.render(cell.char)
        if glyph is None:
            continue
        written = write_like_a_hand(glyph, rng, hand)
        if written is None:
            continue
        paste_min(raster, written, cell.box, dpi)
        pasted = cv2.resize(written, (truth_size, truth_size), interpolation=cv2.INTER_AREA)
        if cell.sample:  # another sample of the character: placed anew, as a hand writes it again
            filled.samples[(cell.char, cell.sample)] = pasted
        else:
            filled.truth[cell.char] = pasted
    return filled


def write_like_a_hand(glyph: np.ndarray, rng: np.random.Generator, hand: HandSettings) -> np.ndarray | None:
    """The font's glyph as the hand writes it once: scaled about the square's centre and shifted,
    its ink kept inside the square; None for a glyph without ink."""
    size = glyph.shape[0]
    ys, xs = np.nonzero(glyph < 128)
    if len(xs) == 0:
        return None
    k = rng.uniform(*hand.scale)
    c = (size - 1) / 2.0
    # ink box after scaling about the centre, then the shifts that keep 2% of the em free around it
    x0, x1 = c + (xs.min() - c) * k, c + (xs.max() - c) * k
    y0, y1 = c + (ys.min() - c) * k, c + (ys.max() - c) * k
    pad, limit = 0.02 * size, hand.shift * size
    dx = rng.uniform(max(-limit, pad - x0), min(limit, size - 1 - pad - x1)) if x1 - x0 < size - 2 * pad else 0.0
    dy = rng.uniform(max(-limit, pad - y0), min(limit, size - 1 - pad - y1)) if y1 - y0 < size - 2 * pad else 0.0
    matrix = np.array([[k, 0.0, c - k * c + dx], [0.0, k, c - k * c + dy]])
    return cv2.warpAffine(glyph, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def photograph(raster: np.ndarray, rng: np.random.Generator, settings: PhotoSettings | None = None,
               dpi_scale: float = 1.0) -> tuple[bytes, dict]:
    """A JPEG of the page as a phone would take it, and the parameters drawn."""
    settings = settings or PhotoSettings()
    h, w = raster.shape
    quarter = int(rng.choice(settings.rotations))
    angle = math.radians(quarter + rng.uniform(-settings.tilt_deg, settings.tilt_deg))
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64) - 0.5
    centre = np.array([w / 2.0, h / 2.0])
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = (corners - centre) @ rot.T * dpi_scale
    moved += rng.uniform(-1, 1, size=(4, 2)) * settings.perspective * min(w, h) * dpi_scale
    span = moved.max(axis=0) - moved.min(axis=0)
    border = rng.uniform(*settings.border) * span.max()
    moved -= moved.min(axis=0) - border
    fw, fh = (int(math.ceil(v)) for v in span + 2 * border)
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), moved.astype(np.float32))
    table = float(rng.uniform(60, 150))
    # camera response: paper is never 255 nor ink 0
    white, black = rng.uniform(215, 245), rng.uniform(15, 45)
    page = black + (white - black) * (raster.astype(np.float32) / 255.0)
    frame = cv2.warpPerspective(page, homography, (fw, fh), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=table)
    frame *= _lighting(fw, fh, rng, settings)
    sigma = rng.uniform(*settings.blur_sigma)
    frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    noise = rng.uniform(*settings.noise_sigma)
    grain = np.empty(frame.shape, np.float32)
    cv2.setRNGSeed(int(rng.integers(2**31)))  # OpenCV's generator, seeded from ours: fast and repeatable
    cv2.randn(grain, np.array([0.0]), np.array([noise]))
    frame = frame + grain
    grey = np.clip(frame, 0, 255).astype(np.uint8)
    tint = np.diag([0.9, 0.97, 1.0]).astype(np.float32)  # warm indoor light (BGR)
    colour = cv2.transform(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), tint)
    quality = int(rng.integers(settings.jpeg_quality[0], settings.jpeg_quality[1] + 1))
    ok, jpeg = cv2.imencode(".jpg", colour, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    params = {"rotation": quarter, "angle_deg": round(math.degrees(angle), 2), "blur_sigma": round(sigma, 2),
              "noise_sigma": round(noise, 2), "jpeg_quality": quality, "frame": [fw, fh],
              "homography": homography.tolist()}  # page raster pixels -> photo pixels
    return jpeg.tobytes(), params


def _lighting(w: int, h: int, rng: np.random.Generator, settings: PhotoSettings) -> np.ndarray:
    """(h, w) float32 light: a linear gradient times a soft-edged shadow band (smooth, so it is
    computed at 1/8 size and enlarged)."""
    sw, sh = max(2, w // 8), max(2, h // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) * 8.0
    theta = rng.uniform(0, 2 * math.pi)
    t = xx * math.cos(theta) + yy * math.sin(theta)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    lo, hi = settings.light
    light = lo + (hi - lo) * t
    phi = rng.uniform(0, 2 * math.pi)
    d = xx * math.cos(phi) + yy * math.sin(phi)
    centre = rng.uniform(float(d.min()), float(d.max()))
    half = rng.uniform(0.05, 0.15) * max(w, h)
    soft = 0.02 * max(w, h)
    inside = 1.0 / (1.0 + np.exp(-(half - np.abs(d - centre)) / soft))
    small = (light * (1.0 - rng.uniform(*settings.shadow_depth) * inside)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def synthetic_photos(template: Template, font: FontFile, *, seed: int, truth_size: int,
                     pages: list[int] | None = None, hand: HandSettings | None = None,
                     photo: PhotoSettings | None = None,
                     reference: FontFile | None = None) -> tuple[list[Photo], dict[str, np.ndarray]]:
    """Fill and photograph ``pages`` (default all) of ``template``; page i uses seed ``seed + i``.

    Returns the photos and the truth of every written character.
    """
    photo = photo or PhotoSettings()
    shots, truth = [], {}
    for index in pages if pages is not None else range(len(template.pages)):
        rng = np.random.default_rng(seed + index)
        dpi = float(rng.uniform(*photo.dpi))
        filled = fill_page(template, index, font, dpi=dpi, truth_size=truth_size, rng=rng, hand=hand,
                           reference=reference)
        jpeg, params = photograph(filled.raster, rng, photo)
        params["dpi"] = round(dpi, 1)
        shots.append(Photo(jpeg, index, seed + index, params))
        truth.update(filled.truth)
    return shots, truth
