"""Glyphs taken unchanged from another font: its punctuation, or its digits and Latin.

A model trained on hanzi draws punctuation well enough, but a font maker may prefer the target
font's own marks, or a Latin designed as Latin. ``borrow_glyphs`` copies the outlines (components
decomposed, scaled to the new font's em, converted to its curve type and contour direction) and
their advance widths, and says whose they are: the donor's copyright and licence go into the
new font's name table (`credit`), since they still govern those glyphs.

Placement: CJK punctuation keeps its place in the ideographic em box (the donor's box bottom is
moved onto the new font's), Latin and digits keep the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.recordingPen import DecomposingRecordingPen, RecordingPen
from fontTools.pens.reverseContourPen import ReverseContourPen
from fontTools.pens.roundingPen import RoundingPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

from zi2zi.errors import ExportError
from zi2zi.export.trace import Outline, draw_outline
from zi2zi.fonts.punctuation import cjk_punctuation, is_proportional, latin

Which = Literal["punctuation", "latin"]
WHAT = {"punctuation": "CJK punctuation and symbols", "latin": "digits and Latin"}


def which_chars(which: Which) -> tuple[str, ...]:
    if which == "punctuation":
        return cjk_punctuation()
    if which == "latin":
        return latin()
    raise ExportError(f"unknown glyph group {which!r}; take 'punctuation' or 'latin' from a font")


@dataclass(frozen=True)
class TakeGlyphs:
    """Take a group of glyphs (``which``) unchanged from ``font`` (``PATH`` or ``PATH#FACE``)."""

    font: str | Path
    which: Which


@dataclass
class Borrowed:
    outlines: dict[int, Outline] = field(default_factory=dict)
    advances: dict[int, int] = field(default_factory=dict)
    credits: list[str] = field(default_factory=list)  # one line per donor, for name IDs 0 and 13
    urls: list[str] = field(default_factory=list)  # the donors' licence URLs (name ID 14)


def borrow_glyphs(takes: Sequence[TakeGlyphs], *, units_per_em: int, ideographic_bottom: int,
                  quadratic: bool) -> Borrowed:
    """The glyphs of every ``take`` that its font has; a later take wins over an earlier one."""
    result = Borrowed()
    for take in takes:
        _borrow(take, result, units_per_em=units_per_em, ideographic_bottom=ideographic_bottom, quadratic=quadratic)
    return result


def _borrow(take: TakeGlyphs, result: Borrowed, *, units_per_em: int, ideographic_bottom: int,
            quadratic: bool) -> None:
    from zi2zi.fonts.font import open_font_spec

    info = open_font_spec(str(take.font))
    try:
        font = TTFont(str(info.path), fontNumber=info.face_index, lazy=True)
        cmap = font.getBestCmap() or {}
        glyphs = font.getGlyphSet()
        hmtx = font["hmtx"]
        cff = "CFF " in font or "CFF2" in font
        bottom = _ideographic_bottom(font)
    except Exception as exc:  # fontTools raises many kinds for a damaged font
        raise ExportError(f"cannot read glyphs from {info.path} ({type(exc).__name__}: {exc}); "
                          "take them from an intact font") from None
    scale = units_per_em / info.units_per_em
    taken = 0
    for char in which_chars(take.which):
        cp = ord(char)
        name = cmap.get(cp)
        if name is None or name not in glyphs:
            continue
        dy = 0.0 if is_proportional(cp) else ideographic_bottom - bottom * scale
        try:  # read here, not at opening (lazy): a damaged glyph surfaces now
            result.outlines[cp] = _copy_outline(glyphs, name, scale, dy, from_cff=cff, quadratic=quadratic)
        except Exception as exc:
            raise ExportError(f"cannot read the glyph of {char} ({name}) from {info.path} "
                              f"({type(exc).__name__}: {exc}); take them from an intact font") from None
        result.advances[cp] = round(hmtx[name][0] * scale)
        taken += 1
    if not taken:
        raise ExportError(f"{info.path} has none of the {WHAT[take.which]}; take them from another font")
    licence, url = _name(font, 13), _name(font, 14)
    credit = f"{WHAT[take.which].capitalize()} from {info.name} ({info.path.name})"
    copyright_ = _name(font, 0)
    result.credits.append(f"{credit}: {copyright_ + '; ' if copyright_ else ''}"
                          f"licence: {licence or 'not stated in the font'}")
    if url:
        result.urls.append(url)


def _copy_outline(glyphs, name: str, scale: float, dy: float, *, from_cff: bool, quadratic: bool) -> Outline:
    recording = DecomposingRecordingPen(glyphs)
    glyphs[name].draw(recording)
    out = RecordingPen()
    pen = RoundingPen(out)
    if quadratic and from_cff:
        pen = Cu2QuPen(pen, max_err=1.0, reverse_direction=True)  # CFF outer contours run the other way
    elif not quadratic and not from_cff:
        pen = ReverseContourPen(pen)
    draw_outline(recording.value, TransformPen(pen, (scale, 0, 0, scale, 0, dy)))
    return out.value


def _ideographic_bottom(font: TTFont) -> float:
    """The donor's ideographic em box bottom: its BASE 'ideo' baseline, else typo descender of
    a one-em typo box, else the usual -0.12 em."""
    upm = font["head"].unitsPerEm
    if "BASE" in font:
        try:
            axis = font["BASE"].table.HorizAxis
            tags = axis.BaseTagList.BaselineTag
            for record in axis.BaseScriptList.BaseScriptRecord:
                if record.BaseScriptTag in ("hani", "DFLT") and "ideo" in tags:
                    return float(record.BaseScript.BaseValues.BaseCoord[tags.index("ideo")].Coordinate)
        except AttributeError:
            pass
    os2 = font["OS/2"] if "OS/2" in font else None
    if os2 is not None and os2.sTypoAscender - os2.sTypoDescender == upm:
        return float(os2.sTypoDescender)
    return -0.12 * upm


def _name(font: TTFont, name_id: int) -> str:
    try:
        return " ".join((font["name"].getDebugName(name_id) or "").split())
    except Exception:  # a missing or damaged name table: nothing to record
        return ""
