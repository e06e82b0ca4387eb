"""Fine-tuning a base model to a new style: the input made into a dataset, then a short run.

The result is an ordinary run directory (``generate``, ``evaluate``, ``specimen`` and ``export``
use it unchanged) with the dataset it learned from in ``RUN/data`` and the choices made in
``RUN/finetune.json``, which is written first and marks the folder as a run in the making.
Running the same command again resumes an interrupted run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zi2zi.config import Config, with_runtime_defaults
from zi2zi.errors import DatasetError
from zi2zi.finetune import inputs
from zi2zi.finetune.recipe import FinetuneRecipe, check_discriminator, recipe_for

DATA_DIR = "data"


@dataclass
class FinetuneSummary:
    run_dir: Path
    data_dir: Path
    base: Path
    style: str
    train_glyphs: int
    holdout_glyphs: int
    recipe: FinetuneRecipe
    checkpoint: Path | None
    step: int


def finetune(
    base: str | Path,
    out: str | Path,
    *,
    target: str | None = None,
    chars: str | None = None,
    target_glyphs: str | Path | None = None,
    data: str | Path | None = None,
    holdout: int | None = None,
    steps: int | None = None,
    discriminator: str | None = None,
    style_name: str | None = None,
    seed: int = 0,
    overwrite: bool = False,
    device: str | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> FinetuneSummary:
    """Fine-tune ``base`` (a shipped base name, a checkpoint or a run) on exactly one of ``target``
    (a font, with ``chars``), ``target_glyphs`` (a glyph folder) or ``data`` (a dataset).

    ``holdout``: characters kept out of training to measure the result (default up to 100 for a font,
    0 for glyphs: every written glyph is worth training on; a dataset keeps its own split).
    ``discriminator``: "none" (the recipe's choice: L1 + const only) or "fresh" (a discriminator
    from random weights trains beside G: sharper strokes, about 1.7x the time).
    """
    from zi2zi import checkpoints as ckpt
    from zi2zi.bases import resolve_base
    from zi2zi.data.layout import read_manifest
    from zi2zi.storage.folders import check_replaceable
    from zi2zi.training.rundir import FINETUNE_KIND

    say = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if sum(x is not None for x in (target, target_glyphs, data)) != 1:
        raise DatasetError("give exactly one of --target FONT, --target-glyphs DIR or --data DATASET")
    if chars is not None and target is None:
        raise DatasetError("--chars picks the characters of a --target font; the other inputs bring their own")
    check_discriminator(discriminator)  # refused before anything is written
    out = Path(out)
    record_path = out / FINETUNE_KIND.marker
    record = FINETUNE_KIND.read_marker(out) if out.is_dir() else None
    if record is not None and not overwrite and ckpt.latest_resumable(out) is not None:
        say(f"resuming the fine-tuning run in {out}")
        cfg = Config.from_dict(json.loads((out / "config.json").read_text(encoding="utf-8")))
        return _train(cfg, out, record, resume=True, device=device, progress=progress, say=say)
    # A new run: a new or empty folder, or (with --overwrite, or killed before its first
    # checkpoint) one of ours; anything else is somebody's and is refused.
    check_replaceable(out, FINETUNE_KIND, overwrite=overwrite or record is not None, error=DatasetError)

    base_path = resolve_base(base)
    loaded = ckpt.load_checkpoint(base_path)
    source = inputs.base_source_font(loaded.data_info, say)
    out.mkdir(parents=True, exist_ok=True)
    base_holdout = str(loaded.meta.get("base", {}).get("holdout", ""))
    if data is not None:
        inputs.check_dataset(data, source=source, settings=loaded.render)
        data_dir, style = Path(data), None
    elif target is not None:
        data_dir, style = inputs.dataset_from_font(
            target, out / DATA_DIR, source=source, settings=loaded.render, chars=chars,
            holdout=holdout, base_holdout=base_holdout, style_name=style_name,
            seed=seed, overwrite=True)
    else:
        assert target_glyphs is not None  # exactly one input was given
        data_dir, style = inputs.dataset_from_glyph_folder(
            target_glyphs, out / DATA_DIR, source=source, settings=loaded.render, holdout=holdout or 0,
            style_name=style_name, seed=seed, overwrite=True)
    manifest = read_manifest(data_dir)
    style = style_name or style or manifest["styles"][0]["name"]
    if style in {s["name"] for s in loaded.styles}:
        style = f"{style} (fine-tuned)"
    split = manifest["split"]
    n_train, n_held = len(split["train"]), len(split["holdout"])
    recipe = recipe_for(n_train, steps=steps, discriminator=discriminator)

    cfg = with_runtime_defaults(loaded.config)  # this machine's device, precision and memory format
    t = cfg.train
    t.max_steps, t.lr, t.schedule = recipe.steps, recipe.lr, "constant"
    t.batch_size = min(recipe.batch_size, n_train)
    t.freeze_encoder = recipe.freeze_encoder
    cfg.loss.adversarial = recipe.adversarial
    cfg.loss.flip_labels = cfg.loss.flip_labels and recipe.adversarial
    t.max_minutes, t.epochs, t.seed = 0.0, 1, seed
    t.checkpoint_every = max(50, recipe.steps // 2)
    t.sample_every = t.eval_every = max(50, recipe.steps // 4)
    t.train_styles = []
    record = {
        "format": FINETUNE_KIND.format, "version": FINETUNE_KIND.version, "base": str(base_path),
        "base_name": base_path.stem, "data": str(data_dir), "style": style, "train_glyphs": n_train,
        "holdout_glyphs": n_held, "recipe": recipe.to_dict(),
    }
    from zi2zi.storage.atomic import write_json

    write_json(record_path, record, indent=2)
    say(f"fine-tuning {base_path.stem} on {n_train} glyphs ({n_held} held out) as style {style!r}: "
        f"{recipe.steps} steps, lr {recipe.lr:g}, encoder {'frozen' if recipe.freeze_encoder else 'trained'}, "
        f"discriminator {recipe.discriminator}")
    return _train(cfg, out, record, resume=False, overwrite=True, device=device, progress=progress, say=say)


def _train(cfg: Config, out: Path, record: dict[str, Any], *, resume: bool, device: str | None, progress: bool,
           say: Callable[[str], None], overwrite: bool = False) -> FinetuneSummary:
    from zi2zi.training import TrainOptions, train

    recipe = FinetuneRecipe(**record["recipe"])
    options = TrainOptions(
        data=record["data"], out=out, config=cfg, resume=resume, overwrite=overwrite and not resume,
        device=device, init_from=None if resume else record["base"], new_style=None if resume else record["style"],
        only_new_styles=recipe.only_new_style and not resume, progress=progress, echo=say,
        fresh_discriminator=recipe.fresh_discriminator and not resume,
    )
    summary = train(options)
    return FinetuneSummary(
        run_dir=out, data_dir=Path(record["data"]), base=Path(record["base"]), style=record["style"],
        train_glyphs=record["train_glyphs"], holdout_glyphs=record["holdout_glyphs"], recipe=recipe,
        checkpoint=summary.checkpoint, step=summary.step,
    )
