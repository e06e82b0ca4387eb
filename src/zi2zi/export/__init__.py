"""Export: glyph bitmaps -> installable TTF / OTF / WOFF2 fonts, or into the gaps of a font.

``export_font`` builds a new font from a folder of ``U+XXXX.png`` images, ``merge_into_font`` adds
the characters an existing font lacks, ``export_glyphs`` chooses between the two (the export stage
of :mod:`zi2zi.fontmaking`), ``check_font`` re-renders the result and scores it.
"""

from zi2zi.export.borrow import TakeGlyphs
from zi2zi.export.build import ExportResult, build_font, export_font, glyph_name
from zi2zi.export.check import CheckReport, check_font
from zi2zi.export.make import export_glyphs
from zi2zi.export.merge import merge_into_font
from zi2zi.export.names import FontInfo, FontNames
from zi2zi.export.trace import Outline, TraceOptions, trace_bitmap
from zi2zi.export.vertical import MetricsOptions

__all__ = [
    "CheckReport",
    "ExportResult",
    "FontInfo",
    "FontNames",
    "MetricsOptions",
    "Outline",
    "TakeGlyphs",
    "TraceOptions",
    "build_font",
    "check_font",
    "export_font",
    "export_glyphs",
    "glyph_name",
    "merge_into_font",
    "trace_bitmap",
]
