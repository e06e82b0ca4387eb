"""Traced outlines -> a complete, installable TTF / OTF / WOFF2 font, written atomically.

fontTools' FontBuilder assembles the tables; this module decides what goes in them: metrics from
the em box the glyphs were rendered in (so the font lays out like the bitmaps looked), names and
weight from the style, code page and Unicode range bits from the actual coverage.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.misc.timeTools import timestampNow
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.reverseContourPen import ReverseContourPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables.O_S_2f_2 import calcCodePageRanges

from zi2zi import __version__
from zi2zi.errors import ExportError
from zi2zi.export.glyphs import GlyphFolder, read_glyph_folder
from zi2zi.export.trace import Outline, TraceOptions, draw_outline, trace_files
from zi2zi.fonts.charsets import builtin_charset
from zi2zi.fonts.geometry import EmBox

FORMATS = {".ttf": "ttf", ".otf": "otf", ".woff2": "woff2"}
MAX_GLYPHS = 0xFFFF  # glyph ids are 16-bit

_WEIGHTS = {
    "thin": 100, "hairline": 100,
    "extralight": 200, "ultralight": 200,
    "light": 300,
    "regular": 400, "normal": 400, "book": 400, "roman": 400, "": 400,
    "medium": 500,
    "semibold": 600, "demibold": 600,
    "bold": 700,
    "extrabold": 800, "ultrabold": 800,
    "black": 900, "heavy": 900,
}
_WEIGHT_NAMES = {100: "Thin", 200: "ExtraLight", 300: "Light", 400: "Regular", 500: "Medium",
                 600: "SemiBold", 700: "Bold", 800: "ExtraBold", 900: "Black"}


@dataclass(frozen=True)
class FontNames:
    """Everything the name, OS/2 and head tables need to know about a family and style."""

    family: str
    style: str
    weight: int
    italic: bool

    @classmethod
    def parse(cls, family: str, style: str = "Regular") -> FontNames:
        family = " ".join(family.split())
        if not family:
            raise ExportError("the family name is empty; pass --family NAME")
        key = re.sub(r"[\s_-]+", "", style).casefold()
        italic = key.endswith(("italic", "oblique"))
        if italic:
            key = key.removesuffix("italic").removesuffix("oblique")
        if key not in _WEIGHTS:
            known = ", ".join(sorted({n for n in _WEIGHT_NAMES.values()}))
            raise ExportError(f"style {style!r} is unknown; use one of {known}, optionally + ' Italic'")
        weight = _WEIGHTS[key]
        words = [] if weight == 400 and italic else [_WEIGHT_NAMES[weight]]
        return cls(family, " ".join(words + (["Italic"] if italic else [])), weight, italic)

    @property
    def ribbi(self) -> bool:
        """Regular / Italic / Bold / Bold Italic: the four styles a legacy family name can hold."""
        return self.weight in (400, 700)

    @property
    def full_name(self) -> str:
        return self.family if self.style == "Regular" else f"{self.family} {self.style}"

    @property
    def postscript_name(self) -> str:
        """ASCII without spaces or PostScript delimiters, at most 63 characters."""
        family = re.sub(r"[^!-~]|[\[\](){}<>/%]", "", self.family)
        if family != self.family.replace(" ", ""):
            # Characters were dropped (e.g. a CJK family name): a short hash of the real name
            # keeps "测试 Kai" and "Kai" apart.
            family = (family or "zi2zi") + hashlib.sha1(self.family.encode("utf-8")).hexdigest()[:6]
        style = self.style.replace(" ", "")
        return f"{family[: 62 - len(style)]}-{style}"

    def name_records(self, version: str) -> dict[str, str]:
        records = {
            "familyName": self.family if self.ribbi else f"{self.family} {_WEIGHT_NAMES[self.weight]}",
            "styleName": self.style if self.ribbi else ("Italic" if self.italic else "Regular"),
            "uniqueFontIdentifier": f"{version};NONE;{self.postscript_name}",
            "fullName": self.full_name,
            "version": f"Version {version}",
            "psName": self.postscript_name,
            "description": f"Glyphs traced from bitmaps by zi2zi {__version__}",
        }
        if not self.ribbi:
            records["typographicFamily"] = self.family
            records["typographicSubfamily"] = self.style
        return records


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
    skipped: list[int] = field(default_factory=list)  # merge: code points the base already had
    warnings: list[str] = field(default_factory=list)

    @property
    def glyphs_per_second(self) -> float:
        total = self.trace_seconds + self.build_seconds
        return self.glyphs / total if total > 0 else float("inf")


def glyph_name(codepoint: int) -> str:
    """AGL-style production names: uniXXXX in the BMP, uXXXXX beyond."""
    return f"uni{codepoint:04X}" if codepoint <= 0xFFFF else f"u{codepoint:05X}"


def output_format(out: str | Path, overwrite: bool) -> str:
    """Check the output path before any work starts; return 'ttf', 'otf' or 'woff2'."""
    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ExportError(f"output {out} has an unknown extension; end it in {', '.join(FORMATS)}")
    if not out.parent.is_dir():
        raise ExportError(f"the folder of output {out} does not exist; create {out.parent} first")
    if out.is_dir():
        raise ExportError(f"output {out} is a folder; give a font file name such as {out / 'font.ttf'}")
    if out.exists() and not overwrite:
        raise ExportError(f"output {out} already exists; pass --overwrite to replace it")
    return fmt


def export_font(
    glyphs: str | Path | GlyphFolder,
    out: str | Path,
    *,
    family: str,
    style: str = "Regular",
    overwrite: bool = False,
    workers: int | None = None,
    options: TraceOptions = TraceOptions(),
) -> ExportResult:
    """Trace a glyph folder and write a new font with one glyph per image."""
    names = FontNames.parse(family, style)
    fmt = output_format(out, overwrite)
    folder = glyphs if isinstance(glyphs, GlyphFolder) else read_glyph_folder(glyphs)
    if len(folder.files) + 1 > MAX_GLYPHS:
        raise ExportError(f"{folder.root} holds {len(folder.files)} glyphs; a font holds at most {MAX_GLYPHS - 1}")
    start = time.perf_counter()
    outlines, used = trace_files(
        folder.files, folder.embox, folder.advance, quadratic=fmt != "otf", options=options, workers=workers
    )
    traced = time.perf_counter()
    font = build_font(outlines, embox=folder.embox, advance=folder.advance, names=names, cff=fmt == "otf")
    save_font(font, out, flavor="woff2" if fmt == "woff2" else None)
    return ExportResult(
        path=Path(out),
        format=fmt,
        glyphs=len(outlines),
        workers=used,
        trace_seconds=traced - start,
        build_seconds=time.perf_counter() - traced,
        codepoints=sorted(outlines),
        warnings=list(folder.warnings),
    )


def build_font(
    outlines: dict[int, Outline],
    *,
    embox: EmBox,
    advance: int,
    names: FontNames,
    cff: bool,
    version: str = "1.000",
) -> TTFont:
    """A font with .notdef plus one glyph per code point; outlines must already be in the
    matching curve type (quadratic for glyf, cubic for CFF), as `trace_bitmap` makes them."""
    codepoints = sorted(outlines)
    order = [".notdef"] + [glyph_name(cp) for cp in codepoints]
    shapes = {".notdef": notdef_outline(embox, advance, quadratic=not cff)}
    shapes.update((glyph_name(cp), outlines[cp]) for cp in codepoints)

    fb = FontBuilder(embox.units_per_em, isTTF=not cff)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({cp: glyph_name(cp) for cp in codepoints})
    if cff:
        charstrings = {name: cff_charstring(shape, advance, None) for name, shape in shapes.items()}
        fb.setupCFF(
            names.postscript_name,
            {"FullName": names.full_name, "FamilyName": names.family, "Weight": _WEIGHT_NAMES[names.weight]},
            charstrings,
            {"defaultWidthX": advance, "nominalWidthX": advance},
        )
        lsb = {name: _x_min(shape) for name, shape in shapes.items()}
    else:
        fb.setupGlyf({name: tt_glyph(shape) for name, shape in shapes.items()})
        glyf = fb.font["glyf"]
        lsb = {name: getattr(glyf[name], "xMin", 0) for name in order}
    fb.setupHorizontalMetrics({name: (advance, lsb[name]) for name in order})
    fb.setupHorizontalHeader(ascent=embox.ascender, descent=embox.descender, lineGap=0)
    fb.setupNameTable(names.name_records(version), mac=False)

    y_min, y_max = _y_extent(shapes.values(), embox)
    fb.setupOS2(
        version=4,
        usWeightClass=names.weight,
        fsType=0,  # installable: the font maker owns these glyphs
        achVendID="NONE",
        fsSelection=_fs_selection(names),
        sTypoAscender=embox.ascender,
        sTypoDescender=embox.descender,
        sTypoLineGap=0,
        usWinAscent=max(embox.ascender, y_max),
        usWinDescent=max(-embox.descender, -y_min),
        sxHeight=0,
        sCapHeight=0,
        usDefaultChar=0,
        usBreakChar=0x20 if 0x20 in outlines else 0x3000 if 0x3000 in outlines else 0,
        usMaxContext=0,
    )
    fb.font["OS/2"].setCodePageRanges(code_page_bits(codepoints))
    fb.setupPost(isFixedPitch=0, underlinePosition=-embox.units_per_em // 10, underlineThickness=embox.units_per_em // 20)
    now = timestampNow()
    fb.updateHead(
        fontRevision=float(version),
        created=now,
        modified=now,
        macStyle=(1 if names.weight == 700 else 0) | (2 if names.italic else 0),
    )
    return fb.font


def code_page_bits(codepoints) -> set[int]:
    """OS/2 ulCodePageRange bits. fontTools' test marks a CJK code page only when one sentinel
    character (e.g. bopomofo) is present, which a hanzi-only font lacks; here a CJK code page is
    claimed when the font covers at least half of that standard's core set."""
    unicodes = set(codepoints)
    bits = calcCodePageRanges(unicodes)
    for bit, charset in _CJK_CODE_PAGES.items():
        core = {ord(c) for c in charset()}
        if len(core & unicodes) * 2 >= len(core):
            bits.add(bit)
    return bits or {0}  # Latin 1 when nothing applies: MS Word ignores fonts with no bit set


@cache
def _ksx1001_hangul() -> tuple[str, ...]:
    decoded = (
        bytes((lead, trail)).decode("euc_kr", "ignore") for lead in range(0xB0, 0xC9) for trail in range(0xA1, 0xFF)
    )
    return tuple(c for c in decoded if len(c) == 1 and 0xAC00 <= ord(c) <= 0xD7A3)


_CJK_CODE_PAGES = {
    17: lambda: builtin_charset("jis0208"),  # JIS / Japan
    18: lambda: builtin_charset("gb2312-1"),  # Chinese, simplified (GB 2312)
    19: _ksx1001_hangul,  # Korean Wansung
    20: lambda: builtin_charset("big5-1"),  # Chinese, traditional (Big5)
}


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


def save_font(font: TTFont, out: str | Path, *, flavor: str | None = None) -> None:
    """Write via a temporary file in the output folder, so no half-written font is ever left."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        font.flavor = flavor
        font.save(str(tmp))
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _x_min(outline: Outline) -> int:
    pen = BoundsPen(None)
    draw_outline(outline, pen)
    return int(pen.bounds[0]) if pen.bounds else 0


def _y_extent(outlines, embox: EmBox) -> tuple[int, int]:
    y_min, y_max = embox.descender, embox.ascender
    for outline in outlines:
        for _, operands in outline:
            for point in operands:
                if point is not None:
                    y_min, y_max = min(y_min, point[1]), max(y_max, point[1])
    return int(y_min), int(y_max)


def _fs_selection(names: FontNames) -> int:
    bits = 1 << 7  # USE_TYPO_METRICS: line spacing from the em box, not from the tallest glyph
    if names.italic:
        bits |= 1 << 0
    if names.weight == 700:
        bits |= 1 << 5
    if names.weight == 400 and not names.italic:
        bits |= 1 << 6
    return bits
