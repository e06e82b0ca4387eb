"""Round-trip check: render the exported font with THE renderer and compare with the bitmaps.

A traced glyph that sits in the wrong place, lost a counter or gained a blob shows up here as a
low ink IoU, named by code point, before the font reaches anyone.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zi2zi.config import RenderSettings
from zi2zi.data.glyphfolder import GlyphFolder, read_glyph_folder
from zi2zi.errors import ExportError
from zi2zi.fonts import EmBox, Renderer, open_font


@dataclass(frozen=True)
class CheckReport:
    """Ink IoU (binarised at 128) of every checked glyph against its source image."""

    ious: dict[int, float] = field(repr=False)  # code point -> IoU

    @property
    def median(self) -> float:
        return float(np.median(list(self.ious.values()))) if self.ious else float("nan")

    def worst(self, n: int = 5) -> list[tuple[int, float]]:
        return sorted(self.ious.items(), key=lambda item: (item[1], item[0]))[:n]

    def summary(self, n: int = 5) -> str:
        worst = ", ".join(f"U+{cp:04X} {chr(cp)} {iou:.3f}" for cp, iou in self.worst(n))
        return f"ink IoU over {len(self.ious)} glyphs: median {self.median:.4f}; worst: {worst}"


def check_font(
    font_path: str | Path,
    glyphs: str | Path | GlyphFolder,
    *,
    codepoints: list[int] | None = None,
    face: int = 0,
    embox: EmBox | None,
) -> CheckReport:
    """Render `codepoints` (default: every image in the folder) from the font in the em-box mode
    at the images' size and margin, and score each against its image.

    `embox` is the box the glyphs were traced in (an export's: the folder's). With None the
    font is rendered in its own box (its hhea ascender / descender), as zi2zi renders any font;
    that is right for a merge, whose glyphs were traced in the base's box. A new font's hhea
    spans more than its em box (line spacing), so an export is checked in the folder's box.
    It has no default because either choice is wrong for the other kind of font."""
    folder = glyphs if isinstance(glyphs, GlyphFolder) else read_glyph_folder(glyphs)
    wanted = folder.codepoints if codepoints is None else codepoints
    missing = [cp for cp in wanted if cp not in folder.files]
    if missing:
        raise ExportError(f"{folder.root} has no image for U+{missing[0]:04X}; cannot check it")
    with _ReadableFont(Path(font_path)) as readable:
        return _check(readable, folder, wanted, face, embox)


class _ReadableFont:
    """A WOFF2 file decompressed to a temporary plain font (FreeType may lack WOFF2 support);
    other fonts as they are."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp: str | None = None

    def __enter__(self) -> Path:
        with open(self.path, "rb") as fh:
            if fh.read(4) != b"wOF2":
                return self.path
        from fontTools.ttLib import TTFont

        font = TTFont(str(self.path))
        font.flavor = None
        fd, self.tmp = tempfile.mkstemp(suffix=".otf" if "CFF " in font else ".ttf")
        os.close(fd)
        font.save(self.tmp)
        return Path(self.tmp)

    def __exit__(self, *exc) -> None:
        if self.tmp:
            os.unlink(self.tmp)


def _check(font_path: Path, folder: GlyphFolder, wanted: list[int], face: int, embox: EmBox | None) -> CheckReport:
    import torch

    from zi2zi.metrics.pixel import ink_iou  # torch: only when a check is asked for

    font = open_font(font_path, face)
    if embox is not None:
        if embox.units_per_em != font.units_per_em:
            raise ExportError(
                f"{font_path} has {font.units_per_em} units per em but the em box to check in has "
                f"{embox.units_per_em}; check it without an em box"
            )
        font = dataclasses.replace(font, ascender=embox.ascender, descender=embox.descender)
    renderer = Renderer(font, RenderSettings(size=folder.size, mode="em", margin=folder.embox.margin))
    blank = np.full((folder.size, folder.size), 255, np.uint8)
    ious: dict[int, float] = {}
    for start in range(0, len(wanted), 256):  # batches keep memory flat for big fonts
        batch = wanted[start : start + 256]
        rendered = [_or_blank(renderer.render(chr(cp)), blank) for cp in batch]
        sources = [folder.load(cp) for cp in batch]
        pred = torch.from_numpy(np.stack(rendered)).unsqueeze(1).float() / 255.0  # (B, 1, S, S)
        target = torch.from_numpy(np.stack(sources)).unsqueeze(1).float() / 255.0  # (B, 1, S, S)
        ious.update(zip(batch, ink_iou(pred, target).tolist()))
    return CheckReport(ious)


def _or_blank(image: np.ndarray | None, blank: np.ndarray) -> np.ndarray:
    # The renderer gives None for an empty glyph; a blank image scores it fairly (1 if the
    # source was blank too, else 0).
    return blank if image is None else image
