"""A contact sheet of a dataset: source | target pairs, one block of rows per style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from zi2zi.data import layout
from zi2zi.errors import DatasetError
from zi2zi.grid import glyph_grid
from zi2zi.images import png_bytes, read_grey
from zi2zi.storage.outputs import check_output, write_output

MAX_PER_STYLE = 200


def write_preview(root: str | Path, out: str | Path, *, per_style: int = 8, cell: int = 64,
                  overwrite: bool = False, option: str = "--out") -> Path:
    """Write a PNG grid with ``per_style`` characters of every style (held-out ones first); an
    existing ``out`` is replaced only with ``overwrite``."""
    root, out = Path(root), Path(out)
    if isinstance(per_style, bool) or not isinstance(per_style, int) or not 1 <= per_style <= MAX_PER_STYLE:
        raise DatasetError(f"--per-style {per_style!r} must be a whole number from 1 to {MAX_PER_STYLE}")
    check_output(out, overwrite=overwrite, option=option, suffixes=(".png",), error=DatasetError)
    manifest = layout.read_manifest(root)
    held = set(manifest["split"]["holdout"])
    label_h, gap = 14, 6
    blocks = []
    for style in manifest["styles"]:
        chars = sorted(style["characters"], key=lambda c: (c not in held, manifest["characters"].find(c)))[:per_style]
        pair_w = 2 * cell + gap
        block = Image.new("L", (per_style * pair_w, label_h + cell), 255)
        draw = ImageDraw.Draw(block)
        label = f"style {style['id']}: {style['name']}  (source | target; held-out first)"
        draw.text((2, 1), label.encode("ascii", "replace").decode(), fill=0)
        source_dir = layout.inside(root, manifest["source"].get("dir", layout.SOURCE_DIR), "source dir")
        # Each pair is scaled as one picture, so that source and target meet without a seam.
        pairs = [[np.concatenate([_glyph(root, source_dir, c), _glyph(root, layout.style_folder(root, style), c)],
                                 axis=1)] for c in chars]
        if pairs:
            block.paste(glyph_grid(pairs, per_line=per_style, cell=(2 * cell, cell), gap=(gap, 0)), (0, label_h))
        for i in range(len(chars)):
            x = i * pair_w
            draw.line([(x + cell, label_h), (x + cell, label_h + cell - 1)], fill=160)
        blocks.append(block)
    width = max(b.width for b in blocks)
    sheet = Image.new("L", (width, sum(b.height + gap for b in blocks)), 255)
    y = 0
    for block in blocks:
        sheet.paste(block, (0, y))
        y += block.height + gap
    write_output(out, png_bytes(sheet), overwrite=overwrite, option=option, suffixes=(".png",), error=DatasetError)
    return out


def _glyph(root: Path, folder: Path, char: str) -> np.ndarray:
    path = layout.glyph_file(root, folder, char)
    try:
        return read_grey(path)
    except FileNotFoundError:
        raise DatasetError(f"{path} is listed in the manifest but missing; render the dataset again") from None
