"""Rendering a paired dataset (source font -> one or more target fonts) to a directory.

Every glyph goes through :class:`zi2zi.fonts.Renderer`. Rendering happens in a hidden sibling
folder that only becomes ``out`` once the manifest is complete, so an interrupted run never leaves
a directory that looks like a dataset, and an existing dataset is replaced only on request.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from zi2zi import __version__
from zi2zi.config import RenderSettings
from zi2zi.data import layout
from zi2zi.errors import DatasetError
from zi2zi.fonts import FontFile, Renderer
from zi2zi.fonts.font import open_font_spec
from zi2zi.images import PNG_LEVEL
from zi2zi.storage import built_folder

__all__ = ["RenderReport", "make_split", "render_dataset"]


@dataclass(frozen=True)
class Split:
    train: list[str]
    val: list[str]
    holdout: list[str]


def make_split(
    chars: Sequence[str],
    holdout_pool: Sequence[str],
    *,
    holdout: int,
    val_fraction: float,
    seed: int,
    holdout_chars: Sequence[str] | None = None,
) -> Split:
    """Seeded split by characters. Holdout characters come from ``holdout_pool`` (characters
    every style has), so each style is judged on the same unseen set and none reaches training.
    ``holdout_chars`` fixes the held-out set instead (those of the pool; ``holdout`` is ignored)."""
    rng = random.Random(seed)
    if holdout_chars is not None:
        pool = set(holdout_pool)
        held = {c for c in holdout_chars if c in pool}
    elif holdout > len(holdout_pool):
        raise DatasetError(
            f"--holdout {holdout} asks for more characters than all fonts share ({len(holdout_pool)}); "
            "lower --holdout or widen the charset"
        )
    else:
        held = set(rng.sample(sorted(holdout_pool), holdout))
    rest = sorted(c for c in chars if c not in held)
    rng.shuffle(rest)
    n_val = min(len(rest) - 1, round(len(rest) * val_fraction)) if len(rest) > 1 else 0
    n_val = max(n_val, 1 if val_fraction > 0 and len(rest) > 1 else 0)
    val = set(rest[:n_val])
    order = {c: i for i, c in enumerate(chars)}  # keep the charset's order inside each split
    by_order = lambda items: sorted(items, key=order.__getitem__)  # noqa: E731
    return Split(
        train=by_order(c for c in rest if c not in val),
        val=by_order(val),
        holdout=by_order(held),
    )


# ---- worker side: plain functions so they pickle into worker processes ----------------------

_worker_renderers: list[Renderer] = []


def _init_worker(renderers: list[Renderer]) -> None:
    global _worker_renderers
    _worker_renderers = renderers


def _render_chunk(args: tuple[list[str], list[Path]]) -> list[list[str]]:
    """Render ``chars`` with every renderer into its folder; return the missing characters."""
    chars, folders = args
    missing: list[list[str]] = [[] for _ in _worker_renderers]
    for i, (renderer, folder) in enumerate(zip(_worker_renderers, folders)):
        for char in chars:
            image = renderer.render(char)
            if image is None:
                missing[i].append(char)
            else:
                # Not atomic per file: the whole dataset folder is renamed into place only when complete.
                Image.fromarray(image).save(folder / layout.glyph_filename(char), compress_level=PNG_LEVEL)
    return missing


def _render_all(
    renderers: list[Renderer],
    folders: list[Path],
    chars: list[str],
    workers: int,
    progress: Callable[[int], None] | None,
) -> list[set[str]]:
    chunk = max(16, min(256, len(chars) // max(1, workers * 8) or 1))
    jobs = [(chars[i : i + chunk], folders) for i in range(0, len(chars), chunk)]
    missing: list[set[str]] = [set() for _ in renderers]

    def collect(result: list[list[str]], n: int) -> None:
        for i, items in enumerate(result):
            missing[i].update(items)
        if progress:
            progress(n)

    if workers <= 1 or len(jobs) == 1:
        _init_worker(renderers)
        for job in jobs:
            collect(_render_chunk(job), len(job[0]))
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(renderers,)) as pool:
            for job, result in zip(jobs, pool.map(_render_chunk, jobs)):
                collect(result, len(job[0]))
    return missing


# ---- the public entry point ---------------------------------------------------------------


@dataclass
class RenderReport:
    out: Path
    pairs: int
    characters: int
    styles: list[dict]
    missing_source: list[str]
    seconds: float


def render_dataset(
    *,
    source: str | FontFile,
    targets: Sequence[str | FontFile],
    chars: Sequence[str],
    out: str | Path,
    settings: RenderSettings = RenderSettings(),
    style_names: Sequence[str] | None = None,
    holdout: int = 0,
    val_fraction: float = 0.05,
    seed: int = 0,
    overwrite: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    holdout_chars: Sequence[str] | None = None,
) -> RenderReport:
    """Render source/target pairs for every character the source and that target both cover.

    ``out`` must be new, empty, or (with ``overwrite``) a zi2zi dataset; one writer at a time.
    ``holdout_chars`` fixes the held-out characters (those every style has) instead of drawing
    ``holdout`` of them, e.g. a base model's own held-out set when fine-tuning it.
    """
    started = time.perf_counter()
    out = Path(out)
    settings.validate()
    _check_split_options(holdout, val_fraction)
    with built_folder(out, layout.KIND, overwrite=overwrite, error=DatasetError, tag="rendering") as tmp:
        report = _render(source, targets, chars, out, tmp, settings, style_names, holdout, val_fraction, seed,
                         workers, progress, holdout_chars)
    report.seconds = time.perf_counter() - started
    return report


def _check_split_options(holdout: int, val_fraction: float) -> None:
    if isinstance(holdout, bool) or not isinstance(holdout, int) or holdout < 0:
        raise DatasetError(f"--holdout {holdout!r} must be a whole number >= 0")
    if not (isinstance(val_fraction, (int, float)) and math.isfinite(val_fraction) and 0.0 <= val_fraction < 1.0):
        raise DatasetError(f"--val-fraction {val_fraction!r} must be a fraction in [0, 1), e.g. 0.05")


def _render(
    source: str | FontFile,
    targets: Sequence[str | FontFile],
    chars: Sequence[str],
    out: Path,
    tmp: Path,
    settings: RenderSettings,
    style_names: Sequence[str] | None,
    holdout: int,
    val_fraction: float,
    seed: int,
    workers: int | None,
    progress: Callable[[int], None] | None,
    holdout_chars: Sequence[str] | None,
) -> RenderReport:
    """Render into ``tmp``, the hidden folder that becomes ``out``."""
    if not targets:
        raise DatasetError("no target font given; pass at least one --target FONT")
    chars = list(dict.fromkeys(chars))
    if not chars:
        raise DatasetError("the charset is empty; give at least one character")
    src = source if isinstance(source, FontFile) else open_font_spec(source)
    tgts = [t if isinstance(t, FontFile) else open_font_spec(t) for t in targets]
    names = list(style_names) if style_names else _unique_names([t.name for t in tgts])
    if len(names) != len(tgts):
        raise DatasetError(f"{len(names)} style names for {len(tgts)} target fonts; give one name per target")

    renderers = [Renderer(src, settings)] + [Renderer(t, settings) for t in tgts]
    workers = workers or os.cpu_count() or 1

    folders = [tmp / layout.SOURCE_DIR] + [layout.style_dir(tmp, i) for i in range(len(tgts))]
    for folder in folders:
        folder.mkdir(parents=True)
    # Only characters the source's cmap covers are worth rendering at all.
    wanted = [c for c in chars if src.covers(c)]
    missing = _render_all(renderers, folders, wanted, workers, progress)
    src_missing = sorted(set(chars) - set(wanted) | missing[0], key=ord)
    rendered_src = [c for c in wanted if c not in missing[0]]
    per_style = [[c for c in rendered_src if c not in missing[i + 1]] for i in range(len(tgts))]
    # Remove target glyphs whose source is missing (empty source glyph): no pair, no file.
    for i in range(len(tgts)):
        for c in missing[0] - missing[i + 1]:
            (folders[i + 1] / layout.glyph_filename(c)).unlink(missing_ok=True)
    style_sets = [set(s) for s in per_style]
    paired = [c for c in rendered_src if any(c in s for s in style_sets)]
    if not paired:
        raise DatasetError(
            "no character of the charset is covered by the source and any target font; "
            "check the fonts' coverage with `zi2zi fontinfo`"
        )
    common = set(rendered_src).intersection(*style_sets)
    split = make_split(paired, [c for c in paired if c in common], holdout=holdout,
                       val_fraction=val_fraction, seed=seed, holdout_chars=holdout_chars)
    styles: list[dict[str, Any]] = [
        {
            "id": i,
            "name": names[i],
            "dir": f"{layout.STYLES_DIR}/{i}",
            "font": t.record(),
            "embox": t.embox(settings.size, settings.margin).to_dict(),
            "characters": "".join(per_style[i]),
            "missing": "".join(c for c in wanted if c in missing[i + 1]),
        }
        for i, t in enumerate(tgts)
    ]
    write_manifest(tmp, settings=settings, source=src, source_missing=src_missing, styles=styles,
                   characters=paired, split=split, seed=seed, val_fraction=val_fraction)
    return RenderReport(
        out=out,
        pairs=sum(len(s) for s in per_style),
        characters=len(paired),
        styles=[{"id": s["id"], "name": s["name"], "pairs": len(s["characters"])} for s in styles],
        missing_source=src_missing,
        seconds=0.0,  # the caller's clock
    )


def write_manifest(
    root: Path,
    *,
    settings: RenderSettings,
    source: FontFile,
    source_missing: Sequence[str],
    styles: list[dict[str, Any]],
    characters: Sequence[str],
    split: Split,
    seed: int,
    val_fraction: float,
) -> None:
    """The dataset manifest, written last: a folder without it is never taken for a dataset."""
    manifest = {
        "format": layout.FORMAT,
        "version": layout.FORMAT_VERSION,
        "zi2zi_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "render": asdict(settings),
        "source": {
            "dir": layout.SOURCE_DIR,
            "font": source.record(),
            "embox": source.embox(settings.size, settings.margin).to_dict(),
            "missing": "".join(source_missing),
        },
        "styles": styles,
        "characters": "".join(characters),
        "split": {
            "seed": seed,
            "val_fraction": val_fraction,
            "train": "".join(split.train),
            "val": "".join(split.val),
            "holdout": "".join(split.holdout),
        },
    }
    (root / layout.MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return result
