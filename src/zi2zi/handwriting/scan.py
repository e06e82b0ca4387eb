"""``zi2zi scan`` as a library call: photos in, a glyph folder out, every page accounted for.

The glyph folder is the format ``zi2zi generate`` writes (:mod:`zi2zi.data.glyphfolder`:
``U+XXXX.png`` images plus ``manifest.json`` with the renderer settings and the em box), so
``zi2zi export --glyphs`` and fine-tuning read it unchanged. The other samples of a character
that the template asked for go to ``variants/`` (``U+XXXX.1.png``, ...), and with
``keep_variants`` also earlier scans of the same square; the review material goes to
``review/contact-sheet.png``.

The folder is built with ``zi2zi.storage.built_folder`` (under its lock), so a failed or interrupted
scan never leaves a folder that looks complete; any photo that cannot be read fails the scan unless
``skip_unreadable`` is given, and then the manifest says what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zi2zi.config import RenderSettings
from zi2zi.data.glyphfolder import KIND as GLYPHS_KIND
from zi2zi.data.glyphfolder import write_glyph, write_manifest, write_variant
from zi2zi.errors import Zi2ziError
from zi2zi.handwriting.intake import CellResult, PageResult, ScanError, ScanSettings, load_inputs, read_photo
from zi2zi.handwriting.layout import Template, load_template
from zi2zi.handwriting.review import contact_sheet
from zi2zi.storage import built_folder, check_replaceable

CONTACT_SHEET = "review/contact-sheet.png"


@dataclass
class ScanReport:
    out: Path
    pages: list[PageResult]
    glyphs: dict[str, CellResult] = field(default_factory=dict)  # the winning scan of each character
    samples: dict[str, dict[int, CellResult]] = field(default_factory=dict)  # its other samples, by sample number
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
    in ``out/variants``, after the character's other samples (which are always kept). Raises :class:`ScanError` when a photo cannot be read (unless
    ``skip_unreadable``) or when no photo could be read; nothing is written then.
    """
    started = time.perf_counter()
    settings = settings or ScanSettings()
    settings.check()
    quiet_opencv()
    template = template if isinstance(template, Template) else load_template(template)
    out = Path(out)
    _check_destination(out, overwrite)
    if not photos:
        raise ScanError("no photos given; pass the JPEG, PNG or PDF files of the written pages")
    missing = [str(p) for p in photos if not Path(p).exists()]
    if missing:
        raise ScanError(f"photo(s) not found: {', '.join(missing)}; check the paths")
    from zi2zi.storage.reading import check_regular

    for photo in photos:  # all of them before the first is read: a pipe would block the scan
        check_regular(photo, what="photo", error=ScanError)
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
    latest: dict[tuple[str, int], CellResult] = {}  # (character, sample) -> its latest scan
    for page in sorted((p for p in report.pages if p.ok), key=lambda p: p.order):
        for cell in page.cells:
            if cell.image is None:
                continue
            key = (cell.char, cell.sample)
            if key in latest:
                report.variants.setdefault(cell.char, []).append(latest[key])
            latest[key] = cell
    # A first square read empty while another sample of the character was written: that one stands in.
    read_empty = {c.char for p in report.pages if p.ok for c in p.cells if c.sample == 0 and c.image is None}
    for (char, sample), cell in sorted(latest.items(), key=lambda item: item[0][1]):
        if sample == 0 or (char not in report.glyphs and char in read_empty and (char, 0) not in latest):
            report.glyphs[char] = cell
        else:
            report.samples.setdefault(char, {})[sample] = cell
    read_pages = {p.page for p in report.pages if p.ok}
    report.pages_not_read = [i for i in range(len(template.pages)) if i not in read_pages]
    if not report.glyphs:
        raise ScanError("every square of the pages read is empty: nothing was written on them, or the ink is "
                        "too faint; write with a dark pen")
    # ``out`` may have changed while the photos were read: built_folder checks it again.
    with built_folder(out, GLYPHS_KIND, overwrite=overwrite, error=ScanError) as tmp:
        _write_folder(tmp, report, template, settings, keep_variants)
    report.contact_sheet = out / CONTACT_SHEET
    report.seconds = time.perf_counter() - started
    return report


def quiet_opencv() -> None:
    """OpenCV's C++ code writes its warnings (a corrupt JPEG segment, ...) straight to stderr; the
    scan's report already says, one line per photo, what it could not read."""
    from cv2.utils import logging as cv_logging

    cv_logging.setLogLevel(cv_logging.LOG_LEVEL_ERROR)


def _check_destination(out: Path, overwrite: bool) -> None:
    if not out.parent.is_dir():
        raise ScanError(f"folder {out.parent} does not exist; create it or choose another --out")
    # The same kind as ``zi2zi generate``'s folders: a scan may replace generated glyphs and back.
    check_replaceable(out, GLYPHS_KIND, overwrite=overwrite, error=ScanError)


def _write_folder(tmp: Path, report: ScanReport, template: Template, settings: ScanSettings,
                  keep_variants: bool) -> None:
    for char, cell in report.glyphs.items():
        write_glyph(tmp, char, cell.glyph)
    # A sample keeps its number (U+XXXX.2.png is always the third square of the character), so a
    # later scan of its page replaces it; earlier scans kept by keep_variants come after them.
    variants: dict[str, int] = {}
    for char in set(report.samples) | (set(report.variants) if keep_variants else set()):
        numbered = dict(report.samples.get(char, {}))
        after = max([template.variants.get(char, 0), *numbered])
        if keep_variants:
            numbered.update((after + k, cell) for k, cell in enumerate(report.variants.get(char, []), 1))
        for n, cell in numbered.items():
            write_variant(tmp, char, n, cell.glyph)
        variants[char] = len(numbered)
    (tmp / "review").mkdir()
    read_chars = {c.char for p in report.pages if p.ok for c in p.cells}
    contact_sheet(template.chars, report.glyphs, tmp / CONTACT_SHEET, read_chars, _review_font(template))
    write_manifest(
        tmp,
        render=RenderSettings(size=settings.size, mode="em", margin=0.0),
        # The writing square is the em box: 1000 units, ascender 880, descender -120.
        embox=template.embox(settings.size),
        characters=report.glyphs,
        complete=report.complete,
        source="scan",
        style={"name": "handwriting"},
        template={"id": template.id, "pages": len(template.pages)},
        empty="".join(report.empty),
        touching_border="".join(sorted((c for c, r in report.glyphs.items() if r.touches_border), key=ord)),
        pages_not_read=[i + 1 for i in report.pages_not_read],
        variants=dict(sorted(variants.items(), key=lambda item: ord(item[0]))),
        photos=[_page_record(p) for p in report.pages],
    )


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
