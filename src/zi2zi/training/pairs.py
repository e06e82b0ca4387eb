"""The glyph pairs a run trains and validates on: dataset splits and subsets of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from zi2zi.data import GlyphDataset


class Subset:
    """A view of some pairs of a GlyphDataset with the same batch interface."""

    def __init__(self, base: Any, indices: np.ndarray) -> None:
        self.base = base
        self.indices = np.asarray(indices, dtype=np.int64)
        self.style_ids = base.style_ids[self.indices]
        self.styles = base.styles
        self.manifest = base.manifest
        self.image_size = base.image_size

    def __len__(self) -> int:
        return len(self.indices)

    def batch(self, indices: np.ndarray) -> dict[str, torch.Tensor]:
        return self.base.batch(self.indices[indices])


def load_split(root: Path, split: str) -> GlyphDataset:
    return GlyphDataset(root, split=split)


def load_optional_split(root: Path, split: str) -> GlyphDataset | None:
    """None when the manifest leaves ``split`` empty. A split it lists but whose files are missing
    or damaged is still an error: validation must never turn itself off because a file went bad."""
    if not GlyphDataset.has_split(root, split):
        return None
    return GlyphDataset(root, split=split)
