"""A contact sheet of a dataset: source | target pairs, one block of rows per style."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from zi2zi.data import layout
from zi2zi.data.build import load_glyph
from zi2zi.errors import DatasetError


def write_preview(root: str | Path, out: str | Path, *, per_style: int = 8, cell: int = 64) -> Path:
    """Write a PNG grid with ``per_style`` characters of every style (held-out ones first)."""
    root, out = Path(root), Path(out)
    if not out.parent.is_dir():
        raise DatasetError(f"folder {out.parent} for the preview does not exist; create it first")
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
        for i, char in enumerate(chars):
            src = load_glyph(root / layout.SOURCE_DIR / layout.glyph_filename(char))
            tgt = load_glyph(root / style["dir"] / layout.glyph_filename(char))
            pair = np.concatenate([src, tgt], axis=1)
            tile = Image.fromarray(pair).resize((2 * cell, cell), Image.Resampling.LANCZOS)
            x = i * pair_w
            block.paste(tile, (x, label_h))
            draw.line([(x + cell, label_h), (x + cell, label_h + cell - 1)], fill=160)
        blocks.append(block)
    width = max(b.width for b in blocks)
    sheet = Image.new("L", (width, sum(b.height + gap for b in blocks)), 255)
    y = 0
    for block in blocks:
        sheet.paste(block, (0, y))
        y += block.height + gap
    tmp = out.with_name(f".{out.name}.tmp")
    sheet.save(tmp, format="PNG")
    os.replace(tmp, out)
    return out
