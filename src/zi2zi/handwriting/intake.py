"""Reading written template pages from scans and phone photos: find, rectify, identify, cut, clean.

One page at a time:

1. Find the ArUco markers. Their ids say which page of which template this is and which corner
   each one is, so photos come in any order and any orientation, upside down included.
2. Fit the homography from template millimetres to photo pixels to all marker corners found
   (three markers are enough; at least 12 points), and check the page lies inside the photo.
3. Estimate the paper's brightness everywhere (a grey dilation at ~1 px/mm, which removes strokes
   and keeps light and shadow), so uneven light and shadow bands divide out.
4. Cut every writing square straight from the photo into an S x S glyph raster (one
   interpolation, sub-pixel exact), divide by the paper level, and threshold at the midpoint
   between this page's ink and paper: the light grey square and guide fall above it and vanish,
   and blurred edges stay where they were. Specks smaller than a dot of a pen are dropped.

The square is the em box, so the writer's placement in the square is the glyph's placement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from zi2zi.errors import Zi2ziError
from zi2zi.handwriting.layout import CORNERS, MAX_PAGES, Cell, Template
from zi2zi.handwriting.markers import Detection, detect
from zi2zi.handwriting.raster import image_to_box

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


class ScanError(Zi2ziError):
    """Photos or a scan request that cannot be read into glyphs."""


@dataclass(frozen=True)
class ScanSettings:
    size: int = 128  # glyph image side in pixels (the square = one em)
    pdf_dpi: int = 200  # PDF pages are rasterised at this resolution
    max_blur_mm: float = 0.35  # marker edges blurrier than this (Gaussian sigma) make a page unreadable
    min_dpi: float = 100.0  # below this the page is too small in the photo for pen strokes to survive
    empty_ink: float = 0.002  # a square with less ink than this share of its area is empty
    border_band: float = 0.015  # ink within this share of the em from the square's edge touches it
    speck: float = 0.0004  # ink blobs smaller than this share of the square are dust, not strokes

    def check(self) -> None:
        if not 32 <= self.size <= 1024:
            raise ScanError(f"glyph size {self.size} is out of range; use 32 to 1024 pixels (--size)")
        if not 72 <= self.pdf_dpi <= 1200:
            raise ScanError(f"PDF resolution {self.pdf_dpi} is out of range; use 72 to 1200 DPI (--pdf-dpi)")


@dataclass
class CellResult:
    char: str
    page: int
    image: np.ndarray | None  # (S, S) uint8, 0 = ink; None when the square is empty
    ink_share: float
    touches_border: bool
    sample: int = 0  # which sample of the character the square asked for (0: its first)

    @property
    def glyph(self) -> np.ndarray:
        """The written glyph: only squares found written are kept as glyphs, so asking an empty one is a bug."""
        if self.image is None:
            raise ValueError(f"the square for {self.char!r} is empty; it has no glyph")
        return self.image


@dataclass
class PageResult:
    source: str  # file name (and page number inside a PDF)
    order: int  # position among the inputs: a later photo of the same page wins
    page: int | None = None  # template page index when found
    reason: str | None = None  # why not, when not
    cells: list[CellResult] = field(default_factory=list)
    markers: int = 0
    blur_mm: float | None = None
    rotation_deg: float | None = None
    reprojection_px: float | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def summary(self) -> str:
        if self.reason is not None or self.page is None:
            return f"{self.source}: not read: {self.reason or 'no template page found'}"
        written = sum(c.image is not None for c in self.cells)
        empty = [c.char for c in self.cells if c.image is None and not c.sample]
        touching = [c.char for c in self.cells if c.touches_border]
        text = (f"{self.source}: page {self.page + 1}, {written} of {len(self.cells)} squares written, "
                f"rotated {self.rotation_deg:.0f} deg, {self.markers} markers, blur {self.blur_mm:.2f} mm")
        if empty:
            text += f"; empty: {''.join(empty[:40])}{'...' if len(empty) > 40 else ''}"
        if touching:
            text += f"; ink touches the square's edge (may be cut off): {''.join(touching)}"
        return text


MAX_PDF_PAGES = 500  # a template has at most 200 pages; retakes included, a scan has no reason for more


def load_inputs(path: str | Path, pdf_dpi: int = 200) -> list[tuple[str, np.ndarray]]:
    """(label, grey uint8) for an image file, or for every page of a PDF."""
    from zi2zi.images import MAX_PHOTO_PIXELS, open_image
    from zi2zi.storage.reading import check_regular

    path = Path(path)
    if not path.exists():
        raise ScanError(f"photo {path} does not exist; check the path")
    check_regular(path, what="photo", error=ScanError)
    if path.suffix.lower() == ".pdf":
        return _pdf_pages(path, pdf_dpi)
    # The header first (Pillow reads JPEG and PNG headers without decoding): OpenCV would try
    # to allocate any size it is told, or fail with an assertion.
    with open_image(path, max_pixels=MAX_PHOTO_PIXELS, what="photo",
                    advice=f"give JPEG, PNG or PDF files ({', '.join(IMAGE_SUFFIXES)}, .pdf)"):
        pass
    data = np.fromfile(str(path), dtype=np.uint8)
    try:
        grey = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    except cv2.error:
        grey = None
    if grey is None:
        raise ScanError(
            f"{path} is not a readable image; give JPEG, PNG or PDF files ({', '.join(IMAGE_SUFFIXES)}, .pdf)"
        )
    return [(path.name, grey)]


def _pdf_pages(path: Path, pdf_dpi: int) -> list[tuple[str, np.ndarray]]:
    """Every page of a PDF rendered in grey at ``pdf_dpi``, each named by its page number."""
    import pypdfium2 as pdfium

    from zi2zi.images import MAX_PHOTO_PIXELS

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise ScanError(f"{path} is not a readable PDF ({exc}); export the scan again") from None
    try:
        if len(pdf) > MAX_PDF_PAGES:
            raise ScanError(f"{path} has {len(pdf)} pages; scan at most {MAX_PDF_PAGES} pages per PDF")
        pages = []
        scale = pdf_dpi / 72.0
        for i in range(len(pdf)):
            try:
                page = pdf[i]
                width, height = page.get_size()  # points: the rendered size is known before rendering
                if width * scale * height * scale > MAX_PHOTO_PIXELS:
                    raise ScanError(f"{path} page {i + 1} is {width / 72:.0f} x {height / 72:.0f} inches, too large "
                                    f"to render at {pdf_dpi} dpi; give scans of the template's pages")
                bitmap = page.render(scale=scale, grayscale=True)
            except pdfium.PdfiumError as exc:  # a document that opens may still hold a damaged page
                raise ScanError(f"{path} page {i + 1} cannot be read ({exc}); export the scan again") from None
            pages.append((f"{path.name} page {i + 1}", np.asarray(bitmap.to_pil().convert("L")).copy()))
        return pages
    finally:
        pdf.close()


def read_photo(grey: np.ndarray, template: Template, *, source: str = "photo", order: int = 0,
               settings: ScanSettings | None = None) -> list[PageResult]:
    """Every template page in one photo or scan (usually one; two sheets side by side give two).
    Failures come back as ``reason``, not raised, so one bad photo among many is reported beside
    the good ones."""
    settings = settings or ScanSettings()
    found = detect(grey)
    groups, reason = _group(found, template)
    if reason:
        return [PageResult(source, order, reason=reason if found else _why_no_markers(grey))]
    readable = {p: m for p, m in groups.items() if len(m) - ("template" in m) >= 3}
    if not readable:
        best = max(groups, key=lambda p: len(groups[p]))
        return [PageResult(source, order, reason=_why_too_few(grey, groups[best], template.pages[best], settings))]
    return [
        _read_one(grey, template, page_index, markers,
                  source if len(readable) == 1 else f"{source} (page {page_index + 1})", order + k, settings)
        for k, (page_index, markers) in enumerate(sorted(readable.items()))
    ]


def read_page(grey: np.ndarray, template: Template, *, source: str = "photo", order: int = 0,
              settings: ScanSettings | None = None) -> PageResult:
    """The one page in a photo (the first, if it holds several); see :func:`read_photo`."""
    return read_photo(grey, template, source=source, order=order, settings=settings)[0]


def _read_one(grey: np.ndarray, template: Template, page_index: int, markers: dict[str, Detection], source: str,
              order: int, settings: ScanSettings) -> PageResult:
    """Rectify, check and cut one page whose markers were found."""
    result = PageResult(source, order)
    page = template.pages[page_index]
    result.page, result.markers = page_index, len(markers)
    homography, reprojection = _fit(markers, page.markers)
    result.reprojection_px = round(reprojection, 2)
    outside = _outside(homography, template, page_index, grey.shape)
    if outside:
        result.reason = (f"page {page_index + 1} is cut off: {outside} lie outside the photo; photograph "
                         f"the whole page")
        return result
    (page_w, page_h) = template.page_mm
    jacobian = _jacobian(homography, page_w / 2, page_h / 2)
    dpi = math.sqrt(abs(np.linalg.det(jacobian))) * 25.4
    if dpi < settings.min_dpi:
        result.reason = (f"page {page_index + 1} is too small in the photo ({dpi:.0f} DPI, at least "
                         f"{settings.min_dpi:.0f} needed): move closer so the page fills the photo, or scan at 300 DPI")
        return result
    blur = _blur_mm(grey, homography, [m for m in page.markers if m.role in markers])
    result.blur_mm = round(blur, 3)
    if blur > settings.max_blur_mm:
        result.reason = (f"page {page_index + 1} is too blurry (edge blur {blur:.2f} mm, the limit is "
                         f"{settings.max_blur_mm} mm): hold the phone still, focus on the page, or scan at "
                         f"300 DPI")
        return result
    x_axis = jacobian[:, 0]  # the page's rightward direction in the photo
    result.rotation_deg = round(math.degrees(math.atan2(x_axis[1], x_axis[0])) % 360.0, 1)
    result.cells = _cut_cells(grey, homography, page.cells, page_index, settings)
    return result


def _group(found: list[Detection], template: Template) -> tuple[dict[int, dict[str, Detection]], str | None]:
    """Markers by template page and role, or why they cannot be this template's.

    Strokes of handwriting now and then decode as a small marker; all real markers are printed
    the same size, so detections much smaller than the largest are dropped, and once some page
    has three corner markers, stray single markers of other ids no longer count.
    """
    if not found:
        return {}, "no markers"
    sides = [float(np.linalg.norm(d.corners[0] - d.corners[1])) for d in found]
    largest = float(np.median(sorted(sides)[-4:]))
    found = [d for d, side in zip(found, sides) if side >= 0.55 * largest]
    by_page: dict[int, dict[str, Detection]] = {}
    for d in found:
        if d.id < 4 * MAX_PAGES:
            by_page.setdefault(d.id // 4, {})[CORNERS[d.id % 4]] = d
    fingerprints = [d for d in found if d.id >= 4 * MAX_PAGES]
    solid = {p: m for p, m in by_page.items() if len(m) >= 3}
    if solid:
        by_page = solid
        ours = [d for d in fingerprints if d.id == template.fingerprint_marker]
        fingerprints = ours or fingerprints
    ids = {d.id for d in fingerprints}
    if ids and template.fingerprint_marker not in ids:
        return {}, (f"the page belongs to another template (its marker {min(ids)} is not this "
                    f"template's {template.fingerprint_marker}); give the template.json it was printed from")
    if not by_page:
        return {}, "only the template marker is in the photo, no corner markers: the page is cut off"
    if not solid:  # judge the page by its best group alone
        best = max(by_page, key=lambda p: len(by_page[p]))
        by_page = {best: by_page[best]}
    beyond = sorted(p + 1 for p in by_page if p >= len(template.pages))
    if beyond:
        return {}, (f"its markers are those of page {beyond[0]}, but the template has {len(template.pages)} "
                    f"page(s); give the template.json it was printed from")
    if len(fingerprints) == 1 and len(by_page) == 1:  # with several pages in view, whose it is is unclear
        next(iter(by_page.values()))["template"] = fingerprints[0]
    return by_page, None


def _why_no_markers(grey: np.ndarray) -> str:
    """Tell a blurry page from a photo of something else by the marker-like squares in it."""
    small = cv2.resize(grey, None, fx=min(1.0, 1200 / max(grey.shape)), fy=min(1.0, 1200 / max(grey.shape)),
                       interpolation=cv2.INTER_AREA)
    edges = cv2.Laplacian(small.astype(np.float32), cv2.CV_32F)
    contrast = float(np.percentile(small, 99) - np.percentile(small, 1)) + 1e-6
    sharp = float(np.percentile(np.abs(edges), 99.5)) / contrast
    if sharp < 0.12 and contrast > 60:
        return (f"no markers found and the photo is too blurry to find them (sharpness {sharp:.2f}); hold the "
                f"phone still and focus on the page")
    return ("no template markers found: this is not a page of a zi2zi template, or its corner squares are "
            "covered; photograph a whole template page")


def _why_too_few(grey: np.ndarray, markers: dict[str, Detection], page, settings: ScanSettings) -> str:
    """Fewer than three corner markers: cut off (the others fall outside the photo), or blurry or
    covered (they are inside it but could not be read). An affine fit to the markers found tells
    where the others should be."""
    boxes = {m.role: m.box for m in page.markers}
    src = np.array([p for role in markers for p in boxes[role].corners()], np.float64)
    dst = np.array([p for role in markers for p in markers[role].corners.tolist()], np.float64)
    affine, _ = cv2.estimateAffine2D(src, dst)
    missing = [c for c in CORNERS if c not in markers]
    where = f"the {', '.join(missing)} corner marker(s)"
    if affine is None:
        return f"page {page.index + 1} is cut off: {where} are not in the photo; photograph the whole page"
    homography = np.vstack([affine, [0.0, 0.0, 1.0]])
    # A blurry photo is the first thing to fix, whatever else is wrong.
    blur = _blur_mm(grey, homography, [m for m in page.markers if m.role in markers])
    if blur > settings.max_blur_mm:
        return (f"page {page.index + 1} is too blurry: {where} cannot be read (edge blur {blur:.2f} mm, the limit "
                f"is {settings.max_blur_mm} mm); hold the phone still, focus on the page, or scan at 300 DPI")
    h, w = grey.shape
    centres = np.array([[boxes[c].x + boxes[c].w / 2, boxes[c].y + boxes[c].h / 2] for c in missing], np.float64)
    projected = cv2.perspectiveTransform(centres[None], homography)[0]
    inside = (projected[:, 0] >= 0) & (projected[:, 1] >= 0) & (projected[:, 0] < w) & (projected[:, 1] < h)
    if not inside.all():
        return (f"page {page.index + 1} is cut off: {where} are not in the photo; photograph the whole page with "
                f"all four corner squares")
    return (f"page {page.index + 1}: {where} are in the photo but cannot be read (covered, creased, or in glare); "
            f"photograph the page again with all four corner squares clear")


def _fit(markers: dict[str, Detection], layout_markers) -> tuple[np.ndarray, float]:
    """Homography template-mm -> photo-px, least squares over every corner of every marker found.

    Not RANSAC: its minimal samples of four nearby corners extrapolate badly across a page, and
    then good markers get rejected as outliers. A marker that disagrees with the others by more
    than a few pixels (misread) is dropped instead, while three remain.
    """
    boxes = {m.role: m.box for m in layout_markers}
    roles = list(markers)
    while True:
        src = np.array([p for role in roles for p in boxes[role].corners()], np.float64)
        dst = np.array([p for role in roles for p in markers[role].corners.tolist()], np.float64)
        homography, _ = cv2.findHomography(src, dst, 0)
        residual = np.linalg.norm(cv2.perspectiveTransform(src[None], homography)[0] - dst, axis=1)
        per_marker = residual.reshape(-1, 4).max(axis=1)
        if per_marker.max() <= 3.0 or len(roles) <= 3:
            return homography, float(np.median(residual))
        roles.pop(int(per_marker.argmax()))


def _outside(homography: np.ndarray, template: Template, page_index: int, shape) -> str | None:
    h, w = shape
    cells = template.pages[page_index].cells
    pts = np.array([c for cell in cells for c in cell.box.corners()], np.float64)
    projected = cv2.perspectiveTransform(pts[None], homography)[0]
    bad = (projected[:, 0] < -0.5) | (projected[:, 1] < -0.5) | (projected[:, 0] > w - 0.5) | (projected[:, 1] > h - 0.5)
    if not bad.any():
        return None
    n = len({i // 4 for i in np.nonzero(bad)[0]})
    return f"{n} of {len(cells)} writing squares"


def _blur_mm(grey: np.ndarray, homography: np.ndarray, layout_markers) -> float:
    """Gaussian sigma (mm) of the marker edges: their steepest gradient against their contrast."""
    ppm = 20.0  # rectify the markers at 20 px/mm: fine enough to measure 0.05 mm
    sigmas = []
    for m in layout_markers:
        pad = 1.0
        size = (int((m.box.w + 2 * pad) * ppm), int((m.box.h + 2 * pad) * ppm))
        to_mm = np.array([[1 / ppm, 0, m.box.x - pad + 0.5 / ppm], [0, 1 / ppm, m.box.y - pad + 0.5 / ppm], [0, 0, 1]])
        patch = cv2.warpPerspective(grey, homography @ to_mm, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        lo, hi = np.percentile(patch, 5), np.percentile(patch, 95)
        if hi - lo < 20:
            continue
        gx = cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3) / 8.0
        gy = cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3) / 8.0
        steepest = float(np.percentile(np.hypot(gx, gy), 99.5)) * ppm  # grey levels per mm
        sigmas.append((hi - lo) / (steepest * math.sqrt(2 * math.pi)))
    return float(np.median(sigmas)) if sigmas else float("inf")


def _cut_cells(grey: np.ndarray, homography: np.ndarray, cells: list[Cell], page_index: int,
               settings: ScanSettings) -> list[CellResult]:
    size = settings.size
    # Photo pixels per mm at the page centre: sets the paper-estimation scale and the anti-alias blur.
    jac = _jacobian(homography, float(np.mean([c.box.x for c in cells])), float(np.mean([c.box.y for c in cells])))
    ppm = math.sqrt(abs(np.linalg.det(jac)))
    source = grey
    reduction = ppm * cells[0].box.w / size  # photo px per glyph px
    if reduction > 1.2:
        source = cv2.GaussianBlur(grey, (0, 0), 0.45 * math.sqrt(reduction**2 - 1.0))
    # Paper level at ~1 px/mm: a 5 mm grey dilation removes pen strokes, light and shadow remain.
    f = min(1.0, 1.0 / ppm)
    small = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    paper = cv2.GaussianBlur(paper.astype(np.float32), (0, 0), 1.5)
    to_small = np.diag([f, f, 1.0])
    to_small[0, 2] = to_small[1, 2] = 0.5 * f - 0.5  # pixel centres of the reduced image
    norms = []
    for cell in cells:
        h_cell = homography @ image_to_box((size, size), cell.box)
        patch = cv2.warpPerspective(source, h_cell, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        level = cv2.warpPerspective(paper, to_small @ h_cell, (size, size),
                                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        norms.append(patch / np.maximum(level, 1.0))
    stack = np.stack(norms)  # (cells, S, S), paper ~ 1
    paper_level = float(np.median(stack))
    # Ink level: a low percentile of the clearly dark pixels, i.e. the cores of strokes. Blur makes
    # thin strokes lighter than their ink, so a median would set the threshold too high and fatten
    # them. The threshold is the midpoint, where a blurred edge crosses: edges stay where they were
    # (measured: 0.45 or 0.55 of the way lose 1.5-2.5 points of median IoU).
    dark = stack[stack < 0.5 * paper_level]
    ink_level = float(np.percentile(dark, 10)) if dark.size > 0.0005 * stack.size else 0.25 * paper_level
    threshold = (ink_level + paper_level) / 2.0
    ramp = 0.25 * (paper_level - ink_level)
    speck = settings.speck * size * size
    band = max(1, round(settings.border_band * size))
    out = []
    for cell, norm in zip(cells, norms):
        ink = (norm < threshold).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        keep = np.zeros(count, bool)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= speck
        ink_mask = keep[labels]
        share = float(ink_mask.mean())
        if share < settings.empty_ink:
            out.append(CellResult(cell.char, page_index, None, share, False, cell.sample))
            continue
        image = np.clip(0.5 + (norm - threshold) / ramp, 0.0, 1.0) * 255.0
        image[~ink_mask & (image < 128)] = 255.0  # dust and stray marks removed
        image = image.astype(np.uint8)
        edge = np.ones_like(ink_mask)
        edge[band:-band, band:-band] = False
        out.append(CellResult(cell.char, page_index, image, share, bool((ink_mask & edge).any()), cell.sample))
    return out


def _jacobian(homography: np.ndarray, x: float, y: float) -> np.ndarray:
    p = homography @ np.array([x, y, 1.0])
    eps = 0.5
    px = homography @ np.array([x + eps, y, 1.0])
    py = homography @ np.array([x, y + eps, 1.0])
    return np.column_stack([(px[:2] / px[2] - p[:2] / p[2]) / eps, (py[:2] / py[2] - p[:2] / p[2]) / eps])
