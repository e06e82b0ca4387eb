"""Datasets: rendering paired glyph directories, loading them, paired augmentation, previews; and
the glyph-folder format (:mod:`zi2zi.data.glyphfolder`) that generation and scanning write."""

from zi2zi.data.augment import paired_augment
from zi2zi.data.build import RenderReport, render_dataset
from zi2zi.data.dataset import GlyphDataset, to_tensor
from zi2zi.data.layout import read_manifest
from zi2zi.data.preview import write_preview

__all__ = [
    "GlyphDataset",
    "RenderReport",
    "paired_augment",
    "read_manifest",
    "render_dataset",
    "to_tensor",
    "write_preview",
]
