"""Using a trained model: the model itself (:class:`GlyphGenerator` and the source font it reads),
glyph folders, specimens, and style interpolation.

:func:`generate_to_folder` is the glyph stage of the font-making chain (:mod:`zi2zi.fontmaking`).
"""

from zi2zi.generation.folder import GenerateReport, generate_to_folder, generated_glyphs
from zi2zi.generation.interpolate import write_interpolation
from zi2zi.generation.model import GlyphGenerator, Style, base_source_font, find_base_source_font
from zi2zi.generation.specimen import write_specimen

__all__ = [
    "GenerateReport",
    "GlyphGenerator",
    "Style",
    "base_source_font",
    "find_base_source_font",
    "generate_to_folder",
    "generated_glyphs",
    "write_interpolation",
    "write_specimen",
]
