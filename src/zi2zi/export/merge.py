"""Fill the gaps of an existing font: add only the characters it lacks, touch nothing it has.

New glyphs go at the end of the glyph order, so every existing glyph id (and with it GSUB, GPOS,
GDEF, bitmap strikes and anything else that points at glyph ids) stays valid as it is; only a
zi2zi hand's own GSUB, its alternates, is rebuilt to look across the new glyphs
(:func:`zi2zi.export.alternates.refresh_alternates`). They are
traced in the base font's own em box, so they come out at the size and height of its glyphs.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path

from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

from zi2zi import __version__
from zi2zi.data.glyphfolder import GlyphFolder, read_glyph_folder
from zi2zi.errors import ExportError, FontError
from zi2zi.export.alternates import refresh_alternates
from zi2zi.export.build import (
    MAX_GLYPHS,
    ExportResult,
    cff_charstring,
    glyph_name,
    output_format,
    save_font,
    tt_glyph,
)
from zi2zi.export.names import VENDOR_ID, FontNames, without_controls
from zi2zi.export.trace import Outline, TraceOptions, draw_outline, trace_files
from zi2zi.export.widths import set_widths
from zi2zi.fonts import EmBox, FontFile, open_font


def merge_into_font(
    glyphs: str | Path | GlyphFolder,
    base: str | Path,
    out: str | Path,
    *,
    face: int | str = 0,
    family: str | None = None,
    keep_names: bool = False,
    overwrite: bool = False,
    workers: int | None = None,
    options: TraceOptions = TraceOptions(),
) -> ExportResult:
    """Write `base` plus traced glyphs for the folder's characters that `base` has no cmap entry for.

    The result is a different font from the base, so by default it gets its own family name
    (`family`, default the base's + " zi2zi"), version and unique ID, and installs beside the
    original instead of clashing with it; `keep_names` keeps the base's names as they are.

    Raises ExportError when the base already has every character (nothing would change), when
    its outlines are of a kind this cannot extend (CFF2, variable fonts), or when the output
    extension does not fit its outline format.
    """
    fmt = output_format(out, overwrite)
    folder = glyphs if isinstance(glyphs, GlyphFolder) else read_glyph_folder(glyphs)
    info = open_font(base, face)
    font = _open_base(info)
    if "cmap" not in font:  # no character map: nothing says which characters it has
        raise ExportError(f"--merge-into {info.path} has no cmap table (no character map); merge into a complete font")
    cff = _outline_kind(font, info, fmt)

    missing = [cp for cp in folder.codepoints if cp not in info.coverage]
    skipped = [cp for cp in folder.codepoints if cp in info.coverage]
    if not missing:
        raise ExportError(
            f"{info.path} already has all {len(skipped)} characters of {folder.root}; nothing to merge "
            f"and no file written (export them as a new font by leaving out --merge-into)"
        )
    if len(font.getGlyphOrder()) + len(missing) > MAX_GLYPHS:
        raise ExportError(
            f"{info.path} has {len(font.getGlyphOrder())} glyphs; adding {len(missing)} would pass the "
            f"limit of {MAX_GLYPHS}: merge fewer characters"
        )

    # The base's em box, not the folder's: new glyphs must match the size of the base's glyphs.
    embox = _base_glyph_box(font, info, folder.embox)
    advance = info.units_per_em  # ideographs and CJK punctuation are full-width
    warnings = list(folder.warnings)
    if not _same_proportions(folder.embox, embox):
        warnings.append(
            f"the glyphs were rendered in another em box (ascender {folder.embox.ascender}, descender "
            f"{folder.embox.descender} of {folder.embox.units_per_em}) than the base's ({embox.ascender}, "
            f"{embox.descender} of {embox.units_per_em}); they are placed in the base's em box"
        )

    start = time.perf_counter()
    files = {cp: folder.files[cp] for cp in missing}
    outlines, used = trace_files(files, embox, advance, quadratic=not cff, options=options, workers=workers)
    traced = time.perf_counter()
    # Latin letters and digits get widths from their ink, as in a font exported from a folder.
    outlines, advances = set_widths(outlines, advance, info.units_per_em)
    warnings += add_glyphs(font, outlines, advances=advances, cff=cff, vertical_origin=_vertical_origin(font, info))
    # A hand's font made by zi2zi: its alternates' cycle now looks across the new glyphs too.
    refresh_alternates(font)
    if any(cp in folder.variants for cp in missing):
        warnings.append("the folder's variant glyphs are not merged (only a new font gets alternates); "
                        "export the folder as a new font to keep them")
    if not keep_names:
        rename_font(font, family)
    save_font(font, out, flavor="woff2" if fmt == "woff2" else None, overwrite=overwrite)
    return ExportResult(
        path=Path(out),
        format=fmt,
        glyphs=len(outlines),
        workers=used,
        trace_seconds=traced - start,
        build_seconds=time.perf_counter() - traced,
        codepoints=sorted(outlines),
        skipped=skipped,
        warnings=warnings,
        embox=embox,
    )


def add_glyphs(
    font: TTFont, outlines: dict[int, Outline], *, advances: dict[int, int], cff: bool, vertical_origin: float
) -> list[str]:
    """Append one glyph per code point to `font`, ``advances[cp]`` wide, and map it; returns warnings.

    Outlines must be in the font's curve type. Existing glyphs, metrics and mappings are kept
    byte for byte: the font is expected to be opened with ``recalcBBoxes=False`` (as
    `merge_into_font` does), and the summary values that new glyphs can change (head and CFF
    bounding boxes, maxp maxima, hhea / vhea extremes) are widened here instead of recomputed.
    """
    warnings: list[str] = []
    order = list(font.getGlyphOrder())
    cid_keyed = cff and hasattr(_cff_top(font), "ROS")
    names = _new_names(order, sorted(outlines), cid_keyed=cid_keyed, font=font)
    new = {names[cp]: outlines[cp] for cp in sorted(outlines)}
    widths = {names[cp]: advances[cp] for cp in outlines}
    new_order = order + list(new)
    bounds = {name: _bounds(outline) for name, outline in new.items()}  # None for empty glyphs

    if cff:
        _add_charstrings(font, new, widths)
    else:
        _add_glyf(font, new)
    font.setGlyphOrder(new_order)
    if not cff:
        font["glyf"].glyphOrder = new_order
    font["maxp"].numGlyphs = len(new_order)

    hmtx = font["hmtx"]
    for name in new:
        hmtx[name] = (widths[name], box[0] if (box := bounds[name]) else 0)
    if "vmtx" in font:
        _add_vertical_metrics(font, bounds, vertical_origin)
    if "hdmx" in font:  # per-size device widths: unhinted glyphs scale linearly
        upm = font["head"].unitsPerEm
        for ppem, device_widths in font["hdmx"].hdmx.items():
            for name in new:
                device_widths[name] = min(255, round(widths[name] * ppem / upm))
    if "LTSH" in font:
        for name in new:
            font["LTSH"].yPels[name] = 1  # 1: scales linearly at every size
    if "DSIG" in font:
        del font["DSIG"]
        warnings.append("dropped the base font's DSIG table: a digital signature cannot survive new glyphs")
    _widen_summaries(font, bounds, widths, cff)

    _add_to_cmap(font, {cp: names[cp] for cp in outlines})
    if "OS/2" in font:
        _extend_os2(font)
    return warnings


def _bounds(outline: Outline) -> tuple[int, int, int, int] | None:
    pen = BoundsPen(None)
    draw_outline(outline, pen)
    if pen.bounds is None:
        return None
    x0, y0, x1, y1 = pen.bounds
    return math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)


def _widen_summaries(font: TTFont, bounds: dict[str, tuple[int, int, int, int] | None], widths: dict[str, int],
                     cff: bool) -> None:
    boxes = [b for b in bounds.values() if b is not None]
    hhea = font["hhea"]
    hhea.advanceWidthMax = max([hhea.advanceWidthMax, *widths.values()])
    if not boxes:
        return
    head = font["head"]
    head.xMin = min([head.xMin] + [b[0] for b in boxes])
    head.yMin = min([head.yMin] + [b[1] for b in boxes])
    head.xMax = max([head.xMax] + [b[2] for b in boxes])
    head.yMax = max([head.yMax] + [b[3] for b in boxes])
    if cff:
        top = _cff_top(font)
        x0, y0, x1, y1 = getattr(top, "FontBBox", None) or (0, 0, 0, 0)
        top.FontBBox = [min(x0, head.xMin), min(y0, head.yMin), max(x1, head.xMax), max(y1, head.yMax)]
    else:
        maxp = font["maxp"]
        glyf = font["glyf"]
        if maxp.tableVersion == 0x00010000:
            for name, box in bounds.items():
                glyph = glyf.glyphs[name]
                if box is not None:
                    maxp.maxPoints = max(maxp.maxPoints, len(glyph.coordinates))
                    maxp.maxContours = max(maxp.maxContours, glyph.numberOfContours)
    hhea.minLeftSideBearing = min([hhea.minLeftSideBearing] + [b[0] for b in boxes])
    hhea.minRightSideBearing = min([hhea.minRightSideBearing]
                                   + [widths[name] - b[2] for name, b in bounds.items() if b is not None])
    hhea.xMaxExtent = max([hhea.xMaxExtent] + [b[2] for b in boxes])  # lsb + width = xMax


def _base_glyph_box(font: TTFont, info: FontFile, drawn: EmBox) -> EmBox:
    """The em box the base's glyphs are drawn in, at the folder's size: the renderer's (hhea)
    box, except when the base's OS/2 typo box is exactly the box the folder was drawn in and the
    hhea box is another. That is a font zi2zi exported from a glyph folder (a hand's font): it
    traced its glyphs in that box and widened hhea for line spacing only, so placing new glyphs in
    the hhea box would draw them 1.3 times the size of the written ones."""
    box = info.embox(drawn.size, drawn.margin)
    os2 = font["OS/2"] if "OS/2" in font else None
    if os2 is None:
        return box
    typo = EmBox(info.units_per_em, int(os2.sTypoAscender), int(os2.sTypoDescender), drawn.size, drawn.margin)
    if _same_proportions(typo, drawn) and not _same_proportions(typo, box):
        return typo
    return box


def _same_proportions(a: EmBox, b: EmBox) -> bool:
    return all(
        abs(x / a.units_per_em - y / b.units_per_em) < 0.005
        for x, y in ((a.ascender, b.ascender), (a.descender, b.descender))
    )


def _open_base(info: FontFile) -> TTFont:
    with open(info.path, "rb") as fh:
        collection = fh.read(4) == b"ttcf"
    try:
        # recalcBBoxes=False: base glyphs are written back as the very bytes they were read as
        # (and a 30 000-glyph font saves in a second, not twenty).
        font = TTFont(str(info.path), fontNumber=info.face_index if collection else -1, recalcBBoxes=False)
        for tag in font.keys():  # read every table while the glyph count is still the base's
            font[tag]
        return font
    except Exception as exc:  # fontTools raises many kinds for damaged files
        raise FontError(f"{info.path} (face {info.face_index}) cannot be read for merging: {exc}") from None


def _outline_kind(font: TTFont, info: FontFile, fmt: str) -> bool:
    """True for CFF outlines, False for glyf; refuse what cannot be extended safely."""
    where = f"{info.path} (face {info.face_index})"
    if "fvar" in font:
        raise ExportError(
            f"{where} is a variable font; new glyphs would need variation data. Make a static instance "
            f"first (fonttools varLib.instancer) and merge into that"
        )
    if "glyf" in font:
        cff = False
    elif "CFF " in font:
        cff = True
    elif "CFF2" in font:
        raise ExportError(f"{where} has CFF2 outlines, which zi2zi cannot extend; convert it to CFF or TrueType first")
    else:
        raise ExportError(f"{where} has no outline table (glyf or CFF); merge into an outline font")
    if fmt == "ttf" and cff:
        raise ExportError(f"{where} has CFF (PostScript) outlines; write the merged font as .otf or .woff2")
    if fmt == "otf" and not cff:
        raise ExportError(f"{where} has TrueType outlines; write the merged font as .ttf or .woff2")
    if cff and len(_cff(font).topDictIndex) != 1:
        raise ExportError(f"{where} holds several CFF fonts in one table; zi2zi can merge into one only")
    return cff


def _cff(font: TTFont):
    return font["CFF "].cff


def _cff_top(font: TTFont):
    return _cff(font).topDictIndex[0]


def _new_names(order: list[str], codepoints: list[int], *, cid_keyed: bool, font: TTFont) -> dict[int, str]:
    taken = set(order)
    if cid_keyed:
        # CID-keyed CFF names glyphs by CID: hand out CIDs after the highest one in use.
        top = _cff_top(font)
        next_cid = 1 + max((int(name[3:]) for name in order if name.startswith("cid") and name[3:].isdigit()), default=0)
        next_cid = max(next_cid, int(getattr(top, "CIDCount", 0)))
        names = {cp: f"cid{next_cid + i:05d}" for i, cp in enumerate(codepoints)}
        top.CIDCount = next_cid + len(codepoints)
        return names
    names = {}
    for cp in codepoints:
        name, n = glyph_name(cp), 1
        while name in taken:  # an unmapped glyph may already use the production name
            name, n = f"{glyph_name(cp)}.zi2zi{n}", n + 1
        taken.add(name)
        names[cp] = name
    return names


def _add_glyf(font: TTFont, new: dict[str, Outline]) -> None:
    glyf = font["glyf"]
    for name, outline in new.items():
        glyph = tt_glyph(outline)
        glyph.recalcBounds(glyf)
        glyf.glyphs[name] = glyph


def _add_charstrings(font: TTFont, new: dict[str, Outline], widths: dict[str, int]) -> None:
    cff = _cff(font)
    top = _cff_top(font)
    charstrings = top.CharStrings
    fd_index = _ideograph_fd(font) if hasattr(top, "FDArray") else None
    private = top.FDArray[fd_index].Private if fd_index is not None else top.Private
    # A T2 charstring stores its width relative to the private dict's nominalWidthX, or omits it
    # when it equals defaultWidthX.
    nominal = getattr(private, "nominalWidthX", 0) or 0
    default = getattr(private, "defaultWidthX", 0) or 0
    for name, outline in new.items():
        advance = widths[name]
        width = None if advance == default else advance - nominal
        charstring = cff_charstring(outline, advance, width, private, cff.GlobalSubrs)
        if charstrings.charStringsAreIndexed:
            charstrings.charStringsIndex.append(charstring)
            charstrings.charStrings[name] = len(charstrings.charStringsIndex) - 1
        else:
            charstrings.charStrings[name] = charstring
        if fd_index is not None:
            charstring.fdSelectIndex = fd_index
            top.FDSelect.gidArray.append(fd_index)
        top.charset.append(name)


def _ideograph_fd(font: TTFont) -> int:
    """The font dict (hinting zones) the base uses for its ideographs, else the first one."""
    top = _cff_top(font)
    cmap = font.getBestCmap() or {}
    ideographs = [name for cp, name in cmap.items() if 0x4E00 <= cp <= 0x9FFF]
    if not ideographs or not hasattr(top, "FDSelect"):
        return 0
    gids = font.getReverseGlyphMap()
    votes = Counter(top.FDSelect.gidArray[gids[name]] for name in ideographs[:200])
    return votes.most_common(1)[0][0]


def _vertical_origin(font: TTFont, info: FontFile) -> float:
    """Where the base hangs its ideographs in vertical text (the top of their em box), so new
    glyphs line up with old ones: the CFF VORG default when there is one, else the most common
    top side bearing + yMax of the base's own ideographs; else one em centred on the em box."""
    if "VORG" in font:
        return float(font["VORG"].defaultVertOriginY)
    if "vmtx" in font:
        cmap = font.getBestCmap() or {}
        glyph_set = font.getGlyphSet()
        vmtx = font["vmtx"]
        origins: Counter[int] = Counter()
        for cp in sorted(cp for cp in cmap if 0x4E00 <= cp <= 0x9FFF)[:200]:
            name = cmap[cp]
            pen = BoundsPen(glyph_set)
            glyph_set[name].draw(pen)
            if pen.bounds is not None and name in vmtx.metrics:
                origins[round(vmtx[name][1] + pen.bounds[3])] += 1
        if origins:
            return float(origins.most_common(1)[0][0])
    return (info.ascender + info.descender) / 2.0 + info.units_per_em / 2.0


def rename_font(font: TTFont, family: str | None) -> None:
    """Give a merged font its own family name, version string and unique ID (names IDs 1, 3, 4,
    5, 6, 16 and the CFF names); its style and everything else stay the base's."""
    name = font["name"]
    raw_family = name.getBestFamilyName() or "Font"
    base_family = without_controls(raw_family) or "Font"  # the base's own name may hold anything
    style = name.getBestSubFamilyName() or "Regular"
    try:
        parsed = FontNames.parse(family or f"{base_family} zi2zi", style)
    except ExportError:  # a style name zi2zi does not know ("W3", "Condensed"): keep it as it is
        parsed = FontNames.parse(family or f"{base_family} zi2zi")
    new = FontNames(parsed.family, style, parsed.weight, parsed.italic)
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    revision = f"{font['head'].fontRevision:.3f}"
    base_version = name.getDebugName(5) or f"Version {revision}"
    records = {
        3: f"{revision};{VENDOR_ID};{new.postscript_name};{stamp}",
        4: new.full_name,
        5: f"{base_version}; zi2zi {__version__} merge {stamp}",
        6: new.postscript_name,
    }
    legacy = name.getDebugName(16) is None  # no typographic family: ID 1 holds the whole family
    records[1] = new.family if legacy else f"{new.family} {name.getDebugName(1).removeprefix(raw_family).strip()}".strip()
    if not legacy:
        records[16] = new.family
    for name_id in (1, 3, 4, 5, 6, 16, 18, 21):
        name.removeNames(nameID=name_id)  # also the localised ones, which name the base font
    for name_id, text in records.items():
        name.setName(text, name_id, 3, 1, 0x409)
        if name_id in (1, 4, 16) and new.language:
            name.addMultilingualName({new.language: text}, font, nameID=name_id, windows=True, mac=False)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [new.postscript_name]
        top = cff.topDictIndex[0]
        if not hasattr(top, "ROS"):
            top.FullName, top.FamilyName = new.ascii_full_name, new.ascii_family


def _add_vertical_metrics(
    font: TTFont, bounds: dict[str, tuple[int, int, int, int] | None], origin: float
) -> None:
    vmtx = font["vmtx"]
    heights = Counter(height for height, _ in vmtx.metrics.values())
    height = heights.most_common(1)[0][0] if heights else font["head"].unitsPerEm
    for name, box in bounds.items():
        vmtx[name] = (height, round(origin - box[3]) if box else 0)
    vhea = font.get("vhea")
    if vhea is None:
        return
    vhea.advanceHeightMax = max(vhea.advanceHeightMax, height)
    for name, box in bounds.items():
        if box is None:
            continue
        tsb = vmtx[name][1]
        vhea.minTopSideBearing = min(vhea.minTopSideBearing, tsb)
        vhea.minBottomSideBearing = min(vhea.minBottomSideBearing, height - tsb - (box[3] - box[1]))
        vhea.yMaxExtent = max(vhea.yMaxExtent, tsb + (box[3] - box[1]))


def _add_to_cmap(font: TTFont, mapping: dict[int, str]) -> None:
    cmap = font["cmap"]
    beyond_bmp = any(cp > 0xFFFF for cp in mapping)
    has_full = False
    for table in cmap.tables:
        if not table.isUnicode() or table.format in (13, 14):
            continue  # many-to-one and variation-sequence tables are left as they are
        if table.format == 12:
            table.cmap.update(mapping)
            has_full = True
        elif table.format == 4:
            table.cmap.update({cp: name for cp, name in mapping.items() if cp <= 0xFFFF})
    if beyond_bmp and not has_full:
        # Format 4 cannot hold code points beyond the BMP: add the usual (3, 10) format 12 table.
        full = CmapSubtable.newSubtable(12)
        full.platformID, full.platEncID, full.language = 3, 10, 0
        full.cmap = dict(font.getBestCmap() or {})
        full.cmap.update(mapping)
        cmap.tables.append(full)
        cmap.tables.sort(key=lambda t: (t.platformID, t.platEncID, t.language))


def _extend_os2(font: TTFont) -> None:
    """Add (never remove) Unicode-range and code-page bits for the new coverage."""
    os2 = font["OS/2"]
    old_ranges = os2.getUnicodeRanges()
    os2.recalcUnicodeRanges(font)
    os2.setUnicodeRanges(old_ranges | os2.getUnicodeRanges())
    if os2.version >= 1:
        old_pages = os2.getCodePageRanges()
        os2.recalcCodePageRanges(font)
        os2.setCodePageRanges(old_pages | os2.getCodePageRanges())
    codepoints = [cp for cp in (font.getBestCmap() or {})]
    if codepoints:
        os2.usFirstCharIndex = min(0xFFFF, min(codepoints))
        os2.usLastCharIndex = min(0xFFFF, max(codepoints))

