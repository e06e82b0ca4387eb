"""zi2zi's style interpolation, written as an animated GIF or a PNG strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zi2zi.errors import Zi2ziError
from zi2zi.fonts import FontFile
from zi2zi.generation.model import GlyphGenerator, Style
from zi2zi.generation.sheet import glyph_row, labelled_rows
from zi2zi.storage.outputs import check_output, output_path

SUFFIXES = (".gif", ".png")  # an animation or a strip


def write_interpolation(
    model: GlyphGenerator, *, a: Style, b: Style, source: FontFile, chars: str, steps: int,
    out: str | Path, cell: int = 64, overwrite: bool = False,
) -> Path:
    """Frames from style ``a`` (t=0) to ``b`` (t=1). ``.gif``: one frame per step, the characters
    side by side; ``.png``: one row per step. An existing ``out`` is replaced only with ``overwrite``."""
    out = check_output(out, overwrite=overwrite, suffixes=SUFFIXES)
    suffix = out.suffix.lower()
    if steps < 2:
        raise Zi2ziError(f"--steps {steps} must be at least 2 (the two styles themselves)")
    renderer = model.renderer(source)
    wanted = [c for c in dict.fromkeys(chars) if not c.isspace()]
    rendered = [renderer.render(c) for c in wanted]
    lacking = [c for c, i in zip(wanted, rendered) if i is None]
    if lacking or not wanted:
        raise Zi2ziError(f"the source font lacks {''.join(lacking)}" if lacking else "--chars is empty")
    images = [i for i in rendered if i is not None]
    weights = np.linspace(0.0, 1.0, steps).tolist()
    # Refined in the em box of the nearer style (both are usually the same box).
    frames = [model.refine(source, wanted, f, a if t < 0.5 else b)
              for t, f in zip(weights, model.interpolate(np.stack(images), a, b, weights))]
    rows = [(f"t={t:.2f}  ({a.name} -> {b.name})", glyph_row(list(f), cell)) for t, f in zip(weights, frames)]
    with output_path(out, overwrite=overwrite, suffixes=SUFFIXES) as tmp:
        if suffix == ".png":
            labelled_rows(rows).save(tmp, format="PNG")
        else:
            pictures = [labelled_rows([row]) for row in rows]
            loop = pictures + pictures[-2:0:-1]  # forth and back
            loop[0].save(tmp, format="GIF", save_all=True, append_images=loop[1:], duration=120, loop=0)
    return out
