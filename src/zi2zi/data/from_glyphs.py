"""A paired dataset from a folder of target glyph images (``U+XXXX.png``) and a source font.

For fine-tuning on glyphs that come from no font: a scanned hand, or an incomplete font's bitmaps.
The source side is rendered with the given settings (a base model's own), the target images are
brought to the same size, and the folder's em box (scaled to that size) becomes the style's em box,
so generated glyphs are placed as the given ones were. The result is an ordinary dataset; a
``placement`` (:class:`zi2zi.data.placement.Placement` as a dict: how the images were normalised
and the hand's median placement) is kept in the style record.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from zi2zi.config import RenderSettings
from zi2zi.data import layout
from zi2zi.data.build import make_split, write_manifest
from zi2zi.errors import DatasetError
from zi2zi.fonts import FontFile, Renderer
from zi2zi.fonts.geometry import EmBox
from zi2zi.images import PNG_LEVEL, resize_glyph
from zi2zi.storage import built_folder


def dataset_from_glyphs(
    *,
    source: FontFile,
    images: dict[str, np.ndarray],
    embox: EmBox,
    out: str | Path,
    settings: RenderSettings,
    style_name: str,
    holdout: int = 0,
    holdout_chars: Sequence[str] | None = None,
    val_fraction: float = 0.0,
    seed: int = 0,
    overwrite: bool = False,
    placement: dict | None = None,
) -> Path:
    """Write a one-style dataset: ``images`` (character -> (S, S) uint8 glyph drawn in ``embox``)
    as the target, ``source`` rendered with ``settings`` as the input."""
    out = Path(out)
    renderer = Renderer(source, settings)
    with built_folder(out, layout.KIND, overwrite=overwrite, error=DatasetError, tag="rendering") as tmp:
        src_dir, style_dir = tmp / layout.SOURCE_DIR, layout.style_dir(tmp, 0)
        src_dir.mkdir(parents=True)
        style_dir.mkdir(parents=True)
        paired, src_missing = [], []
        for char, image in images.items():
            rendered = renderer.render(char) if source.covers(char) else None
            if rendered is None:
                src_missing.append(char)
                continue
            Image.fromarray(rendered).save(src_dir / layout.glyph_filename(char), compress_level=PNG_LEVEL)
            Image.fromarray(resize_glyph(image, settings.size)).save(style_dir / layout.glyph_filename(char),
                                                                 compress_level=PNG_LEVEL)
            paired.append(char)
        if not paired:
            raise DatasetError(
                f"the source font {source.path.name} covers none of the {len(images)} glyphs' characters; "
                "use a base whose source font covers them"
            )
        split = make_split(paired, paired, holdout=holdout, val_fraction=val_fraction, seed=seed,
                           holdout_chars=holdout_chars)
        box = EmBox(units_per_em=embox.units_per_em, ascender=embox.ascender, descender=embox.descender,
                    size=settings.size, margin=embox.margin)
        style = {
            "id": 0,
            "name": style_name,
            "dir": f"{layout.STYLES_DIR}/0",
            "font": None,
            "embox": box.to_dict(),
            "characters": "".join(paired),
            "missing": "",
        }
        if placement is not None:
            style["placement"] = placement
        write_manifest(tmp, settings=settings, source=source, source_missing=src_missing, styles=[style],
                       characters=paired, split=split, seed=seed, val_fraction=val_fraction)
    return out
