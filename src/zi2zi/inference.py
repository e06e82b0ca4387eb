"""Generating glyphs from a checkpoint alone.

The checkpoint records the renderer settings its training data used, so the source glyphs fed to
the generator here are drawn by the same renderer with the same size, mode and margin: the
train/inference mismatch of the forks cannot happen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from zi2zi.checkpoints import find_style, load_checkpoint
from zi2zi.device import resolve_device
from zi2zi.errors import CheckpointError
from zi2zi.fonts import EmBox, FontFile, Renderer
from zi2zi.images import to_tensor, to_uint8


def pick_device(name: str = "auto") -> torch.device:
    return resolve_device(name)


@dataclass(frozen=True)
class Style:
    id: int
    name: str


class GlyphGenerator:
    """A trained generator plus everything needed to use it: styles, renderer settings, em boxes."""

    def __init__(self, checkpoint: str | Path, *, device: str = "auto", channels_last: bool = True) -> None:
        """``channels_last``: G runs in that memory format (default: yes; on a 2-core CPU it
        generates 1.31x faster at 256 px, benchmarks/reports/speed.md, with the same results)."""
        self.device = pick_device(device)
        loaded = load_checkpoint(checkpoint, device=self.device)
        self.checkpoint_path = Path(getattr(loaded, "path", checkpoint))
        self.step = loaded.step
        # Identifies these weights (their metadata holds step, config, styles and metrics) without
        # hashing the tensors: glyph folders record it so that a resume never mixes two models.
        self.fingerprint = hashlib.sha256(json.dumps(loaded.meta, sort_keys=True).encode()).hexdigest()[:16]
        self.generator = loaded.generator.eval()
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.generator.to(memory_format=self.memory_format)  # type: ignore[call-overload]  # missing from torch's stubs
        self.render_settings = loaded.render
        self.data_info = loaded.data_info or {}
        self.styles = [Style(int(s["id"]), str(s["name"])) for s in loaded.styles]
        if not self.styles:
            raise CheckpointError(f"{checkpoint} records no styles; it cannot generate")

    # ---- styles ---------------------------------------------------------------------------

    def style(self, name_or_id: str | int) -> Style:
        """A style by id (``3``) or by name (case-insensitive); the error lists the known ones."""
        found = find_style([asdict(s) for s in self.styles], name_or_id)
        return Style(int(found["id"]), str(found["name"]))

    def style_embox(self, style: Style) -> EmBox:
        """The em box the style's target glyphs were rendered in (export maps pixels back by it)."""
        size = self.render_settings.size
        try:
            for record in self._style_records():
                if record.get("id") == style.id and "embox" in record:
                    return EmBox.from_dict(record["embox"])
            source = self.data_info.get("source") or {}
            if isinstance(source, dict) and "embox" in source:
                return EmBox.from_dict(source["embox"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{self.checkpoint_path}: its record of the em box of style {style.id} is damaged "
                                  f"({exc}); use another checkpoint") from None
        return EmBox.cjk_default(size, self.render_settings.margin)

    def _style_records(self) -> list[dict]:
        records = self.data_info.get("styles") or []
        return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []

    def style_font_record(self, style: Style) -> dict | None:
        for record in self._style_records():
            if record.get("id") == style.id:
                font = record.get("font")
                return font if isinstance(font, dict) else None
        return None

    # ---- generation -----------------------------------------------------------------------

    def renderer(self, font: FontFile) -> Renderer:
        return Renderer(font, self.render_settings)

    @torch.no_grad()
    def generate(
        self, sources: np.ndarray, style: Style | Sequence[Style] | None = None, *,
        style_vectors: torch.Tensor | None = None,
    ) -> np.ndarray:
        """uint8 (B, S, S) source glyphs -> uint8 (B, S, S) glyphs in the style."""
        x = to_tensor(sources).to(self.device).contiguous(memory_format=self.memory_format)
        if style_vectors is not None:
            fake = self.generator(x, None, style_vectors=style_vectors.to(self.device))
        else:
            styles = [style] * len(sources) if isinstance(style, Style) else list(style or [])
            ids = torch.tensor([s.id for s in styles], dtype=torch.long, device=self.device)
            fake = self.generator(x, ids)
        return to_uint8(fake)

    def generate_chars(
        self, font: FontFile, chars: Sequence[str], style: Style, *, batch_size: int = 32
    ) -> Iterator[tuple[list[str], np.ndarray]]:
        """Yield (characters, uint8 (B, S, S) glyphs) batches; characters the font lacks are left
        out (see :meth:`split_available`)."""
        renderer = self.renderer(font)
        batch_chars: list[str] = []
        batch_images: list[np.ndarray] = []
        for char in chars:
            image = renderer.render(char)
            if image is None:
                continue
            batch_chars.append(char)
            batch_images.append(image)
            if len(batch_chars) == batch_size:
                yield batch_chars, self.generate(np.stack(batch_images), style)
                batch_chars, batch_images = [], []
        if batch_chars:
            yield batch_chars, self.generate(np.stack(batch_images), style)

    def style_vector(self, style: Style) -> torch.Tensor:
        return self.generator.style_embedding.weight[style.id].detach()

    @torch.no_grad()
    def interpolate(
        self, sources: np.ndarray, a: Style, b: Style, weights: Sequence[float]
    ) -> list[np.ndarray]:
        """zi2zi's style interpolation: blend two style embeddings linearly, one frame per weight."""
        va, vb = self.style_vector(a), self.style_vector(b)
        frames = []
        for t in weights:
            vector = ((1.0 - t) * va + t * vb).expand(len(sources), -1)
            frames.append(self.generate(sources, style_vectors=vector))
        return frames
