"""Fine-tuning a base model to a new style: the input made into a dataset, then a short run.

The result is an ordinary run directory (``generate``, ``evaluate``, ``specimen`` and ``export``
use it unchanged) with the dataset it learned from in ``RUN/data`` and the choices made in
``RUN/finetune.json``, which is written first and marks the folder as a run in the making.
Running the same command again resumes an interrupted run.
"""

from __future__ import annotations

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
    stopped: str = "completed"  # as TrainSummary.stopped: "interrupted" after SIGINT / SIGTERM


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
    from zi2zi.storage.lock import FolderLock

    say = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if sum(x is not None for x in (target, target_glyphs, data)) != 1:
        raise DatasetError("give exactly one of --target FONT, --target-glyphs DIR or --data DATASET")
    if chars is not None and target is None:
        raise DatasetError("--chars picks the characters of a --target font; the other inputs bring their own")
    check_discriminator(discriminator)  # refused before anything is written
    out = Path(out)
    # One fine-tuning of ``out`` at a time while it is prepared; the trainer then takes the same
    # lock for the training itself.
    with FolderLock(out, what="fine-tuning run", notify=say):
        plan = _prepare(base, out, target=target, chars=chars, target_glyphs=target_glyphs, data=data,
                        holdout=holdout, steps=steps, discriminator=discriminator, style_name=style_name, seed=seed,
                        overwrite=overwrite, say=say)
    cfg, record, resume = plan
    return _train(cfg, out, record, resume=resume, overwrite=not resume, device=device, progress=progress, say=say)


def _prepare(base: str | Path, out: Path, *, target: str | None, chars: str | None,
             target_glyphs: str | Path | None, data: str | Path | None, holdout: int | None, steps: int | None,
             discriminator: str | None, style_name: str | None, seed: int, overwrite: bool,
             say: Callable[[str], None]) -> tuple[Config, dict[str, Any], bool]:
    """The run to train: (config, record, resume). Resumes a run of ours that has a checkpoint;
    otherwise renders the dataset and writes the record of a new run."""
    from zi2zi import checkpoints as ckpt
    from zi2zi.bases import resolve_base
    from zi2zi.data.layout import read_manifest
    from zi2zi.storage.atomic import write_json
    from zi2zi.storage.folders import check_replaceable
    from zi2zi.training.rundir import CONFIG_FILE, FINETUNE_KIND

    record_path = out / FINETUNE_KIND.marker
    record = FINETUNE_KIND.read_marker(out) if out.is_dir() else None
    if record is not None and not overwrite and ckpt.latest_resumable(out) is not None:
        say(f"resuming the fine-tuning run in {out}")
        from zi2zi.storage.reading import read_json_object

        stored = read_json_object(out / CONFIG_FILE, what="the run's config", error=DatasetError,
                                  advice="the run is damaged: start it over with --overwrite")
        return Config.from_dict(stored), record, True
    # A new run: a new or empty folder, or (with --overwrite, or killed before its first
    # checkpoint, even before its record) one of ours; anything else is somebody's and is refused.
    if record is not None or not _only_leftovers(out):
        check_replaceable(out, FINETUNE_KIND, overwrite=overwrite or record is not None, error=DatasetError)

    base_path = resolve_base(base)
    loaded = ckpt.load_checkpoint(base_path)
    source = inputs.base_source_font(loaded.data_info, say)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        from zi2zi.storage.atomic import remove_stale_files

        remove_stale_files(out)  # a record a kill cut short: never valid
        data_dir, style = _dataset(out, loaded, source, target=target, chars=chars, target_glyphs=target_glyphs,
                                   data=data, holdout=holdout, style_name=style_name, seed=seed)
    except BaseException:
        if created and not any(out.iterdir()):
            out.rmdir()  # a refused input leaves no empty folder behind
        raise
    manifest = read_manifest(data_dir)
    style = style_name or style or manifest["styles"][0]["name"]
    if style in {s["name"] for s in loaded.styles}:
        style = f"{style} (fine-tuned)"
    split = manifest["split"]
    n_train, n_held = len(split["train"]), len(split["holdout"])
    if holdout is not None and target is not None and n_held < holdout:
        pool = "of the base's held-out characters" if base_holdout(loaded) else "candidates"
        say(f"note: --holdout {holdout}: the target font and the source font share only {n_held} {pool} outside "
            f"the training characters; {n_held} are held out")
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
    write_json(record_path, record, indent=2)
    say(f"fine-tuning {base_path.stem} on {n_train} glyphs ({n_held} held out) as style {style!r}: "
        f"{recipe.steps} steps, lr {recipe.lr:g}, encoder {'frozen' if recipe.freeze_encoder else 'trained'}, "
        f"discriminator {recipe.discriminator}")
    return cfg, record, False


def _dataset(out: Path, loaded: Any, source: Any, *, target: str | None, chars: str | None,
             target_glyphs: str | Path | None, data: str | Path | None, holdout: int | None,
             style_name: str | None, seed: int) -> tuple[Path, str | None]:
    """The dataset the run learns from: the one given, or rendered into ``RUN/data``."""
    if data is not None:
        inputs.check_dataset(data, source=source, settings=loaded.render)
        return Path(data), None
    if target is not None:
        return inputs.dataset_from_font(
            target, out / DATA_DIR, source=source, settings=loaded.render, chars=chars,
            holdout=holdout, base_holdout=base_holdout(loaded), style_name=style_name,
            seed=seed, overwrite=True)
    assert target_glyphs is not None  # exactly one input was given
    return inputs.dataset_from_glyph_folder(
        target_glyphs, out / DATA_DIR, source=source, settings=loaded.render, holdout=holdout or 0,
        style_name=style_name, seed=seed, overwrite=True)


def base_holdout(loaded: Any) -> str:
    """The characters a base never trained on (its own held-out set), "" when it records none."""
    return str((loaded.meta.get("base") or {}).get("holdout", ""))


def _only_leftovers(out: Path) -> bool:
    """True when ``out`` holds nothing but what a fine-tuning killed before its record leaves:
    the dataset's lock and temporaries (``.data.lock``, ``.data.rendering-*``, ...), a record
    cut short (``.finetune.json.tmp-*.tmp``) and a finished dataset in ``data/``."""
    from zi2zi.data.layout import KIND as DATASET_KIND
    from zi2zi.storage.atomic import temp_prefix
    from zi2zi.storage.lock import lock_path

    if not out.is_dir():
        return False
    data = out / DATA_DIR
    own_prefixes = tuple(temp_prefix(data, tag) for tag in ("tmp", "building", "rendering", "old"))
    entries = list(out.iterdir())
    for entry in entries:
        name = entry.name
        if entry == lock_path(data) or name.startswith(own_prefixes):
            continue
        if name.startswith(f"{lock_path(data).name}.") and name.endswith(".tmp"):
            continue  # the lock, killed while it was being written
        if name.startswith(".finetune.json.") and name.endswith(".tmp") and entry.is_file():
            continue
        if entry == data and entry.is_dir() and DATASET_KIND.read_marker(entry) is not None:
            continue
        return False
    return bool(entries)


def _train(cfg: Config, out: Path, record: dict[str, Any], *, resume: bool, device: str | None, progress: bool,
           say: Callable[[str], None], overwrite: bool = False) -> FinetuneSummary:
    from zi2zi.training import TrainOptions, train

    recipe = _checked_recipe(out, record)
    options = TrainOptions(
        data=record["data"], out=out, config=cfg, resume=resume, overwrite=overwrite and not resume,
        device=device, init_from=None if resume else record["base"], new_style=None if resume else record["style"],
        only_new_styles=recipe.only_new_style and not resume, progress=progress, echo=say,
        fresh_discriminator=recipe.fresh_discriminator and not resume,
        resume_hint="run the same `zi2zi finetune` command again to resume from this checkpoint",
    )
    summary = train(options)
    return FinetuneSummary(
        run_dir=out, data_dir=Path(record["data"]), base=Path(record["base"]), style=record["style"],
        train_glyphs=record["train_glyphs"], holdout_glyphs=record["holdout_glyphs"], recipe=recipe,
        checkpoint=summary.checkpoint, step=summary.step, stopped=summary.stopped,
    )


def _checked_recipe(out: Path, record: dict[str, Any]) -> FinetuneRecipe:
    """The record's recipe, and the fields a resume reads, as zi2zi wrote them (it may be edited)."""
    fields = {"base": str, "data": str, "style": str, "train_glyphs": int, "holdout_glyphs": int, "recipe": dict}
    bad = next((k for k, kind in fields.items() if not isinstance(record.get(k), kind)), None)
    try:
        if bad is None:
            recipe = FinetuneRecipe(**record["recipe"])
            if isinstance(recipe.steps, int) and not isinstance(recipe.steps, bool) and recipe.steps > 0:
                return recipe
        bad = bad or "recipe"
    except (TypeError, ValueError):
        bad = "recipe"
    raise DatasetError(f"{out / 'finetune.json'} is damaged (its {bad!r} is missing or malformed); "
                       "start the run over with --overwrite")
