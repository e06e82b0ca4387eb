"""A specimen: text set in a learned style, beside the source font and (when known) the target."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zi2zi.errors import FontError, Zi2ziError
from zi2zi.fonts import FontFile, Renderer, open_font
from zi2zi.generation.model import GlyphGenerator, Style
from zi2zi.generation.sheet import glyph_row, labelled_rows
from zi2zi.images import png_bytes
from zi2zi.storage.outputs import check_output, write_output


def _target_font(model: GlyphGenerator, style: Style) -> FontFile | None:
    """The style's training font, if it is still where the checkpoint says and unchanged."""
    record = model.style_font_record(style)
    if not record or not Path(record.get("path", "")).is_file():
        return None
    try:
        font = open_font(record["path"], record.get("face", 0))
    except FontError:
        return None
    return font if font.sha256 == record.get("sha256") else None


def write_specimen(
    model: GlyphGenerator, *, style: Style, source: FontFile, text: str, out: str | Path,
    cell: int = 64, per_line: int = 16, overwrite: bool = False,
) -> Path:
    """Write the specimen PNG; an existing ``out`` is replaced only with ``overwrite``."""
    out = check_output(out, overwrite=overwrite, suffixes=(".png",))
    chars = [c for c in text if not c.isspace()]
    if not chars:
        raise Zi2ziError("--text holds no characters to set")
    unique = list(dict.fromkeys(chars))
    renderer = Renderer(source, model.output_render)  # source and target shown as large as the glyphs
    rendered = {c: renderer.render(c) for c in unique}
    lacking = [c for c, image in rendered.items() if image is None]
    if lacking:
        raise Zi2ziError(f"the source font {source.path.name} lacks {''.join(lacking)}; remove them from --text")
    sources = {c: image for c, image in rendered.items() if image is not None}
    generated = {c: g for batch, images in model.generate_chars(source, unique, style) for c, g in zip(batch, images)}
    target = _target_font(model, style)
    target_renderer = Renderer(target, model.output_render) if target else None
    blank = np.full_like(next(iter(sources.values())), 255)
    rows = []
    for start in range(0, len(chars), per_line):
        line = chars[start : start + per_line]
        rows.append((f"generated: style {style.id} {style.name}", glyph_row([generated[c] for c in line], cell)))
        rows.append((f"source: {source.name}", glyph_row([sources[c] for c in line], cell)))
        if target_renderer and target is not None:
            images = [target_renderer.render(c) for c in line]
            rows.append((f"target font: {target.name}", glyph_row([blank if i is None else i for i in images], cell)))
    return write_output(out, png_bytes(labelled_rows(rows)), overwrite=overwrite, suffixes=(".png",))
