"""``zi2zi scan`` as a library call: photos in, a glyph folder out, every page accounted for.

The glyph folder is the format ``zi2zi generate`` writes (``U+XXXX.png`` named by
``zi2zi.data.layout.glyph_filename``, plus ``manifest.json`` with the renderer settings and the em
box), so ``zi2zi export --glyphs`` and fine-tuning read it unchanged. Review material goes in
sub-folders, which glyph-folder readers skip: ``review/contact-sheet.png`` and, with
``keep_variants``, ``variants/`` for earlier scans of the same character.

The folder is written beside its destination under a temporary name and renamed into place, so a
failed or interrupted scan never leaves a folder that looks complete; any photo that cannot be read
fails the scan unless ``skip_unreadable`` is given, and then the manifest says what is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from zi2zi import __version__
from zi2zi.data.layout import MANIFEST, glyph_filename
from zi2zi.errors import Zi2ziError
from zi2zi.handwriting.intake import CellResult, PageResult, ScanError, ScanSettings, load_inputs, read_photo
from zi2zi.handwriting.layout import Template, load_template
from zi2zi.handwriting.review import contact_sheet

GLYPHS_FORMAT = "zi2zi-glyphs"
CONTACT_SHEET = "review/contact-sheet.png"


@dataclass
class ScanReport:
    out: Path
    pages: list[PageResult]
    glyphs: dict[str, CellResult] = field(default_factory=dict)  # the winning scan of each character
    variants: dict[str, list[CellResult]] = field(default_factory=dict)  # earlier scans, kept or not
    pages_not_read: list[int] = field(default_factory=list)  # template pages no photo gave
    contact_sheet: Path | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[PageResult]:
        return [p for p in self.pages if not p.ok]

    @property
    def empty(self) -> list[str]:
        return sorted({c.char for p in self.pages if p.ok for c in p.cells if c.image is None} - set(self.glyphs), key=ord)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.pages_not_read


def scan(
    photos: Sequence[str | Path],
    template: str | Path | Template,
    out: str | Path,
    *,
    settings: ScanSettings | None = None,
    keep_variants: bool = False,
    skip_unreadable: bool = False,
    overwrite: bool = False,
    progress: Callable[[PageResult], None] | None = None,
) -> ScanReport:
    """Read ``photos`` (images or PDFs, any order) of pages of ``template`` into the glyph folder ``out``.

    A page photographed twice: the later input wins; ``keep_variants`` also keeps the earlier ones
    in ``out/variants``. Raises :class:`ScanError` when a photo cannot be read (unless
    ``skip_unreadable``) or when no photo could be read; nothing is written then.
    """
    started = time.perf_counter()
    settings = settings or ScanSettings()
    settings.check()
    template = template if isinstance(template, Template) else load_template(template)
    out = Path(out)
    _check_destination(out, overwrite)
    if not photos:
        raise ScanError("no photos given; pass the JPEG, PNG or PDF files of the written pages")
    missing = [str(p) for p in photos if not Path(p).is_file()]
    if missing:
        raise ScanError(f"photo(s) not found: {', '.join(missing)}; check the paths")
    report = ScanReport(out, [])
    for path in photos:  # one photo in memory at a time: phone photos are ~12 MP each
        for label, grey in load_inputs(path, settings.pdf_dpi):
            for page in read_photo(grey, template, source=label, order=len(report.pages), settings=settings):
                report.pages.append(page)
                if progress:
                    progress(page)
    if not any(p.ok for p in report.pages):
        raise ScanError("no page could be read: " + "; ".join(p.summary() for p in report.pages))
    if report.failed and not skip_unreadable:
        raise ScanError(
            f"{len(report.failed)} of {len(report.pages)} photo(s) could not be read, so no glyph folder was "
            f"written: " + "; ".join(p.summary() for p in report.failed)
            + ". Photograph them again, or pass --skip-unreadable to keep the pages that were read"
        )
    for page in sorted((p for p in report.pages if p.ok), key=lambda p: p.order):
        for cell in page.cells:
            if cell.image is None:
                continue
            if cell.char in report.glyphs:
                report.variants.setdefault(cell.char, []).append(report.glyphs[cell.char])
            report.glyphs[cell.char] = cell
    read_pages = {p.page for p in report.pages if p.ok}
    report.pages_not_read = [i for i in range(len(template.pages)) if i not in read_pages]
    if not report.glyphs:
        raise ScanError("every square of the pages read is empty: nothing was written on them, or the ink is "
                        "too faint; write with a dark pen")
    _write_folder(report, template, settings, keep_variants)
    report.contact_sheet = out / CONTACT_SHEET
    report.seconds = time.perf_counter() - started
    return report


def _check_destination(out: Path, overwrite: bool) -> None:
    if not out.parent.is_dir():
        raise ScanError(f"folder {out.parent} does not exist; create it or choose another --out")
    if out.exists() and not out.is_dir():
        raise ScanError(f"{out} is a file; give a folder for the glyphs (--out)")
    if out.is_dir() and any(out.iterdir()):
        try:
            manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
            ours = isinstance(manifest, dict) and manifest.get("format") == GLYPHS_FORMAT
        except (OSError, ValueError):
            ours = False
        if not ours:
            raise ScanError(f"{out} exists and is not a zi2zi glyph folder; choose another --out")
        if not overwrite:
            raise ScanError(f"{out} already holds glyphs; pass --overwrite to replace them")


def _write_folder(report: ScanReport, template: Template, settings: ScanSettings, keep_variants: bool) -> None:
    out = report.out
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        for char, cell in report.glyphs.items():
            Image.fromarray(cell.glyph).save(tmp / glyph_filename(char))
        if keep_variants and report.variants:
            (tmp / "variants").mkdir()
            for char, cells in report.variants.items():
                for n, cell in enumerate(cells, 1):
                    Image.fromarray(cell.glyph).save(tmp / "variants" / glyph_filename(char).replace(".png", f".{n}.png"))
        (tmp / "review").mkdir()
        read_chars = {c.char for p in report.pages if p.ok for c in p.cells}
        contact_sheet(template.chars, report.glyphs, tmp / CONTACT_SHEET, read_chars, _review_font(template))
        embox = template.embox(settings.size)
        manifest = {
            "format": GLYPHS_FORMAT,
            "version": 1,
            "zi2zi_version": __version__,
            "source": "scan",
            "style": {"name": "handwriting"},
            "template": {"id": template.id, "pages": len(template.pages)},
            "render": {"size": settings.size, "mode": "em", "margin": 0.0},
            # The writing square is the em box: 1000 units, ascender 880, descender -120.
            "embox": embox.to_dict(),
            "advance": embox.units_per_em,
            "characters": "".join(sorted(report.glyphs, key=ord)),
            "empty": "".join(report.empty),
            "touching_border": "".join(sorted((c for c, r in report.glyphs.items() if r.touches_border), key=ord)),
            "complete": report.complete,
            "pages_not_read": [i + 1 for i in report.pages_not_read],
            "variants": {c: len(v) for c, v in report.variants.items()} if keep_variants else {},
            "photos": [_page_record(p) for p in report.pages],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, trash / "old")
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _review_font(template: Template):
    """The font the template's reference characters were printed with, else any installed CJK
    font, else None (the contact sheet then shows code points only)."""
    from zi2zi.fonts import open_font
    from zi2zi.fonts.system import find_font
    from zi2zi.handwriting.draw import default_reference_font

    recorded = template.reference_font
    try:
        if recorded.get("file"):
            return open_font(find_font(recorded["file"]), int(recorded.get("face", 0)))
    except (Zi2ziError, ValueError):
        pass
    try:
        return open_font(default_reference_font())
    except Zi2ziError:
        return None


def _page_record(page: PageResult) -> dict:
    record = {"source": page.source, "read": page.ok}
    if page.reason is not None or page.page is None:
        return record | {"reason": page.reason or "no template page found"}
    return record | {
        "page": page.page + 1,
        "markers": page.markers,
        "rotation_deg": page.rotation_deg,
        "blur_mm": page.blur_mm,
        "reprojection_px": page.reprojection_px,
        "written": "".join(c.char for c in page.cells if c.image is not None),
        "empty": "".join(c.char for c in page.cells if c.image is None),
        "touching_border": "".join(c.char for c in page.cells if c.touches_border),
    }
