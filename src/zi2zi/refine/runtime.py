"""Using a refiner: the one that fits a generator, checked, and refining its glyphs.

A fine-tuning run keeps its own refiner in ``RUN/refiner.safetensors`` (fine-tuned on the same
glyphs as the generator); :func:`refiner_for` finds it from any checkpoint of the run, so every
command that draws glyphs from the run draws refined ones unless asked not to.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from zi2zi.config import RenderSettings
from zi2zi.errors import CheckpointError
from zi2zi.fonts import EmBox, FontFile, Renderer
from zi2zi.refine.files import load_refiner
from zi2zi.refine.train import refine_arrays
from zi2zi.training.step import Precision

RUN_REFINER = "refiner.safetensors"  # a fine-tuning run's own refiner, beside its run.json


class GlyphRefiner:
    """A refiner file loaded for use: its network, the glyphs it refines and those it draws."""

    def __init__(self, path: str | Path, *, device: str | torch.device = "cpu",
                 precision: Precision | None = None) -> None:
        """``precision``: the autocast it refines under (default: fp32)."""
        loaded = load_refiner(path, device=device)
        self.precision = precision or Precision()
        self.path = loaded.path
        self.model = loaded.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.coarse_render: RenderSettings = loaded.coarse_render
        self.render: RenderSettings = loaded.render
        self.meta = loaded.meta
        # Glyph folders record it, so that a resume never mixes glyphs of two refiners.
        self.fingerprint = hashlib.sha256(json.dumps(loaded.meta, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def size(self) -> int:
        return self.render.size

    def check_fits(self, generator_render: RenderSettings, generator_name: str) -> None:
        """Refuse a refiner made for other glyphs than the generator draws (size, mode, margin)."""
        c, g = self.coarse_render, generator_render
        if (c.size, c.mode, c.margin) != (g.size, g.mode, g.margin):
            raise CheckpointError(
                f"refiner {self.path} refines {c.size} px '{c.mode}' glyphs (margin {c.margin:g}) but {generator_name} "
                f"draws {g.size} px '{g.mode}' glyphs (margin {g.margin:g}); use a refiner made for it, or --no-refine"
            )

    def source_renderer(self, font: FontFile, embox: EmBox) -> Renderer:
        """The source font drawn at the refiner's size in the style's em box (``embox``, at the
        refiner's size), as the refiner's training pairs draw it."""
        return Renderer(font, self.render, embox=embox)

    def refine(self, coarse: np.ndarray, source: np.ndarray, *, batch_size: int = 32) -> np.ndarray:
        """uint8 (B, h, h) generator glyphs and (B, S, S) source glyphs -> uint8 (B, S, S), specks
        removed (:func:`remove_specks`)."""
        with self.precision.autocast():
            refined = refine_arrays(self.model, coarse, source, batch_size=batch_size)
        return np.stack([remove_specks(g) for g in refined]) if len(refined) else refined

    def record(self) -> dict:
        """What a glyph folder's manifest says of the refiner that drew it."""
        return {"path": str(self.path), "fingerprint": self.fingerprint, "size": self.size}


def remove_specks(glyph: np.ndarray, share: float = 0.0008) -> np.ndarray:
    """``glyph`` (uint8, 255 = paper) with ink islands smaller than ``share`` of its area turned to
    paper: where the generator was unsure the refiner leaves flecks a few pixels wide beside the
    strokes (at 256 px the default is 52 px^2, a 7 px square; the smallest dot of a CJK glyph is
    several times that)."""
    import cv2

    ink = (glyph < 128).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] < share * glyph.size]
    if not small:
        return glyph
    out = glyph.copy()
    out[np.isin(labels, small)] = 255
    return out


def refiner_for(checkpoint: str | Path) -> Path | None:
    """The run's own refiner for a checkpoint inside a fine-tuning run (or the run folder), if any."""
    p = Path(checkpoint)
    for folder in (p, p.parent, p.parent.parent):
        candidate = folder / RUN_REFINER
        if folder.is_dir() and candidate.is_file():
            return candidate
    return None


__all__ = ["RUN_REFINER", "GlyphRefiner", "refiner_for", "remove_specks"]
