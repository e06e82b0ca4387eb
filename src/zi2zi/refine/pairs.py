"""Training pairs for the refiner: what the generator makes of a character at its size, the source
glyph and the real glyph at the refiner's size.

The coarse glyph is the generator's own output, not a downsampled real glyph: it carries exactly
the softness, wobble and faint strokes the refiner meets when it is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from zi2zi.config import RenderSettings
from zi2zi.errors import Zi2ziError
from zi2zi.fonts import FontFile, Renderer
from zi2zi.images import resize_glyph


@dataclass
class RefinerPairs:
    """uint8 images, 255 = paper: coarse (N, h, h) from the generator, source and target (N, S, S)."""

    chars: list[str]
    coarse: np.ndarray
    source: np.ndarray
    target: np.ndarray

    def __len__(self) -> int:
        return len(self.chars)

    def __post_init__(self) -> None:
        n = len(self.chars)
        if not (len(self.coarse) == len(self.source) == len(self.target) == n):
            raise Zi2ziError(f"refiner pairs disagree in length: {n} characters, {len(self.coarse)} coarse, "
                             f"{len(self.source)} source and {len(self.target)} target images")

    @classmethod
    def concat(cls, parts: Sequence[RefinerPairs]) -> RefinerPairs:
        return cls([c for p in parts for c in p.chars], np.concatenate([p.coarse for p in parts]),
                   np.concatenate([p.source for p in parts]), np.concatenate([p.target for p in parts]))

    def subset(self, index: Sequence[int]) -> RefinerPairs:
        idx = np.asarray(index, dtype=np.int64)
        return RefinerPairs([self.chars[i] for i in idx], self.coarse[idx], self.source[idx], self.target[idx])

    def save(self, path: str | Path) -> Path:
        """An ``.npz`` of plain arrays (read back without pickle)."""
        from zi2zi.storage.atomic import atomic_path

        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, chars=np.array(self.chars, dtype="<U1"), coarse=self.coarse, source=self.source,
                     target=self.target)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> RefinerPairs:
        with np.load(path, allow_pickle=False) as data:
            return cls([str(c) for c in data["chars"]], data["coarse"], data["source"], data["target"])


def refined_settings(coarse: RenderSettings, size: int) -> RenderSettings:
    """The coarse glyphs' render settings at the refiner's size: same mode and margin, so the
    same em box maps both onto the font."""
    return replace(coarse, size=size)


def source_renderer(generator, style, source: FontFile, size: int) -> Renderer:
    """The source font drawn at ``size`` in the style's em box: its glyph lands at the scale and
    height the style's glyph has, so the refiner reads structure where it draws it (in the
    source's own box, a target with other vertical metrics would sit elsewhere)."""
    embox = replace(generator.style_embox(style), size=size)
    return Renderer(source, refined_settings(generator.render_settings, size), embox=embox)


def pairs_from_font(
    generator, style, *, source: FontFile, target: FontFile, chars: Sequence[str], size: int,
) -> RefinerPairs:
    """Pairs for the characters both fonts draw: ``generator`` (a GlyphGenerator) in ``style``
    makes the coarse glyph; the renderer draws source and target at ``size``."""
    renderer = Renderer(target, refined_settings(generator.render_settings, size))
    drawn = {c: renderer.render(c) for c in chars if target.covers(c)}
    return pairs_from_images(generator, style, source=source,
                             images={c: image for c, image in drawn.items() if image is not None}, size=size)


def pairs_from_images(generator, style, *, source: FontFile, images: dict[str, np.ndarray], size: int) -> RefinerPairs:
    """Pairs from target glyphs (character -> uint8 image drawn in the style's em box, any side,
    e.g. a scanned glyph at the scanner's resolution), each brought to ``size``."""
    renderer = source_renderer(generator, style, source, size)
    sources = {}
    for char in images:
        drawn = renderer.render(char) if source.covers(char) else None
        if drawn is not None:
            sources[char] = drawn
    coarse: list[np.ndarray] = []
    done: list[str] = []
    # Characters the source cannot draw at the generator's size drop out here.
    for batch_chars, batch in generator.generate_chars(source, list(sources), style, batch_size=64, refined=False):
        coarse.extend(batch)
        done.extend(batch_chars)
    if not done:
        return RefinerPairs([], np.zeros((0, generator.render_settings.size, generator.render_settings.size), np.uint8),
                            np.zeros((0, size, size), np.uint8), np.zeros((0, size, size), np.uint8))
    return RefinerPairs(done, np.stack(coarse), np.stack([sources[c] for c in done]),
                        np.stack([resize_glyph(images[c], size) for c in done]))


__all__ = ["RefinerPairs", "pairs_from_font", "pairs_from_images", "refined_settings", "source_renderer"]
