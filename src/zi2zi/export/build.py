"""Traced outlines -> a complete, installable TTF / OTF / WOFF2 font, written atomically.

fontTools' FontBuilder assembles the tables; this module decides what goes in them: metrics from
the em box the glyphs were rendered in by the CJK convention (`metrics`), names from `names`,
code page and Unicode range bits from the actual coverage (`coverage`), the whitespace every font
needs (space, no-break space, ideographic space), gasp, and for CFF a VORG table and
subroutinised charstrings. Latin and digits get their own widths (`widths`); punctuation or Latin
may be taken unchanged from another font, its licence recorded (`borrow`); a folder's variants
become alternates that cycle in running text (`alternates`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.misc.timeTools import timestampNow
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.reverseContourPen import ReverseContourPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables import ttProgram

from zi2zi.data.glyphfolder import GlyphFolder, read_glyph_folder
from zi2zi.errors import ExportError
from zi2zi.export.alternates import add_alternates, alternate_name
from zi2zi.export.borrow import Borrowed, TakeGlyphs, borrow_glyphs
from zi2zi.export.coverage import set_coverage_bits
from zi2zi.export.names import VENDOR_ID, WEIGHT_NAMES, FontInfo, FontNames
from zi2zi.export.trace import Outline, TraceOptions, draw_outline, trace_files
from zi2zi.export.vertical import (
    MetricsOptions,
    VerticalMetrics,
    add_base_table,
    vertical_glyph_metrics,
    vertical_metrics,
)
from zi2zi.export.widths import set_widths
from zi2zi.fonts.geometry import EmBox

FORMATS = {".ttf": "ttf", ".otf": "otf", ".woff2": "woff2"}
MAX_GLYPHS = 0xFFFF  # glyph ids are 16-bit

# Whitespace every font needs: code point -> (glyph name, advance in em). The space is half an
# em, the width of half-width forms, so the font is "dual width" (fontconfig), a fixed-pitch
# CJK font like MS Gothic; no-break space shares its glyph (one width, one glyph), and the
# ideographic space is a full em.
WHITESPACE = {0x20: ("space", 0.5), 0xA0: ("space", 0.5), 0x3000: ("uni3000", 1.0)}


@dataclass
class ExportResult:
    """What an export or merge wrote, for the CLI to report."""

    path: Path
    format: str
    glyphs: int  # glyphs traced from images and written (not counting .notdef or base glyphs)
    workers: int
    trace_seconds: float
    build_seconds: float
    codepoints: list[int] = field(default_factory=list)  # the code points written from images
    alternates: int = 0  # variant glyphs written as alternates (see zi2zi.export.alternates)
    borrowed: list[int] = field(default_factory=list)  # code points taken unchanged from another font
    skipped: list[int] = field(default_factory=list)  # merge: code points the base already had
    warnings: list[str] = field(default_factory=list)
    embox: EmBox | None = None  # the box the glyphs were traced in: check_font renders in it

    @property
    def glyphs_per_second(self) -> float:
        total = self.trace_seconds + self.build_seconds
        return self.glyphs / total if total > 0 else float("inf")


def glyph_name(codepoint: int) -> str:
    """AGL-style production names: uniXXXX in the BMP, uXXXXX beyond."""
    return f"uni{codepoint:04X}" if codepoint <= 0xFFFF else f"u{codepoint:05X}"


def output_format(out: str | Path, overwrite: bool) -> str:
    """Check the output path before any work starts; return 'ttf', 'otf' or 'woff2'."""
    from zi2zi.storage.outputs import check_output

    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ExportError(f"output {out} has an unknown extension; end it in {', '.join(FORMATS)}")
    if out.is_dir():
        raise ExportError(f"output {out} is a folder; give a font file name such as {out / 'font.ttf'}")
    check_output(out, overwrite=overwrite, error=ExportError)
    return fmt


def export_font(
    glyphs: str | Path | GlyphFolder,
    out: str | Path,
    *,
    family: str,
    style: str = "Regular",
    info: FontInfo = FontInfo(),
    metrics: MetricsOptions = MetricsOptions(),
    overwrite: bool = False,
    workers: int | None = None,
    options: TraceOptions = TraceOptions(),
    take: Sequence[TakeGlyphs] = (),
    progress: Callable[[int, int], None] | None = None,
    variants: bool = True,
) -> ExportResult:
    """Trace a glyph folder and write a new font with one glyph per image.

    ``take``: glyph groups copied unchanged from other fonts (they replace traced ones of the same
    characters; the donors' licences go into the name table). ``progress(done, total)`` is called
    as glyphs are traced. ``variants``: the folder's variant glyphs become alternates that cycle
    in running text (:mod:`zi2zi.export.alternates`); False leaves them out.
    """
    names = FontNames.parse(family, style)
    fmt = output_format(out, overwrite)
    folder = glyphs if isinstance(glyphs, GlyphFolder) else read_glyph_folder(glyphs)
    start = time.perf_counter()
    quadratic = fmt != "otf"
    borrowed = borrow_glyphs(take, units_per_em=folder.embox.units_per_em, quadratic=quadratic,
                             ideographic_bottom=vertical_metrics(folder.embox, (0, 0), metrics).bottom)
    files = {cp: path for cp, path in folder.files.items() if cp not in borrowed.outlines}
    # Variants of the characters traced here (a borrowed glyph has no variants).
    variant_paths = [(cp, path) for cp, paths in folder.variants.items() if cp in files for path in paths] \
        if variants else []
    # Counted before any tracing: a font holds at most MAX_GLYPHS glyphs, alternates included.
    if len(files) + len(variant_paths) + len(borrowed.outlines) + 1 + len(WHITESPACE) > MAX_GLYPHS:
        held = f"{len(folder.files)} glyphs" + (f" and {len(variant_paths)} variants" if variant_paths else "")
        raise ExportError(f"{folder.root} holds {held}; a font holds at most {MAX_GLYPHS - 4} glyphs in all"
                          + ("; export without variants (--no-variants)" if variant_paths else ""))
    outlines, used = trace_files(
        files, folder.embox, folder.advance, quadratic=quadratic, options=options, workers=workers, progress=progress
    )
    traced_variants, _ = trace_files({i: path for i, (_, path) in enumerate(variant_paths)}, folder.embox,
                                     folder.advance, quadratic=quadratic, options=options, workers=workers)
    traced = time.perf_counter()
    outlines, advances = set_widths(outlines, folder.advance, folder.embox.units_per_em)
    alternates: dict[int, list[tuple[Outline, int]]] = {}
    for i, (cp, _) in enumerate(variant_paths):  # a Latin variant gets its own width, as its letter does
        placed, width = set_widths({cp: traced_variants[i]}, folder.advance, folder.embox.units_per_em)
        alternates.setdefault(cp, []).append((placed[cp], width[cp]))
    outlines.update(borrowed.outlines)
    advances.update(borrowed.advances)
    font = build_font(
        outlines, embox=folder.embox, advance=folder.advance, names=names, cff=fmt == "otf",
        info=credited(info, borrowed), metrics=metrics, advances=advances, alternates=alternates,
    )
    save_font(font, out, flavor="woff2" if fmt == "woff2" else None, overwrite=overwrite)
    return ExportResult(
        path=Path(out),
        format=fmt,
        glyphs=len(outlines) - len(borrowed.outlines),
        workers=used,
        trace_seconds=traced - start,
        build_seconds=time.perf_counter() - traced,
        codepoints=sorted(set(outlines) - set(borrowed.outlines)),
        borrowed=sorted(borrowed.outlines),
        warnings=list(folder.warnings),
        embox=folder.embox,
        alternates=sum(len(a) for a in alternates.values()),
    )


def credited(info: FontInfo, borrowed: Borrowed) -> FontInfo:
    """``info`` with the donors of borrowed glyphs named after its copyright and licence."""
    if not borrowed.credits:
        return info
    lines = "\n".join(borrowed.credits)
    return replace(
        info,
        copyright="\n".join(filter(None, [info.copyright, lines])),
        license="\n".join(filter(None, [info.license, lines])),
        license_url=info.license_url or (borrowed.urls[0] if borrowed.urls else None),
    )


def build_font(
    outlines: dict[int, Outline],
    *,
    embox: EmBox,
    advance: int,
    names: FontNames,
    cff: bool,
    info: FontInfo = FontInfo(),
    metrics: MetricsOptions = MetricsOptions(),
    advances: dict[int, int] | None = None,
    alternates: dict[int, list[tuple[Outline, int]]] | None = None,
) -> TTFont:
    """A font with .notdef, the whitespace glyphs and one glyph per code point; outlines must
    already be in the matching curve type (quadratic for glyf, cubic for CFF), as
    `trace_bitmap` makes them. An image of a whitespace character replaces the built-in glyph.
    ``advances``: widths of single code points; the rest get ``advance``. ``alternates``: more
    glyphs of a code point (outline, advance), reached by GSUB (:mod:`zi2zi.export.alternates`)."""
    upm = embox.units_per_em
    names_by_cp = {cp: glyph_name(cp) for cp in outlines}
    widths = {glyph_name(cp): (advances or {}).get(cp, advance) for cp in outlines}
    shapes: dict[str, Outline] = {".notdef": notdef_outline(embox, advance, quadratic=not cff)}
    widths[".notdef"] = advance
    for cp, (name, em) in WHITESPACE.items():
        if cp not in outlines:
            names_by_cp[cp] = name
            shapes[name] = []
            widths[name] = round(em * upm)
    shapes.update((glyph_name(cp), outlines[cp]) for cp in outlines)
    order = [".notdef"] + list(dict.fromkeys(names_by_cp[cp] for cp in sorted(names_by_cp)))
    alternate_names: dict[str, list[str]] = {}
    for cp, alts in sorted((alternates or {}).items()):
        if cp not in outlines:
            continue
        base = glyph_name(cp)
        alternate_names[base] = [alternate_name(base, n) for n in range(1, len(alts) + 1)]
        for name, (outline, width) in zip(alternate_names[base], alts):
            shapes[name], widths[name] = outline, width
            order.append(name)
    bounds = {name: _bounds(shapes[name]) for name in order}
    y_extent = (
        min([b[1] for b in bounds.values() if b] + [embox.descender]),
        max([b[3] for b in bounds.values() if b] + [embox.ascender]),
    )
    vm = vertical_metrics(embox, y_extent, metrics)

    fb = FontBuilder(upm, isTTF=not cff)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap(names_by_cp)
    if cff:
        charstrings = {name: cff_charstring(shapes[name], widths[name], None if widths[name] == advance else widths[name]) for name in order}
        fb.setupCFF(
            names.postscript_name,
            # CFF strings are ASCII: a CJK family name lives in the name table only.
            {"FullName": names.ascii_full_name, "FamilyName": names.ascii_family, "Weight": WEIGHT_NAMES[names.weight]},
            charstrings,
            {"defaultWidthX": advance, "nominalWidthX": 0},
        )
    else:
        fb.setupGlyf({name: tt_glyph(shapes[name]) for name in order})
        # TrueType rasterisers place a glyph by its header box (the control points' box), which
        # can reach past the ink: side bearings must be measured from that box, not the ink's.
        glyf = fb.font["glyf"]
        bounds = {
            name: (glyf[name].xMin, glyf[name].yMin, glyf[name].xMax, glyf[name].yMax) if bounds[name] else None
            for name in order
        }
    lsb = {name: box[0] if (box := bounds[name]) else 0 for name in order}
    fb.setupHorizontalMetrics({name: (widths[name], lsb[name]) for name in order})
    fb.setupHorizontalHeader(ascent=vm.ascent, descent=vm.descent, lineGap=0)
    fb.setupNameTable(names.name_records(info), mac=False)
    # Fixed pitch: every glyph is one em or (whitespace) half an em, what fontconfig calls dual
    # spacing and fontbakery "monospaced"; PANOSE says the same. Proportional Latin ends that.
    fixed_pitch = len(set(widths.values())) <= 2
    fb.setupOS2(**_os2_fields(names, vm, embox, codepoints=names_by_cp, fixed_pitch=fixed_pitch))
    fb.setupPost(
        isFixedPitch=int(fixed_pitch),
        underlinePosition=vm.bottom - upm // 20,
        underlineThickness=upm // 20,
    )
    # Vertical text: one em per glyph down the column, hung from the top of the em box.
    fb.setupVerticalHeader(ascent=advance // 2, descent=-(advance - advance // 2), lineGap=0)
    fb.setupVerticalMetrics(vertical_glyph_metrics(bounds, vm.top, upm))
    if cff:
        fb.setupVerticalOrigins({}, defaultVerticalOrigin=vm.top)
    if not cff:
        _add_dropout_control(fb.font)
    gasp = newTable("gasp")
    gasp.version = 1
    gasp.gaspRange = {0xFFFF: 0x000F}  # unhinted outlines: smooth, symmetric rendering at every size
    fb.font["gasp"] = gasp
    add_base_table(fb.font, vm, advance)
    add_alternates(fb.font, alternate_names)
    now = timestampNow()
    fb.updateHead(
        fontRevision=float(info.version),
        created=now,
        modified=now,
        macStyle=(1 if names.weight == 700 else 0) | (2 if names.italic else 0),
    )
    set_coverage_bits(fb.font)
    if cff:
        _subroutinise(fb.font)
    return fb.font


def _add_dropout_control(font: TTFont) -> None:
    """A prep program that turns on smart dropout control, so thin strokes of unhinted glyphs do
    not vanish at small sizes under TrueType rasterisers (fontbakery's smart_dropout)."""
    prep = newTable("prep")
    prep.program = ttProgram.Program()
    prep.program.fromAssembly(["PUSHW[ ]", "511", "SCANCTRL[ ]", "PUSHB[ ]", "4", "SCANTYPE[ ]"])
    font["prep"] = prep
    maxp = font["maxp"]
    maxp.maxStackElements = max(maxp.maxStackElements, 1)


def _os2_fields(names: FontNames, vm: VerticalMetrics, embox: EmBox, codepoints, fixed_pitch: bool = True) -> dict:
    upm = vm.units_per_em
    script_size = round(0.65 * upm)  # the usual sub / superscript size (fontmake's default)
    return dict(
        version=4,
        usWeightClass=names.weight,
        fsType=0,  # installable: the font maker owns these glyphs
        achVendID=VENDOR_ID,
        fsSelection=_fs_selection(names, vm.use_typo_metrics),
        sTypoAscender=vm.top,
        sTypoDescender=vm.bottom,
        sTypoLineGap=0,
        usWinAscent=vm.ascent,
        usWinDescent=-vm.descent,
        ySubscriptXSize=script_size,
        ySubscriptYSize=script_size,
        ySubscriptXOffset=0,
        ySubscriptYOffset=round(0.075 * upm),
        ySuperscriptXSize=script_size,
        ySuperscriptYSize=script_size,
        ySuperscriptXOffset=0,
        ySuperscriptYOffset=round(0.35 * upm),
        # Strike through the middle of the ideographic em box, one underline thick.
        yStrikeoutSize=upm // 20,
        yStrikeoutPosition=round((vm.top + vm.bottom) / 2.0 + upm / 40.0),
        sxHeight=0,
        sCapHeight=0,
        usDefaultChar=0,
        usBreakChar=0x20,
        usMaxContext=0,
        # Latin text family; monospaced proportion when the post table says fixed pitch.
        panose=_panose(fixed_pitch),
    )


def _panose(fixed_pitch: bool):
    from fontTools.ttLib.tables.O_S_2f_2 import Panose

    panose = Panose()
    panose.bFamilyType = 2
    panose.bProportion = 9 if fixed_pitch else 0  # 0: any proportion
    return panose


def _subroutinise(font: TTFont) -> None:
    """Shared pieces of charstrings become subroutines (AFDKO's tx via cffsubr): CJK strokes
    repeat, and a subroutinised CFF is what font tools and foundries ship."""
    import cffsubr

    try:
        cffsubr.subroutinize(font)
    except Exception as exc:  # cffsubr runs an external binary; say what failed, keep no half font
        raise ExportError(f"subroutinising the CFF table failed ({exc}); export as .ttf instead") from None


def tt_glyph(outline: Outline):
    pen = TTGlyphPen(None)
    draw_outline(outline, pen)
    return pen.glyph()


def cff_charstring(outline: Outline, advance: int, width: int | None, private=None, global_subrs=None):
    """`width` is what the charstring encodes: None for the private dict's defaultWidthX,
    else advance - nominalWidthX."""
    pen = T2CharStringPen(width, None)
    draw_outline(outline, pen)
    return pen.getCharString(private=private, globalSubrs=global_subrs)


def notdef_outline(embox: EmBox, advance: int, *, quadratic: bool) -> Outline:
    """A hollow box inside the em box: the glyph shown for characters the font lacks."""
    from fontTools.pens.recordingPen import RecordingPen

    upm = embox.units_per_em
    pad, stroke = upm // 20, upm // 20
    x0, x1 = pad, max(advance - pad, pad + 3 * stroke)
    y0, y1 = max(embox.descender, -upm) + pad, min(embox.ascender, upm) - pad
    recording = RecordingPen()
    pen = ReverseContourPen(recording) if quadratic else recording  # TrueType: clockwise outside
    for (ax, ay, bx, by), outer in (((x0, y0, x1, y1), True), ((x0 + stroke, y0 + stroke, x1 - stroke, y1 - stroke), False)):
        corners = [(ax, ay), (bx, ay), (bx, by), (ax, by)]  # counter-clockwise
        if not outer:
            corners.reverse()
        pen.moveTo(corners[0])
        for point in corners[1:]:
            pen.lineTo(point)
        pen.closePath()
    return recording.value


def save_font(font: TTFont, out: str | Path, *, flavor: str | None = None, overwrite: bool = False) -> None:
    """Write via a temporary file in the output folder, so no half-written font is ever left; an
    existing file is replaced only with ``overwrite`` (:mod:`zi2zi.storage.outputs`)."""
    from zi2zi.storage.outputs import output_path

    font.flavor = flavor
    with output_path(out, overwrite=overwrite, error=ExportError) as tmp:
        font.save(str(tmp))


def _bounds(outline: Outline) -> tuple[int, int, int, int] | None:
    pen = BoundsPen(None)
    draw_outline(outline, pen)
    if pen.bounds is None:
        return None
    x_min, y_min, x_max, y_max = pen.bounds
    return round(x_min), round(y_min), round(x_max), round(y_max)


def _fs_selection(names: FontNames, use_typo_metrics: bool) -> int:
    # USE_TYPO_METRICS off by the CJK convention: apps then set lines by hhea / win (1.3 em).
    bits = 1 << 7 if use_typo_metrics else 0
    if names.italic:
        bits |= 1 << 0
    if names.weight == 700:
        bits |= 1 << 5
    if names.weight == 400 and not names.italic:
        bits |= 1 << 6
    return bits
