"""Fonts: opening faces, cmap coverage, charsets, and the one glyph renderer.

Names are loaded on first use (PEP 562), so that importing ``zi2zi.fonts.charsets`` for a
command's ``--help`` does not load fontTools, FreeType and NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zi2zi.lazy import lazy_attributes

_HOMES = {
    "builtin_charsets": "zi2zi.fonts.charsets",
    "filter_by_fonts": "zi2zi.fonts.charsets",
    "resolve_charset": "zi2zi.fonts.charsets",
    "FontFile": "zi2zi.fonts.font",
    "face_names": "zi2zi.fonts.font",
    "open_font": "zi2zi.fonts.font",
    "open_font_spec": "zi2zi.fonts.font",
    "parse_font_spec": "zi2zi.fonts.font",
    "EmBox": "zi2zi.fonts.geometry",
    "Renderer": "zi2zi.fonts.renderer",
}

if TYPE_CHECKING:
    from zi2zi.fonts.charsets import builtin_charsets, filter_by_fonts, resolve_charset
    from zi2zi.fonts.font import FontFile, face_names, open_font, open_font_spec, parse_font_spec
    from zi2zi.fonts.geometry import EmBox
    from zi2zi.fonts.renderer import Renderer


__getattr__ = lazy_attributes(__name__, _HOMES)


__all__ = [
    "EmBox",
    "FontFile",
    "Renderer",
    "builtin_charsets",
    "face_names",
    "filter_by_fonts",
    "open_font",
    "open_font_spec",
    "parse_font_spec",
    "resolve_charset",
]
