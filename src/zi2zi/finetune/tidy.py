"""Written glyphs placed as a fine-tuning run places generated ones: a tidy font of a hand.

By default a font of a hand keeps every written glyph where it was written. ``zi2zi export
--normalize-written RUN`` instead gives each written glyph (and each variant) the placement the run
measured on the hand (:class:`zi2zi.data.placement.Placement`: the median offset and size against
the source glyphs), the placement generated glyphs get, so every glyph of the font sits alike.
"""

from __future__ import annotations

import json
from pathlib import Path

from zi2zi.data.glyphfolder import (
    GlyphFolder,
    load_image,
    read_glyph_folder,
    write_glyph,
    write_manifest,
    write_variant,
)
from zi2zi.data.placement import Placement, source_glyphs, tidy
from zi2zi.errors import DatasetError
from zi2zi.fonts import FontFile, open_font


def recorded_placement(run: str | Path) -> tuple[Placement, FontFile]:
    """The hand's placement a fine-tuning run on a glyph folder measured, and the source font it
    was measured against."""
    from zi2zi.data.layout import read_manifest
    from zi2zi.training.rundir import FINETUNE_KIND

    run = Path(run)
    record = FINETUNE_KIND.read_marker(run) if run.is_dir() else None
    if record is None:
        raise DatasetError(f"{run} is not a fine-tuning run; give the --out folder of `zi2zi finetune --target-glyphs`")
    if not record.get("placement"):
        raise DatasetError(f"{run} did not learn from written glyphs (or records no placement); give the run that "
                           "`zi2zi finetune --target-glyphs` made from them")
    font = read_manifest(record["data"])["source"]["font"]
    return Placement.from_dict(record["placement"]), open_font(font["path"], font.get("face", 0))


def tidy_folder(glyphs: str | Path | GlyphFolder, run: str | Path, out: str | Path) -> GlyphFolder:
    """The glyph folder ``glyphs`` (a scan) with every glyph and variant placed as ``run`` places
    generated glyphs, written to the new folder ``out``; returns it read back."""
    folder = glyphs if isinstance(glyphs, GlyphFolder) else read_glyph_folder(glyphs)
    placement, source = recorded_placement(run)
    out = Path(out)
    out.mkdir()
    chars = [chr(cp) for cp in folder.codepoints]
    sources = source_glyphs(source, chars, folder.embox)
    for char in chars:
        image = folder.load(ord(char))
        write_glyph(out, char, tidy(image, sources[char], placement) if char in sources else image)
        for n, path in enumerate(folder.variants.get(ord(char), []), 1):
            variant = load_image(path)
            write_variant(out, char, n, tidy(variant, sources[char], placement) if char in sources else variant)
    manifest = json.loads((folder.root / "manifest.json").read_text(encoding="utf-8")) \
        if (folder.root / "manifest.json").is_file() else {}
    extra = {k: v for k, v in manifest.items()
             if k not in ("format", "version", "zi2zi_version", "complete", "render", "embox", "advance", "characters")}
    write_manifest(out, render=folder.render, embox=folder.embox, characters=chars, complete=True,
                   **extra, normalized_by={"run": str(Path(run).resolve()), "placement": placement.to_dict()})
    return read_glyph_folder(out)
