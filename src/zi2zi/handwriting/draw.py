"""Drawing template pages, and writing a template folder (PDF, PNGs, template.json).

Pages are rasters drawn at the template's DPI: markers are placed at their exact millimetre
positions (sub-pixel), the writing squares and the guide are light grey so they drop out when the
scan is thresholded, and the reference character is printed small above its square, outside the
part that is cut, so it never has to be erased. The PDF holds the same rasters losslessly
(pypdfium2), so printing the PDF or a PNG gives the same sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from zi2zi.config import RenderSettings
from zi2zi.errors import FontError
from zi2zi.fonts import FontFile, Renderer, open_font
from zi2zi.fonts.punctuation import is_proportional
from zi2zi.handwriting.layout import KIND, TEMPLATE_JSON, Box, Template, TemplateError, TemplateSettings, plan_template
from zi2zi.handwriting.markers import marker_image
from zi2zi.handwriting.raster import paste_min, px_per_mm
from zi2zi.handwriting.variants import SAMPLES
from zi2zi.storage import built_folder, check_replaceable

# Grey levels (0 = black, 255 = paper). The square's outline and the guide must be visible to the
# writer yet lighter than any pen after thresholding at the paper/ink midpoint (~55% grey).
SQUARE_GREY = 200
GUIDE_GREY = 225
LABEL_GREY = 70
# Where the baseline lies in a writing square (one em: 880 above it, 120 below).
BASELINE_FROM_BOTTOM = 0.12
# Installed CJK fonts tried, in order, for the printed reference characters: (file, Debian package).
REFERENCE_FONTS = [
    ("uming.ttc", "fonts-arphic-uming"),
    ("NotoSansCJK-Regular.ttc", "fonts-noto-cjk"),
    ("wqy-microhei.ttc", "fonts-wqy-microhei"),
    ("wqy-zenhei.ttc", "fonts-wqy-zenhei"),
]


def default_reference_font() -> Path:
    from zi2zi.fonts.system import find_font

    for name, package in REFERENCE_FONTS:
        try:
            return find_font(name, package)
        except FontError:
            continue
    raise FontError(
        "no CJK font found to print the reference characters; install the Debian package "
        "fonts-arphic-uming (or fonts-noto-cjk), or pass --reference-font FONT"
    )


def _ascii_font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, px))


def draw_page(template: Template, index: int, dpi: float | None = None,
              reference: FontFile | None = None) -> np.ndarray:
    """(H, W) uint8 raster of page ``index`` at ``dpi`` (default: the template's)."""
    dpi = dpi or template.settings.dpi
    s = px_per_mm(dpi)
    page_w, page_h = template.page_mm
    canvas = np.full((round(page_h * s), round(page_w * s)), 255, dtype=np.uint8)
    page = template.pages[index]
    for marker in page.markers:
        paste_min(canvas, marker_image(marker.id), marker.box, dpi)
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    line = max(1, round(0.25 * s))  # a 0.25 mm outline
    for cell in page.cells:
        x0, y0 = cell.box.x * s, cell.box.y * s
        x1, y1 = (cell.box.x + cell.box.w) * s, (cell.box.y + cell.box.h) * s
        draw.rectangle([round(x0), round(y0), round(x1) - 1, round(y1) - 1], outline=SQUARE_GREY, width=line)
        if template.settings.guide == "light":
            cx, cy, dash = (x0 + x1) / 2, (y0 + y1) / 2, max(2, round(0.8 * s))
            if is_proportional(ord(cell.char)):
                # Latin and digits sit on a baseline, 120 / 1000 of the square above its bottom
                # (the em box's descender), and a guide there lets the hand find it.
                cy = y1 - (y1 - y0) * BASELINE_FROM_BOTTOM
            for t in np.arange(x0, x1, 2 * dash):
                draw.line([(t, cy), (min(t + dash, x1), cy)], fill=GUIDE_GREY, width=line)
            if not is_proportional(ord(cell.char)):
                for t in np.arange(y0, y1, 2 * dash):
                    draw.line([(cx, t), (cx, min(t + dash, y1))], fill=GUIDE_GREY, width=line)
    canvas = np.asarray(image).copy()
    codes = _paste_labels(canvas, template, index, dpi, reference)
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    small = _ascii_font(round(template.settings.label_mm * 0.4 * s))
    for (x, y), code in codes:
        draw.text((x * s, y * s), code, fill=LABEL_GREY + 60, font=small)
    st = template.settings
    left = (st.margin_mm + st.marker_mm + 3) * s
    draw.text((left, st.margin_mm * s), f"zi2zi handwriting template {template.id}   page {index + 1} of "
              f"{len(template.pages)}", fill=0, font=_ascii_font(round(2.6 * s)))
    draw.text((left, (st.margin_mm + 5) * s), "Write each character inside its square, placed and sized as you "
              "write it. Keep all corner squares in the photo.", fill=90, font=_ascii_font(round(2.2 * s)))
    return np.asarray(image).copy()


def _paste_labels(canvas: np.ndarray, template: Template, index: int, dpi: float,
                  reference: FontFile | None) -> list[tuple[tuple[float, float], str]]:
    """Paste each reference character above its square; return the code-point captions to print."""
    s = px_per_mm(dpi)
    label_mm = template.settings.label_mm
    renderer = Renderer(reference, RenderSettings(size=max(8, round(label_mm * 0.9 * s)))) if reference else None
    codes = []
    for cell in template.pages[index].cells:
        glyph = renderer.render(cell.char) if renderer else None
        if glyph is not None:
            # Lighten to LABEL_GREY ink: readable, yet clearly not the writer's own ink.
            tinted = (255 - (255 - glyph.astype(np.float32)) * (255 - LABEL_GREY) / 255).astype(np.uint8)
            paste_min(canvas, tinted, Box(cell.label.x, cell.label.y, label_mm * 0.9, label_mm * 0.9), dpi)
        # An extra sample says which it is, so the writer sees it is asked for on purpose.
        code = (f"U+{ord(cell.char):04X}" + (f" #{cell.sample + 1}" if cell.sample else "")
                + ("" if glyph is not None else " (no glyph)"))
        codes.append(((cell.label.x + (label_mm if glyph is not None else 0.0), cell.label.y + label_mm * 0.3), code))
    return codes


@dataclass
class TemplateFiles:
    template: Template
    out: Path
    pdf: Path
    pngs: list[Path]
    json: Path
    missing_reference: list[str]  # characters the reference font lacks (printed as code points)


def write_template(
    chars: list[str],
    out: str | Path,
    *,
    settings: TemplateSettings | None = None,
    reference_font: FontFile | None = None,
    png_dpi: int | None = None,
    overwrite: bool = False,
    extras: Sequence[str] = (),
    variants: Sequence[str] = (),
    samples: int = SAMPLES,
) -> TemplateFiles:
    """Plan, draw and write a template folder: ``template.pdf``, ``page-N.png``, ``template.json``.
    ``extras``: punctuation, digits and Latin on pages of their own; ``variants``: characters
    asked for ``samples`` times (``zi2zi.handwriting.variants``; see ``plan_template``).

    ``out`` must be new, empty or (with ``overwrite``) a template folder; it is built with
    ``zi2zi.storage.built_folder``, so a failure never leaves a half-written template.
    """
    settings = settings or TemplateSettings()
    settings.check()
    if png_dpi is not None and (isinstance(png_dpi, bool) or not 72 <= png_dpi <= 1200):
        raise TemplateError(f"--png-dpi {png_dpi} is out of range; use 72 to 1200")
    out = Path(out)
    if not out.parent.is_dir():
        raise TemplateError(f"folder {out.parent} does not exist; create it or choose another --out")
    check_replaceable(out, KIND, overwrite=overwrite, error=TemplateError)
    ref = reference_font.record() if reference_font else {}
    if ref:
        ref = {k: ref[k] for k in ("family", "style", "face")} | {"file": Path(ref["path"]).name}
    template = plan_template(chars, settings, ref, extras=extras, variants=variants, samples=samples)
    missing = [c for c in template.chars if reference_font and not reference_font.covers(c)]
    with built_folder(out, KIND, overwrite=overwrite, error=TemplateError) as tmp:
        pages = [draw_page(template, i, settings.dpi, reference_font) for i in range(len(template.pages))]
        pngs = []
        for i, page in enumerate(pages):
            image = Image.fromarray(page)
            if png_dpi and png_dpi != settings.dpi:
                scale = png_dpi / settings.dpi
                image = image.resize((round(image.width * scale), round(image.height * scale)),
                                     Image.Resampling.LANCZOS)
            path = tmp / f"page-{i + 1}.png"
            image.save(path, dpi=(png_dpi or settings.dpi,) * 2)
            pngs.append(path)
        write_pdf(pages, tmp / "template.pdf", settings.dpi)
        template.save(tmp / TEMPLATE_JSON)
    return TemplateFiles(template, out, out / "template.pdf", [out / p.name for p in pngs], out / TEMPLATE_JSON,
                         missing)


def write_pdf(pages: list[np.ndarray], path: Path, dpi: float) -> Path:
    """One PDF page per raster, sized so that it prints at ``dpi`` (lossless, via pypdfium2)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for raster in pages:
        h, w = raster.shape
        width_pt, height_pt = w * 72.0 / dpi, h * 72.0 / dpi
        page = pdf.new_page(width_pt, height_pt)
        obj = pdfium.PdfImage.new(pdf)
        obj.set_bitmap(pdfium.PdfBitmap.from_pil(Image.fromarray(raster)))
        obj.set_matrix(pdfium.PdfMatrix().scale(width_pt, height_pt))
        page.insert_obj(obj)
        page.gen_content()
    pdf.save(str(path))
    return path


def open_reference_font(spec: str | None) -> FontFile:
    """``FONT`` / ``FONT#N`` given by the user, or the first installed CJK font of REFERENCE_FONTS."""
    from zi2zi.fonts.font import open_font_spec

    return open_font(default_reference_font()) if spec is None else open_font_spec(spec)
