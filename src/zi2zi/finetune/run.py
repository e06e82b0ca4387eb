"""Fine-tuning a base model to a new style: the input made into a dataset, then a short run.

The result is an ordinary run directory (``generate``, ``evaluate``, ``specimen`` and ``export``
use it unchanged) with the dataset it learned from in ``RUN/data`` and the choices made in
``RUN/finetune.json``, which is written first and marks the folder as a run in the making.
Running the same command again resumes an interrupted run.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zi2zi.config import AMPS, Config, ConfigError, DiscriminatorConfig, with_runtime_defaults
from zi2zi.errors import DatasetError, TrainingError
from zi2zi.finetune import inputs
from zi2zi.finetune.recipe import DEFAULT_PLACEMENT, FinetuneRecipe, check_discriminator, check_placement, recipe_for
from zi2zi.finetune.refining import choose_refiner, run_refining_stage

if TYPE_CHECKING:
    from zi2zi.checkpoints import LoadedCheckpoint

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
    refiner: Path | None = None  # the run's own refiner (RUN/refiner.safetensors), None without one
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
    discriminator_config: DiscriminatorConfig | None = None,
    style_name: str | None = None,
    seed: int = 0,
    overwrite: bool = False,
    device: str | None = None,
    amp: str | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
    refine: bool = True,
    refiner: str | Path | None = None,
    on_step: Callable[[Any], None] | None = None,
    placement: str | None = None,
    refiner_steps: int | None = None,
    on_refiner_step: Callable[[int, int], None] | None = None,
) -> FinetuneSummary:
    """Fine-tune ``base`` (a shipped base name, a checkpoint or a run) on exactly one of ``target``
    (a font, with ``chars``), ``target_glyphs`` (a glyph folder) or ``data`` (a dataset).

    ``holdout``: characters kept out of training to measure the result (default up to 100 for a font,
    0 for glyphs: every written glyph is worth training on; a dataset keeps its own split).
    ``discriminator``: "none" (the recipe's choice: L1 + const only) or "fresh" (a discriminator
    from random weights trains beside G: sharper strokes, about 1.7x the time).
    ``discriminator_config``: with "fresh", that discriminator's settings (e.g. where and how much it
    blurs, ``model.discriminator.blur``); default the base's. Recorded in the run, kept on resume.
    ``refine``: after the generator, fine-tune the refiner (``refiner``, default the one shipped
    for the base) on the same glyphs, so glyphs drawn from the run are refined
    (:mod:`zi2zi.finetune.refining`); False keeps the generator's own size.
    ``amp``: the training precision (``train.amp``: auto, none, bf16, fp16); default
    :func:`zi2zi.training.runtime.preferred_amp`: bf16 on a CPU where it was measured faster, else the
    base config's (auto: bf16/fp16 on a GPU). Like ``device`` it is this machine's choice and
    also applies when a run resumes; the run records the precision it used.
    ``on_step``: called with the trainer after every step (``TrainOptions.on_step``);
    ``on_refiner_step``: with (step, steps) after every step of the refining stage.
    ``placement``: how the glyphs of ``target_glyphs`` are brought to one placement before training
    (:mod:`zi2zi.data.placement`; default :data:`~zi2zi.finetune.recipe.DEFAULT_PLACEMENT`, "none"
    trains on them as written); the hand's median placement is recorded and generated glyphs get it.
    ``refiner_steps``: the refining stage's step budget (default
    :class:`~zi2zi.refine.tune.RefinerTuning`'s), recorded in the run so that a resume tunes alike.
    """
    from zi2zi import checkpoints as ckpt
    from zi2zi.bases import resolve_base
    from zi2zi.storage.folders import check_replaceable, claim_folder
    from zi2zi.storage.lock import FolderLock
    from zi2zi.training.rundir import FINETUNE_KIND

    say = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if sum(x is not None for x in (target, target_glyphs, data)) != 1:
        raise DatasetError("give exactly one of --target FONT, --target-glyphs DIR or --data DATASET")
    if chars is not None and target is None:
        raise DatasetError("--chars picks the characters of a --target font; the other inputs bring their own")
    if placement is not None and target_glyphs is None:
        raise DatasetError("--placement normalises the glyphs of --target-glyphs; a font or dataset is placed already")
    check_placement(placement)
    check_discriminator(discriminator)  # refused before anything is written
    if refiner_steps is not None and (isinstance(refiner_steps, bool) or refiner_steps < 1):
        raise ConfigError(f"refiner steps {refiner_steps!r}: give a whole number of 1 or more")
    if amp is not None and amp not in AMPS:
        raise ConfigError(f"--amp {amp!r}: choose one of {', '.join(AMPS)}")
    if discriminator_config is not None and discriminator != "fresh":
        raise TrainingError("discriminator settings apply to a fresh discriminator; pass discriminator=\"fresh\"")
    out = Path(out)
    # One fine-tuning of ``out`` at a time while it decides to resume; a new run takes the same
    # lock again to prepare (claim_folder), the trainer the run's own for the training itself.
    with FolderLock(out, what="fine-tuning run", notify=say):
        record = FINETUNE_KIND.read_marker(out) if out.is_dir() else None
        resumed = _resumed_config(out) if record is not None and not overwrite else None
    if resumed is not None:
        assert record is not None
        say(f"resuming the fine-tuning run in {out}")
        return _train(resumed, out, record, resume=True, device=device, amp=amp, progress=progress, say=say,
                      on_step=on_step, on_refiner_step=on_refiner_step)
    # A new run: a new or empty folder, or (with --overwrite, or killed before its first
    # checkpoint) one of ours; anything else is somebody's and is refused. The marker goes first, so
    # that a run killed while its dataset renders is still ours; training clears what a run wrote.
    # A folder holding only what a kill left before the marker was whole is rerun too.
    replaceable = partial(check_replaceable, out, FINETUNE_KIND, overwrite=overwrite or record is not None,
                          error=DatasetError)

    def check() -> None:
        if record is not None or not _only_leftovers(out):
            replaceable()

    check()  # the base and the refiner are checked before anything is written, the folder first
    _read_inputs(target=target, chars=chars, target_glyphs=target_glyphs, data=data)
    base_path = resolve_base(base)
    loaded = ckpt.load_checkpoint(base_path)
    chosen_refiner = choose_refiner(base_path, loaded.render, refine=refine, refiner=refiner, say=say)
    created = not out.exists()
    with claim_folder(out, FINETUNE_KIND, check, notify=say):
        from zi2zi.refine.runtime import RUN_REFINER
        from zi2zi.storage.atomic import remove_stale_files

        out.mkdir(parents=True, exist_ok=True)
        remove_stale_files(out)  # a record a kill cut short: never valid
        FINETUNE_KIND.write_marker(out)
        # An overwritten run's refiner goes too: a generator trained alike has the same fingerprint,
        # so the refining stage would keep a refiner tuned by another recipe.
        (out / RUN_REFINER).unlink(missing_ok=True)
        try:
            cfg, record = _new_run(base_path, loaded, out, target=target, chars=chars, target_glyphs=target_glyphs,
                                   data=data, holdout=holdout, steps=steps, discriminator=discriminator,
                                   discriminator_config=discriminator_config, style_name=style_name, seed=seed,
                                   refiner=chosen_refiner, say=say, placement=placement or DEFAULT_PLACEMENT,
                                   refiner_steps=refiner_steps)
        except BaseException:
            if created and [p.name for p in out.iterdir()] == [FINETUNE_KIND.marker]:
                shutil.rmtree(out)  # a refused input leaves no folder behind
            raise
    return _train(cfg, out, record, resume=False, overwrite=True, device=device, amp=amp, progress=progress,
                  say=say, on_step=on_step, on_refiner_step=on_refiner_step,
                  discriminator_config=discriminator_config)


def _read_inputs(*, target: str | None, chars: str | None, target_glyphs: str | Path | None,
                 data: str | Path | None) -> None:
    """Open what the user named (the font, the charset, the glyph folder, the dataset) before the
    run folder is claimed: a mistyped input given with --overwrite must not cost the run already
    there. Reading them again later is cheap; rendering the dataset is what takes time."""
    from zi2zi.data.glyphfolder import read_glyph_folder
    from zi2zi.data.layout import read_manifest
    from zi2zi.fonts import resolve_charset
    from zi2zi.fonts.font import open_font_spec

    if target is not None:
        open_font_spec(target)
    if chars is not None:
        resolve_charset(chars)
    if target_glyphs is not None:
        read_glyph_folder(target_glyphs)
    if data is not None:
        read_manifest(data)


def _new_run(base_path: Path, loaded: LoadedCheckpoint, out: Path, *, target: str | None, chars: str | None,
             target_glyphs: str | Path | None, data: str | Path | None, holdout: int | None, steps: int | None,
             discriminator: str | None, style_name: str | None, seed: int, refiner: Path | None,
             say: Callable[[str], None], placement: str = DEFAULT_PLACEMENT,
             refiner_steps: int | None = None,
             discriminator_config: DiscriminatorConfig | None = None) -> tuple[Config, dict[str, Any]]:
    """The dataset, the recipe and the config of a new run in ``out`` from the base ``loaded``
    (read from ``base_path``); its record written."""
    from zi2zi.data.layout import read_manifest
    from zi2zi.generation import base_source_font
    from zi2zi.training.rundir import FINETUNE_KIND

    source = base_source_font(loaded.data_info, say)
    if data is not None:
        inputs.check_dataset(data, source=source, settings=loaded.render)
        data_dir, style = Path(data), None
    elif target is not None:
        data_dir, style = inputs.dataset_from_font(
            target, out / DATA_DIR, source=source, settings=loaded.render, chars=chars,
            holdout=holdout, base_holdout=base_holdout(loaded), style_name=style_name,
            seed=seed, overwrite=True)
    else:
        assert target_glyphs is not None  # exactly one input was given
        data_dir, style = inputs.dataset_from_glyph_folder(
            target_glyphs, out / DATA_DIR, source=source, settings=loaded.render, holdout=holdout or 0,
            style_name=style_name, seed=seed, placement=placement, overwrite=True, say=say)
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
    record = FINETUNE_KIND.marker_doc(
        # Absolute, so that the run resumes and exports from any folder.
        base=str(base_path.resolve()), base_name=base_path.stem, data=str(data_dir.resolve()), style=style,
        train_glyphs=n_train,
        holdout_glyphs=n_held, recipe=recipe.to_dict(), refiner=str(refiner) if refiner else None,
        target_glyphs=str(Path(target_glyphs).resolve()) if target_glyphs is not None else None,
        # How the glyphs were normalised and the hand's median placement (the refining stage
        # normalises its targets the same way): zi2zi.data.placement.
        placement=manifest["styles"][0].get("placement"),
        refiner_steps=refiner_steps,  # None: RefinerTuning's default
        # The fresh discriminator's own settings, None for the base's (zi2zi.training.plan).
        discriminator_config=asdict(discriminator_config) if discriminator_config is not None else None,
    )
    from zi2zi.storage.atomic import write_json

    write_json(out / FINETUNE_KIND.marker, record, indent=2)
    say(f"fine-tuning {base_path.stem} on {n_train} glyphs ({n_held} held out) as style {style!r}: "
        f"{recipe.steps} steps, lr {recipe.lr:g}, encoder {'frozen' if recipe.freeze_encoder else 'trained'}, "
        f"discriminator {recipe.discriminator}")
    return cfg, record


def _resumed_config(out: Path) -> Config | None:
    """The resolved config of the run in ``out`` when it has a checkpoint to resume from, else None."""
    from zi2zi import checkpoints as ckpt
    from zi2zi.storage.reading import read_json_object
    from zi2zi.training.rundir import CONFIG_FILE

    if ckpt.latest_resumable(out) is None:
        return None
    stored = read_json_object(out / CONFIG_FILE, what="the run's config", error=DatasetError,
                              advice="the run is damaged: start it over with --overwrite")
    return Config.from_dict(stored)


def base_holdout(loaded: LoadedCheckpoint) -> str:
    """The characters a base never trained on (its own held-out set), "" when it records none."""
    return str((loaded.meta.get("base") or {}).get("holdout", ""))


def _only_leftovers(out: Path) -> bool:
    """True when ``out`` holds nothing but what a fine-tuning killed before its record was whole
    leaves: the dataset's lock and temporaries (``.data.lock``, ``.data.rendering-*``, ...), a
    record cut short (``.finetune.json.tmp-*.tmp``) and a finished dataset in ``data/``."""
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


def _train(cfg: Config, out: Path, record: dict[str, Any], *, resume: bool, device: str | None, amp: str | None,
           progress: bool, say: Callable[[str], None], overwrite: bool = False,
           on_step: Callable[[Any], None] | None = None,
           on_refiner_step: Callable[[int, int], None] | None = None,
           discriminator_config: DiscriminatorConfig | None = None) -> FinetuneSummary:
    from zi2zi.device import resolve_device
    from zi2zi.training import TrainOptions, train
    from zi2zi.training.runtime import preferred_amp

    chosen = amp if amp is not None else preferred_amp(cfg.train.amp, resolve_device(device or cfg.train.device))
    if amp is None and chosen != cfg.train.amp:
        say("training in bf16: faster than fp32 on this kind of CPU (--amp none for fp32)")
    cfg.train.amp = chosen  # type: ignore[assignment]  # checked against AMPS by finetune()
    recipe = _checked_recipe(out, record)
    fresh = recipe.fresh_discriminator and not resume  # a resumed run's D is in its checkpoint
    options = TrainOptions(
        data=record["data"], out=out, config=cfg, resume=resume, overwrite=overwrite and not resume,
        device=device, init_from=None if resume else record["base"], new_style=None if resume else record["style"],
        only_new_styles=recipe.only_new_style and not resume, progress=progress, echo=say,
        fresh_discriminator=fresh, on_step=on_step,
        discriminator_config=discriminator_config if fresh else None,
        resume_hint="run the same `zi2zi finetune` command again to resume from this checkpoint",
    )
    summary = train(options)
    refined = None
    if summary.checkpoint is not None and summary.step >= cfg.train.max_steps:
        refined = run_refining_stage(out, record, summary.checkpoint, device=device, seed=cfg.train.seed, say=say,
                                     on_step=on_refiner_step, amp=chosen)
    return FinetuneSummary(
        run_dir=out, data_dir=Path(record["data"]), base=Path(record["base"]), style=record["style"],
        train_glyphs=record["train_glyphs"], holdout_glyphs=record["holdout_glyphs"], recipe=recipe,
        checkpoint=summary.checkpoint, step=summary.step, refiner=refined, stopped=summary.stopped,
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
