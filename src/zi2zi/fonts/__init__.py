"""Fonts: opening faces, cmap coverage, charsets, and the one glyph renderer."""

from zi2zi.fonts.charsets import builtin_charsets, filter_by_fonts, resolve_charset
from zi2zi.fonts.font import FontFile, face_names, open_font
from zi2zi.fonts.geometry import EmBox
from zi2zi.fonts.renderer import Renderer

__all__ = [
    "EmBox",
    "FontFile",
    "Renderer",
    "builtin_charsets",
    "face_names",
    "filter_by_fonts",
    "open_font",
    "resolve_charset",
]
