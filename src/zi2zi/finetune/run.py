"""Fine-tuning a base model to a new style: the input made into a dataset, then a short run.

The result is an ordinary run directory (``generate``, ``evaluate``, ``specimen`` and ``export``
use it unchanged) with the dataset it learned from in ``RUN/data`` and the choices made in
``RUN/finetune.json``. Running the same command again resumes an interrupted run.
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from zi2zi.errors import DatasetError
from zi2zi.finetune import inputs
from zi2zi.finetune.recipe import FinetuneRecipe, recipe_for

DATA_DIR = "data"
RECORD = "finetune.json"


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
    style_name: str | None = None,
    seed: int = 0,
    overwrite: bool = False,
    device: str | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> FinetuneSummary:
    """Fine-tune ``base`` (a shipped base name, a checkpoint or a run) on exactly one of ``target``
    (a font, with ``chars``), ``target_glyphs`` (a glyph folder) or ``data`` (a dataset).

    ``holdout``: characters kept out of training to measure the result (default 100 for a font,
    0 for glyphs: every written glyph is worth training on; a dataset keeps its own split).
    """
    from zi2zi.bases import resolve_base
    from zi2zi.training import checkpoint as ckpt

    say = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
    given = [x for x in (target, target_glyphs, data) if x is not None]
    if len(given) != 1:
        raise DatasetError("give exactly one of --target FONT, --target-glyphs DIR or --data DATASET")
    if chars is not None and target is None:
        raise DatasetError("--chars picks the characters of a --target font; the other inputs bring their own")
    out = Path(out)
    base_path = resolve_base(base)
    loaded = ckpt.load_checkpoint(base_path)
    record_path = out / RECORD
    resume = record_path.is_file() and ckpt.latest_resumable(out) is not None and not overwrite
    source = inputs.base_source_font(loaded.data_info, say)

    if resume:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        data_dir, style = Path(record["data"]), record["style"]
        say(f"resuming the fine-tuning run in {out}")
    else:
        if out.exists() and not out.is_dir():
            raise DatasetError(f"{out} exists and is not a folder; choose another --out")
        if ckpt.list_checkpoints(out) and not overwrite:
            raise DatasetError(f"{out} already holds a run; pass --overwrite to start it again, or choose another --out")
        out.mkdir(parents=True, exist_ok=True)
        base_holdout = str(loaded.meta.get("base", {}).get("holdout", ""))
        if data is not None:
            inputs.check_dataset(data, source=source, settings=loaded.render)
            data_dir, style = Path(data), None
        elif target is not None:
            data_dir, style = inputs.dataset_from_font(
                target, out / DATA_DIR, source=source, settings=loaded.render, chars=chars,
                holdout=100 if holdout is None else holdout, base_holdout=base_holdout,
                style_name=style_name, seed=seed)
        else:
            data_dir, style = inputs.dataset_from_glyph_folder(
                target_glyphs, out / DATA_DIR, source=source, settings=loaded.render,
                holdout=holdout or 0, style_name=style_name, seed=seed)
        from zi2zi.data.layout import read_manifest

        manifest = read_manifest(data_dir)
        style = style_name or style or manifest["styles"][0]["name"]
        if style in {s["name"] for s in loaded.styles}:
            style = f"{style} (fine-tuned)"

    from zi2zi.data.layout import read_manifest

    split = read_manifest(data_dir)["split"]
    n_train, n_held = len(split["train"]), len(split["holdout"])
    recipe = recipe_for(n_train, steps=steps)
    if resume:  # the run's own config rules a resume (the trainer refuses any other)
        from zi2zi.config import Config

        cfg = Config.from_dict(json.loads((out / "config.json").read_text(encoding="utf-8")))
        recipe = FinetuneRecipe(**record["recipe"])
        return _train(cfg, data_dir, out, base_path, style, recipe, n_train, n_held, resume=True,
                      device=device, progress=progress, say=say)
    cfg = copy.deepcopy(loaded.config)
    t = cfg.train
    t.max_steps, t.lr, t.schedule = recipe.steps, recipe.lr, "constant"
    t.batch_size = min(recipe.batch_size, n_train)
    t.freeze_encoder = recipe.freeze_encoder
    t.max_minutes, t.epochs, t.seed = 0.0, 1, seed
    t.checkpoint_every = max(50, recipe.steps // 2)
    t.sample_every = t.eval_every = max(50, recipe.steps // 4)
    t.train_styles = []
    _write_record(record_path, {"base": str(base_path), "base_name": Path(base_path).stem, "data": str(data_dir),
                                "style": style, "train_glyphs": n_train, "holdout_glyphs": n_held,
                                "recipe": recipe.to_dict()})
    say(f"fine-tuning {Path(base_path).stem} on {n_train} glyphs ({n_held} held out) as style {style!r}: "
        f"{recipe.steps} steps, lr {recipe.lr:g}, encoder {'frozen' if recipe.freeze_encoder else 'trained'}")
    return _train(cfg, data_dir, out, base_path, style, recipe, n_train, n_held, resume=False,
                  overwrite=overwrite, device=device, progress=progress, say=say)


def _train(cfg: Any, data_dir: Path, out: Path, base_path: Path, style: str, recipe: FinetuneRecipe, n_train: int,
           n_held: int, *, resume: bool, device: str | None, progress: bool, say: Callable[[str], None],
           overwrite: bool = False) -> FinetuneSummary:
    from zi2zi.training.trainer import train

    summary = train(cfg, data_dir, out, resume=resume, overwrite=overwrite, device=device,
                    init_from=None if resume else base_path, new_style=None if resume else style,
                    only_new_styles=recipe.only_new_style and not resume, progress=progress, echo=say)
    return FinetuneSummary(run_dir=out, data_dir=data_dir, base=base_path, style=style, train_glyphs=n_train,
                           holdout_glyphs=n_held, recipe=recipe, checkpoint=summary.checkpoint, step=summary.step)


def _write_record(path: Path, record: dict[str, Any]) -> None:
    from zi2zi.training.checkpoint import write_text_atomic

    write_text_atomic(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
