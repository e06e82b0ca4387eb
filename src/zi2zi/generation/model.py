"""A trained model ready to generate glyphs: :class:`GlyphGenerator` (from a checkpoint alone) and
:func:`base_source_font`, the font whose glyphs it reads.

The checkpoint records the renderer settings its training data used, so the source glyphs fed to
the generator here are drawn by the same renderer with the same size, mode and margin: the
train/inference mismatch of the forks cannot happen. The source font is the one the model was
trained from, found on this machine by :func:`base_source_font`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from zi2zi.checkpoints import find_style, load_checkpoint
from zi2zi.config import RenderSettings
from zi2zi.device import resolve_device
from zi2zi.errors import CheckpointError, DatasetError, FontError
from zi2zi.fonts import EmBox, FontFile, Renderer, open_font
from zi2zi.images import to_tensor, to_uint8

if TYPE_CHECKING:
    from zi2zi.data.placement import Placement


@dataclass(frozen=True)
class Style:
    id: int
    name: str


class GlyphGenerator:
    """A trained generator plus everything needed to use it: styles, renderer settings, em boxes,
    and the refiner that draws its glyphs at high resolution, when the run has one."""

    def __init__(self, checkpoint: str | Path, *, device: str = "auto", channels_last: bool = True,
                 refine: bool = True, refiner: str | Path | None = None, amp: str = "auto") -> None:
        """``channels_last``: G runs in that memory format (default: yes; on a 2-core CPU it
        generates 1.31x faster at 256 px, benchmarks/reports/speed.md, with the same results).
        ``amp``: the precision G and the refiner compute in, as ``train.amp`` (auto: bf16 on a CPU
        where it was measured faster, :func:`zi2zi.training.runtime.preferred_amp`; bf16 or fp16 on a
        GPU; fp32 on other CPUs).
        ``refine``: draw glyphs through ``refiner`` (default: the run's own refiner, see
        :func:`zi2zi.refine.runtime.refiner_for`); without one, or with ``refine=False``, glyphs
        come out at the generator's size."""
        from zi2zi.training.runtime import precision, preferred_amp

        self.device = resolve_device(device)
        self.precision = precision(preferred_amp(amp, self.device), self.device)
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
        self.refiner = self._load_refiner(checkpoint, refine, refiner)
        # The source font at the refiner's size in the style's em box, for the last (font, style) used.
        self._source_hi: tuple[tuple[int, int], Renderer] | None = None

    def _load_refiner(self, checkpoint: str | Path, refine: bool, refiner: str | Path | None):
        from zi2zi.refine.runtime import GlyphRefiner, refiner_for

        if not refine:
            return None
        path = refiner if refiner is not None else refiner_for(checkpoint)
        if path is None:
            return None
        loaded = GlyphRefiner(path, device=self.device, precision=self.precision)
        loaded.check_fits(self.render_settings, str(self.checkpoint_path))
        return loaded

    @property
    def output_render(self) -> RenderSettings:
        """How the glyphs it draws are laid out: the refiner's size when it has one, else G's."""
        return self.refiner.render if self.refiner is not None else self.render_settings

    # ---- styles ---------------------------------------------------------------------------

    def style(self, name_or_id: str | int) -> Style:
        """A style by id (``3``) or by name (case-insensitive); the error lists the known ones."""
        found = find_style([asdict(s) for s in self.styles], name_or_id)
        return Style(int(found["id"]), str(found["name"]))

    def style_embox(self, style: Style) -> EmBox:
        """The em box of the glyphs it draws in the style (export maps pixels back by it): the box
        the style's target glyphs were rendered in, at the output size."""
        return replace(self._trained_embox(style), size=self.output_render.size)

    def _trained_embox(self, style: Style) -> EmBox:
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

    def style_placement(self, style: Style) -> Placement | None:
        """How the style's glyphs were placed by hand, when it was fine-tuned on written glyphs
        brought to one placement (:mod:`zi2zi.data.placement`); None otherwise."""
        from zi2zi.data.placement import Placement

        for record in self._style_records():
            if record.get("id") == style.id and isinstance(record.get("placement"), dict):
                return Placement.from_dict(record["placement"])
        return None
    def _style_records(self) -> list[dict]:
        # The checkpoint may come from anyone: records that are not objects are passed over.
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

    def source_font(self, echo: Callable[[str], None]) -> FontFile:
        """The font this model read its input glyphs from in training (see :func:`base_source_font`)."""
        return base_source_font(self.data_info, echo)

    @torch.no_grad()
    def generate(
        self, sources: np.ndarray, style: Style | Sequence[Style] | None = None, *,
        style_vectors: torch.Tensor | None = None,
    ) -> np.ndarray:
        """uint8 (B, S, S) source glyphs -> uint8 (B, S, S) glyphs in the style."""
        x = to_tensor(sources).to(self.device).contiguous(memory_format=self.memory_format)
        with self.precision.autocast():
            if style_vectors is not None:
                fake = self.generator(x, None, style_vectors=style_vectors.to(self.device))
            else:
                styles = [style] * len(sources) if isinstance(style, Style) else list(style or [])
                ids = torch.tensor([s.id for s in styles], dtype=torch.long, device=self.device)
                fake = self.generator(x, ids)
        return to_uint8(fake.float())

    def generate_chars(
        self, font: FontFile, chars: Sequence[str], style: Style, *, batch_size: int = 32, refined: bool = True,
    ) -> Iterator[tuple[list[str], np.ndarray]]:
        """Yield (characters, uint8 (B, S, S) glyphs) batches at the output size (``refined=False``:
        the generator's own glyphs); characters the font lacks are left out."""
        renderer = self.renderer(font)
        refine = self.refiner is not None and refined
        batch_chars: list[str] = []
        batch_images: list[np.ndarray] = []
        for char in chars:
            image = renderer.render(char)
            if image is None:
                continue
            batch_chars.append(char)
            batch_images.append(image)
            if len(batch_chars) == batch_size:
                yield batch_chars, self._draw(font, batch_chars, np.stack(batch_images), style, refine)
                batch_chars, batch_images = [], []
        if batch_chars:
            yield batch_chars, self._draw(font, batch_chars, np.stack(batch_images), style, refine)

    def _draw(self, font: FontFile, chars: list[str], sources: np.ndarray, style: Style, refine: bool) -> np.ndarray:
        coarse = self.generate(sources, style)
        return self.refine(font, chars, coarse, style) if refine else coarse

    def refine(self, font: FontFile, chars: Sequence[str], coarse: np.ndarray, style: Style) -> np.ndarray:
        """The refiner's glyphs for the generator's glyphs ``coarse`` of ``chars`` in ``style``
        drawn from ``font``; ``coarse`` itself without a refiner."""
        if self.refiner is None:
            return coarse
        key = (id(font), style.id)
        if self._source_hi is None or self._source_hi[0] != key:
            self._source_hi = (key, self.refiner.source_renderer(font, self.style_embox(style)))
        size = self.refiner.size
        blank = np.full((size, size), 255, np.uint8)
        drawn = [self._source_hi[1].render(c) for c in chars]
        return self.refiner.refine(coarse, np.stack([blank if d is None else d for d in drawn]))

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


def base_source_font(data_info: dict[str, Any], echo: Callable[[str], None]) -> FontFile:
    """The source font a checkpoint was trained with, found on this machine
    (:func:`find_base_source_font`); a different version of the file (another hash) is used with a
    note, since it renders the same characters nearly identically."""
    path, face, rec = find_base_source_font(data_info)
    font = open_font(path, face)
    if rec.get("sha256") and font.sha256 != rec["sha256"]:
        echo(f"note: {path} is another version of the base's source font {path.name}; glyphs may differ slightly")
    return font


def find_base_source_font(data_info: dict[str, Any]) -> tuple[Path, int, dict[str, Any]]:
    """(file, face, record) of the source font a checkpoint records, without opening it: the
    recorded path, else the file name under the system font folders."""
    from zi2zi.fonts.corpus import CORPUS
    from zi2zi.fonts.system import find_font

    source = data_info.get("source")
    rec = source.get("font") if isinstance(source, dict) else None
    if not isinstance(rec, dict) or not rec.get("path"):
        raise DatasetError("the base checkpoint does not record its source font; it cannot be fine-tuned")
    face = rec.get("face", 0)
    if not isinstance(rec["path"], str) or not isinstance(face, int):
        raise CheckpointError("the base checkpoint's record of its source font is damaged (its path or face "
                              "is not a file name and a number); use another checkpoint")
    path = Path(rec["path"])
    if not path.is_file():
        package = next((f.package for f in CORPUS if f.file == path.name), None)
        try:
            path = find_font(path.name, package, hint="scripts/install-corpus-fonts.sh")
        except FontError as exc:
            raise FontError(f"the base's source font is missing: {exc}") from None
    return path, face, rec
