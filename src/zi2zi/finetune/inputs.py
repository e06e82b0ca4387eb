"""What a fine-tuning run learns from, made into a dataset the base model can read.

Three kinds of input: a target font (rendered with the base's own source font and renderer
settings), a folder of ``U+XXXX.png`` glyphs (a scanned hand, an incomplete font's bitmaps), or an
existing dataset, which must have been rendered the way the base was. Glyphs of a folder are first
brought to one consistent placement against the source font (:mod:`zi2zi.data.placement`), and
the hand's median placement goes into the dataset's style record, whence into the checkpoint.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from zi2zi.config import RenderSettings
from zi2zi.data import layout, render_dataset
from zi2zi.data.from_glyphs import dataset_from_glyphs
from zi2zi.data.glyphfolder import GlyphFolder, read_glyph_folder
from zi2zi.data.placement import Placement, normalise_all, source_glyphs
from zi2zi.errors import DatasetError
from zi2zi.finetune.recipe import DEFAULT_CHARSET, DEFAULT_HOLDOUT, DEFAULT_TRAIN_CHARS
from zi2zi.fonts import FontFile, resolve_charset
from zi2zi.fonts.font import open_font_spec


def holdout_pick(candidates: Sequence[str], n: int, seed: int) -> list[str]:
    """``n`` of ``candidates`` (all when there are fewer) drawn with ``seed``, in code point order:
    the same set from the same candidates in any order."""
    pool = sorted(dict.fromkeys(candidates))
    return sorted(random.Random(seed).sample(pool, min(n, len(pool))), key=ord)


def held_out_chars(font: FontFile, source: FontFile, *, base_holdout: str, n: int, seed: int,
                   exclude: Sequence[str] = ()) -> list[str]:
    """The ``n`` characters (fewer when there are not so many) a fine-tuning on ``font`` holds out:
    drawn with ``seed`` from the base's own held-out set (DEFAULT_CHARSET for a base without one),
    of those both fonts draw and not in ``exclude``; in code point order."""
    skip = set(exclude)
    pool = [c for c in (base_holdout or "".join(resolve_charset(DEFAULT_CHARSET)))
            if font.covers(c) and source.covers(c) and c not in skip]
    return holdout_pick(pool, n, seed) if n > 0 else []


def dataset_from_font(
    target: str,
    out: Path,
    *,
    source: FontFile,
    settings: RenderSettings,
    chars: str | None,
    holdout: int | None,
    base_holdout: str,
    style_name: str | None,
    seed: int,
    overwrite: bool = False,
) -> tuple[Path, str]:
    """Render the target font against the base's source; returns (dataset, style name).

    Held-out characters come from the base's own held-out set when it has one (characters the
    base never trained in any style), so a measurement is on unseen content as well as style.
    ``holdout``: how many at most (None: DEFAULT_HOLDOUT); there may be fewer candidates, which
    the caller reads from the dataset's split (and says, see :func:`zi2zi.finetune.finetune`).
    """
    font = open_font_spec(target)
    if chars:
        train = [c for c in resolve_charset(chars) if font.covers(c)]
    else:
        train = []
    wanted = DEFAULT_HOLDOUT if holdout is None else holdout
    held = held_out_chars(font, source, base_holdout=base_holdout, n=wanted, seed=seed, exclude=train)
    if not chars:
        held_set = set(held) | set(base_holdout)
        train = [c for c in resolve_charset(DEFAULT_CHARSET)
                 if c not in held_set and font.covers(c)][:DEFAULT_TRAIN_CHARS]
    if not train:
        raise DatasetError(f"{target} covers none of the training characters; check --chars and the font")
    name = style_name or font.name
    render_dataset(source=source, targets=[font], chars=train + held, out=out, settings=settings,
                   style_names=[name], val_fraction=0.0, seed=seed, holdout_chars=held, workers=1,
                   overwrite=overwrite)
    return out, name


def written_glyphs(folder: GlyphFolder, *, source: FontFile, placement: str) -> tuple[dict[str, np.ndarray], Placement]:
    """The folder's glyphs at their own size, each brought to its source glyph's placement by the
    normalisation ``placement`` (the source drawn in the folder's em box), and the median of what
    was undone: the glyphs fine-tuning learns from, for the generator and for the refiner alike."""
    images = {chr(cp): folder.load(cp) for cp in folder.codepoints}
    return normalise_all(images, source_glyphs(source, images, folder.embox), placement)


def dataset_from_glyph_folder(
    folder: str | Path,
    out: Path,
    *,
    source: FontFile,
    settings: RenderSettings,
    holdout: int,
    style_name: str | None,
    seed: int,
    placement: str,
    overwrite: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> tuple[Path, str]:
    """A dataset from a glyph folder, its glyphs normalised by ``placement`` (see
    :func:`written_glyphs`); ``holdout`` of its glyphs are kept out of training."""
    glyphs = read_glyph_folder(folder)
    if holdout >= len(glyphs.codepoints):
        raise DatasetError(
            f"--holdout {holdout} would keep all {len(glyphs.codepoints)} glyphs of {folder} out of training; lower it"
        )
    images, measured = written_glyphs(glyphs, source=source, placement=placement)
    if placement != "none":
        say(f"placement ({placement}): the glyphs sit {measured.dx:+.3f} / {measured.dy:+.3f} em off their source "
            f"glyphs and are {measured.kx:.2f} x {measured.ky:.2f} their size (median of {measured.glyphs}); "
            "trained brought onto the source's placement, generated glyphs get the median back")
    held = holdout_pick(list(images), holdout, seed) if holdout > 0 else []
    name = style_name or Path(folder).resolve().name
    dataset_from_glyphs(source=source, images=images, embox=glyphs.embox, out=out, settings=settings,
                        style_name=name, holdout_chars=held, seed=seed, overwrite=overwrite,
                        placement=measured.to_dict())
    return out, name


def check_dataset(data: str | Path, *, source: FontFile, settings: RenderSettings) -> dict[str, Any]:
    """Refuse a dataset the base cannot learn from: another source font or other render settings."""
    manifest = layout.read_manifest(data)
    render = manifest.get("render", {})
    if any(render.get(k) != v for k, v in asdict(settings).items()):
        raise DatasetError(
            f"{data} was rendered with {render}, the base with {asdict(settings)}; render the dataset "
            f"again with --size {settings.size} (or use `zi2zi finetune --target FONT`)"
        )
    src = manifest["source"]["font"]
    if src.get("sha256") != source.sha256:
        raise DatasetError(
            f"{data} was rendered from the source font {Path(src.get('path', '?')).name} "
            f"({src.get('family', '?')}), the base reads {source.path.name} ({source.family}); render it "
            f"again with --source {source.path}#{source.face_index}"
        )
    if len(manifest["styles"]) != 1:
        raise DatasetError(
            f"{data} has {len(manifest['styles'])} styles; fine-tuning adds one style, so render one target font"
        )
    return manifest
