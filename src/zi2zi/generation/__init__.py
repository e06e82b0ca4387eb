"""Using a trained model: glyph folders, specimens, and style interpolation."""

from zi2zi.generation.folder import GenerateReport, generate_to_folder
from zi2zi.generation.interpolate import write_interpolation
from zi2zi.generation.specimen import write_specimen

__all__ = ["GenerateReport", "generate_to_folder", "write_interpolation", "write_specimen"]
