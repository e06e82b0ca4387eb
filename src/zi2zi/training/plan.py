"""Planning a run: its resolved config and where its weights and styles come from.

Decided from metadata alone (no weights are loaded), so ``zi2zi train --dry-run`` shows, and
refuses, exactly what a real start would.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zi2zi import checkpoints as ckpt
from zi2zi.config import Config, ConfigError, DiscriminatorConfig
from zi2zi.errors import DatasetError, TrainingError
from zi2zi.training.styles import StylePlan, fresh_plan, plan_from_checkpoint

# Train keys that may change when a run resumes: how long and how chatty the run is, where it
# runs, and the learning rate (the usual fix after a divergence). Everything else must match the
# run's saved config.
RESUMABLE_CHANGES = frozenset(
    {
        "epochs", "max_steps", "max_minutes", "checkpoint_every", "keep_last", "sample_every",
        "eval_every", "log_every", "eval_max_chars", "device", "amp", "channels_last", "num_threads",
        "lr", "min_lr",
    }
)

def _config_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    out = []
    for key in a:
        name = prefix + key
        if isinstance(a[key], dict):
            out += _config_diff(a[key], b.get(key, {}), name + ".")
        elif a[key] != b.get(key):
            out.append((name, a[key], b.get(key)))
    return out


@dataclass
class RunPlan:
    """The resolved config of a run and where its weights come from, decided from metadata only
    (no weights loaded), so ``--dry-run`` can show exactly what training would use."""

    config: Config
    styles: StylePlan
    notes: list[str]
    resume_from: Path | None = None
    saved: dict[str, Any] | None = None  # metadata of the checkpoint resumed from
    init_checkpoint: Path | None = None
    init_meta: dict[str, Any] | None = None


def _adopt_saved_config(given_cfg: Config, saved: dict[str, Any], run_dir: Path) -> Config:
    """On resume the run's saved config rules; only RESUMABLE_CHANGES may differ."""
    stored = Config.from_dict(saved["config"])
    given = given_cfg.to_dict()
    # Derived when the run started (from the data or the init checkpoint), not chosen by the caller.
    given["model"]["image_size"] = stored.model.image_size
    given["model"]["generator"]["num_styles"] = stored.model.generator.num_styles
    if saved.get("init_from"):
        given["model"] = stored.to_dict()["model"]
    clashes = [
        (k, old, new)
        for k, old, new in _config_diff(stored.to_dict(), given)
        if not (k.startswith("train.") and k.split(".", 1)[1] in RESUMABLE_CHANGES)
    ]
    if clashes:
        detail = "; ".join(f"{k}: run has {old!r}, given {new!r}" for k, old, new in clashes[:5])
        raise TrainingError(
            f"cannot resume {run_dir} with a different config ({detail}); only "
            f"train.{{{', '.join(sorted(RESUMABLE_CHANGES))}}} may change on resume"
        )
    return Config.from_dict(given)


def plan_run(
    config: Config,
    manifest: dict[str, Any],
    *,
    data_dir: Path,
    run_dir: Path,
    resume_from: Path | None = None,
    init_from: str | Path | None = None,
    new_style: str | None = None,
    only_new_styles: bool = False,
    image_size_from_data: bool = False,
    fresh_discriminator: DiscriminatorConfig | None = None,
) -> RunPlan:
    """Resolve image size, style count and style ids against the dataset (and checkpoints).

    ``only_new_styles`` (with ``init_from``) sets ``train.train_styles`` to the styles this run adds,
    whose ids the user cannot know before the checkpoint is read. ``fresh_discriminator`` (with
    ``init_from``): the settings of a discriminator built from random weights, which replace the
    checkpoint's discriminator section (its weights are not loaded, so they need not match).
    """
    cfg = copy.deepcopy(config)
    notes: list[str] = []
    size = int(manifest["render"]["size"])
    data_styles = [{"id": int(s["id"]), "name": s["name"]} for s in manifest["styles"]]

    if resume_from is not None:
        saved = ckpt.read_metadata(resume_from)
        cfg = _adopt_saved_config(cfg, saved, run_dir)
        plan = StylePlan(
            styles=saved["styles"], data_to_model={int(k): int(v) for k, v in saved.get("style_map", {}).items()}
        )
        for s in data_styles:
            if s["id"] not in plan.data_to_model:
                raise DatasetError(
                    f"{data_dir} has style {s['id']} ({s['name']!r}) that the run being resumed never trained; "
                    "resume with the run's own dataset"
                )
        if cfg.model.image_size != size:
            raise DatasetError(f"{data_dir} is rendered at {size} px but the run trains at {cfg.model.image_size} px")
        return RunPlan(cfg, plan, notes, resume_from=resume_from, saved=saved)

    if init_from is not None:
        path = ckpt.resolve_checkpoint(init_from)
        meta = ckpt.read_metadata(path)
        base = Config.from_dict(meta["config"])
        if base.model.image_size != size:
            raise ConfigError(
                f"{path.name} was trained at {base.model.image_size} px but {data_dir} is rendered at {size} px; "
                f"render the new dataset at {base.model.image_size} px"
            )
        if cfg.to_dict()["model"] != base.to_dict()["model"]:
            notes.append(f"model section taken from {path.name} (the architecture of its weights)")
        cfg.model = copy.deepcopy(base.model)
        if fresh_discriminator is not None:
            cfg.model.discriminator = copy.deepcopy(fresh_discriminator)
            if fresh_discriminator != base.model.discriminator:
                notes.append("fresh discriminator: " + ", ".join(
                    f"{k}={v!r}" for k, v in dataclasses.asdict(fresh_discriminator).items()
                    if v != getattr(base.model.discriminator, k)))
        rows = int(meta.get("num_styles", base.model.generator.num_styles))
        plan = plan_from_checkpoint(meta.get("styles", []), data_styles, rows, new_style=new_style)
        if plan.added:
            notes.append("new styles: " + ", ".join(f"{n!r} -> id {i}" for n, i in zip(plan.added_names, plan.added)))
        cfg.model.generator.num_styles = max([rows] + [i + 1 for i in plan.added])
        if only_new_styles:
            if not plan.added:
                raise TrainingError(
                    f"--only-new-styles: every style of {data_dir} is already in {path.name} "
                    f"({', '.join(s['name'] for s in data_styles)}); name a new one with --new-style"
                )
            cfg.train.train_styles = list(plan.added)
            notes.append(f"training only the new style ids {plan.added}")
        return RunPlan(cfg.validate(), plan, notes, init_checkpoint=path, init_meta=meta)

    if cfg.model.image_size != size:
        if not image_size_from_data:
            raise ConfigError(
                f"model.image_size={cfg.model.image_size} but {data_dir} is rendered at {size} px; "
                f"set model.image_size={size} or render the dataset at {cfg.model.image_size} px"
            )
        notes.append(f"model.image_size {cfg.model.image_size} -> {size} (taken from the dataset)")
        cfg.model.image_size = size
    plan = fresh_plan(data_styles)
    cfg.model.generator.num_styles = max(cfg.model.generator.num_styles, 1 + max((s["id"] for s in data_styles), default=-1))
    return RunPlan(cfg.validate(), plan, notes)
