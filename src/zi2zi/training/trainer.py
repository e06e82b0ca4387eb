"""The training loop: one run directory that can be left running, killed, resumed and read.

``RUN/`` holds ``config.json`` (the resolved config), ``run.json`` (data, styles, device, the
trivial baseline), ``metrics.jsonl``, ``samples/step-*.png`` and ``checkpoints/``. The loop knows
nothing about zi2zi's losses: it feeds batches to a :class:`~zi2zi.training.step.GanStep`.

Reproducibility: the data order, augmentation, label shuffling and dropout all come from seeded
generators whose states are saved with each checkpoint, so a run killed at any point and resumed
from its last checkpoint computes the same losses as one never stopped (bit for bit on CPU; on a
GPU with ``train.deterministic``, which also asks torch for deterministic kernels).
"""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from zi2zi import __version__
from zi2zi.config import Config, ConfigError, TrainConfig
from zi2zi.errors import CheckpointError, DatasetError, Zi2ziError
from zi2zi.training import checkpoint as ckpt
from zi2zi.training import distributed as ddp
from zi2zi.training import finetune
from zi2zi.training.runlog import Progress, RunLog, truncate_metrics
from zi2zi.training.samples import pick_sample_indices, save_sample_grid
from zi2zi.training.schedule import learning_rate
from zi2zi.training.step import NonFiniteLossError, Precision, Zi2ziStep

CONFIG_FILE = "config.json"
RUN_FILE = "run.json"
SAMPLES_DIR = "samples"
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
SAMPLES_PER_STYLE = 4


class TrainingError(Zi2ziError):
    """Training cannot go on (a non-finite loss, a run directory in the way, a config clash)."""


@dataclass
class TrainSummary:
    run_dir: Path
    step: int
    epoch: int
    stopped: str  # "completed" | "max_minutes" | "interrupted"
    last_checkpoint: Path | None
    best_checkpoint: Path | None
    best_val_l1: float | None
    images_per_second: float

    @property
    def checkpoint(self) -> Path | None:
        """The checkpoint to use: the best one when validation ran, else the last."""
        return self.best_checkpoint or self.last_checkpoint


# ---- run directory ---------------------------------------------------------------------------


def _clear_run(run_dir: Path) -> None:
    """Remove what a run writes (only that: the folder may hold the user's own files)."""
    for name in (ckpt.CHECKPOINT_DIR, SAMPLES_DIR, "tensorboard"):
        shutil.rmtree(run_dir / name, ignore_errors=True)
    for name in (CONFIG_FILE, RUN_FILE, "metrics.jsonl"):
        (run_dir / name).unlink(missing_ok=True)


def _clean_stale_temporaries(run_dir: Path) -> None:
    """Temporary files of writes that a kill interrupted: never valid, safe to delete."""
    for folder in (run_dir, run_dir / ckpt.CHECKPOINT_DIR, run_dir / SAMPLES_DIR):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def _config_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    out = []
    for key in a:
        name = prefix + key
        if isinstance(a[key], dict):
            out += _config_diff(a[key], b.get(key, {}), name + ".")
        elif a[key] != b.get(key):
            out.append((name, a[key], b.get(key)))
    return out


def _set_seeds(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state(device: torch.device) -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def _precision(amp: str, device: torch.device) -> Precision:
    if amp == "none" or (amp == "auto" and device.type != "cuda"):
        return Precision(device.type, None)
    if amp == "auto":
        amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return Precision(device.type, torch.bfloat16 if amp == "bf16" else torch.float16)


def _order_generator(seed: int, epoch: int) -> torch.Generator:
    """The data order of an epoch depends on (seed, epoch) only: every rank draws the same
    permutation, and a resumed run redraws it instead of storing it."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


class _StopSignals:
    """SIGINT/SIGTERM ask the loop to stop after the current iteration and checkpoint; a second
    SIGINT interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "_StopSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def check_train_config(t: TrainConfig) -> None:
    """Values the loop would trip over later (a zero modulus, an empty batch), refused up front."""
    positive = {"batch_size": t.batch_size, "log_every": t.log_every, "keep_last": t.keep_last}
    non_negative = {
        "epochs": t.epochs, "max_steps": t.max_steps, "max_minutes": t.max_minutes,
        "checkpoint_every": t.checkpoint_every, "sample_every": t.sample_every, "eval_every": t.eval_every,
        "eval_max_chars": t.eval_max_chars, "num_threads": t.num_threads,
    }
    for name, value in positive.items():
        if value < 1:
            raise ConfigError(f"train.{name}={value} must be >= 1")
    for name, value in non_negative.items():
        if value < 0:
            raise ConfigError(f"train.{name}={value} must be >= 0 (0 turns it off or means the default)")
    if t.max_steps == 0 and t.epochs == 0:
        raise ConfigError("train.epochs and train.max_steps are both 0: set how long to train")
    if not (t.lr > 0 and t.min_lr >= 0):
        raise ConfigError(f"train.lr={t.lr} must be > 0 and train.min_lr={t.min_lr} >= 0")


# ---- resolving a run's config ----------------------------------------------------------------


@dataclass
class RunPlan:
    """The resolved config of a run and where its weights come from, decided from metadata only
    (no weights loaded), so ``--dry-run`` can show exactly what training would use."""

    config: Config
    styles: finetune.StylePlan
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
) -> RunPlan:
    """Resolve image size, style count and style ids against the dataset (and checkpoints).

    ``only_new_styles`` (with ``init_from``) sets ``train.train_styles`` to the styles this run adds,
    whose ids the user cannot know before the checkpoint is read.
    """
    if only_new_styles and init_from is None:
        raise TrainingError("--only-new-styles trains the styles added to a checkpoint; it needs --init-from CKPT")
    cfg = copy.deepcopy(config)
    notes: list[str] = []
    size = int(manifest["render"]["size"])
    data_styles = [{"id": int(s["id"]), "name": s["name"]} for s in manifest["styles"]]

    if resume_from is not None:
        saved = ckpt.read_metadata(resume_from)
        cfg = _adopt_saved_config(cfg, saved, run_dir)
        plan = finetune.StylePlan(
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
        rows = int(meta.get("num_styles", base.model.generator.num_styles))
        plan = finetune.plan_from_checkpoint(meta.get("styles", []), data_styles, rows, new_style=new_style)
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
        return RunPlan(cfg, plan, notes, init_checkpoint=path, init_meta=meta)

    if new_style is not None:
        raise TrainingError("--new-style names a style added to a trained model; it needs --init-from CKPT")
    if cfg.model.image_size != size:
        if not image_size_from_data:
            raise ConfigError(
                f"model.image_size={cfg.model.image_size} but {data_dir} is rendered at {size} px; "
                f"set model.image_size={size} or render the dataset at {cfg.model.image_size} px"
            )
        notes.append(f"model.image_size {cfg.model.image_size} -> {size} (taken from the dataset)")
        cfg.model.image_size = size
    plan = finetune.fresh_plan(data_styles)
    cfg.model.generator.num_styles = max(cfg.model.generator.num_styles, 1 + max((s["id"] for s in data_styles), default=-1))
    return RunPlan(cfg, plan, notes)


# ---- the trainer -----------------------------------------------------------------------------


class Trainer:
    """Prepares a run (data, models, state) on construction; :meth:`fit` trains it.

    ``image_size_from_data``: when the config's image size was not chosen by the user, take the
    dataset's (the CLI decides this); otherwise a mismatch is an error.
    """

    def __init__(
        self,
        config: Config,
        data_dir: str | Path,
        out_dir: str | Path,
        *,
        resume: bool = False,
        overwrite: bool = False,
        device: str | None = None,
        init_from: str | Path | None = None,
        new_style: str | None = None,
        only_new_styles: bool = False,
        image_size_from_data: bool = False,
        dist_info: ddp.DistInfo | None = None,
        progress: bool = True,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        if resume and overwrite:
            raise TrainingError("--resume and --overwrite contradict each other; pick one")
        if resume and init_from:
            raise TrainingError("--init-from starts a new run from a checkpoint; to continue a run use --resume alone")
        config = copy.deepcopy(config)
        if device:
            config.train.device = device
        self.data_dir = Path(data_dir)
        self.run_dir = Path(out_dir)
        self.dist = dist_info or ddp.env_dist_info()
        self.is_main = self.dist.is_main
        self._echo = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._progress_enabled = progress and self.is_main

        self.device = ddp.resolve_device(config.train.device, self.dist)
        ddp.init_process_group(self.dist, self.device)
        resume_from = self._prepare_run_dir(resume, overwrite)

        # ---- data and the resolved config ----
        self.train_data = _load_split(self.data_dir, "train")
        run = plan_run(
            config, self.train_data.manifest, data_dir=self.data_dir, run_dir=self.run_dir,
            resume_from=resume_from, init_from=init_from, new_style=new_style,
            only_new_styles=only_new_styles, image_size_from_data=image_size_from_data,
        )
        self.cfg, self.plan, self.notes = run.config, run.styles, run.notes
        check_train_config(self.cfg.train)
        self._configure_torch()

        # ---- models ----
        _set_seeds(self.cfg.train.seed)  # identical initial weights on every rank
        from zi2zi.models import build_models

        previous_info: dict[str, Any] | None = None
        self.init_from: str | None = None
        if run.saved is not None:
            self.G, self.D = build_models(self.cfg, self.cfg.model.generator.num_styles)
            weights = ckpt.read_weights(resume_from)
            self.G.load_state_dict(weights["generator"])
            self.D.load_state_dict(weights["discriminator"])
            previous_info = run.saved.get("data_info")
            self.init_from = run.saved.get("init_from")
        elif run.init_checkpoint is not None:
            loaded = ckpt.load_checkpoint(run.init_checkpoint, device="cpu")
            self.G, self.D = loaded.generator, loaded.discriminator
            if self.plan.added:
                trained = [int(s["id"]) for s in loaded.styles] or None
                finetune.claim_rows(self.G, self.D, self.plan.added, like=trained)
            previous_info = loaded.data_info
            self.init_from = str(run.init_checkpoint)
        else:
            self.G, self.D = build_models(self.cfg, self.cfg.model.generator.num_styles)
        self.data_info = finetune.data_info(self.train_data.manifest, self.plan, previous_info)
        self._lookup = torch.from_numpy(self.plan.lookup())
        self._select_training_pairs()

        self.G.to(self.device)
        self.D.to(self.device)
        if self.cfg.train.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.G.train()
        self.D.train()

        # ---- the GAN step ----
        seed = self.cfg.train.seed
        trained_ids = sorted({int(self._lookup[s]) for s in np.unique(self.train_data.style_ids)})
        self.gan = Zi2ziStep(
            self.G,
            self.D,
            self.cfg,
            device=self.device,
            precision=_precision(self.cfg.train.amp, self.device),
            ddp=self.dist.enabled,
            freeze_encoder=self.cfg.train.freeze_encoder,
            trainable_styles=self.cfg.train.train_styles or None,
            flip_styles=trained_ids,
            flip_generator=torch.Generator().manual_seed(seed + 7919 * (1 + self.dist.rank)),
        )
        self.augment_generator = torch.Generator().manual_seed(seed + 104729 * (1 + self.dist.rank))
        # Dropout differs per rank (it should: different data), initial weights did not.
        torch.manual_seed(seed + 15485863 * self.dist.rank)

        # ---- position ----
        self.per_rank = len(self.train_data) // self.dist.world_size
        self.steps_per_epoch = self.per_rank // self.cfg.train.batch_size
        if self.steps_per_epoch == 0:
            raise DatasetError(
                f"{self.data_dir} has {len(self.train_data)} training pairs"
                + (f" ({self.per_rank} per process)" if self.dist.enabled else "")
                + f", fewer than one batch of train.batch_size={self.cfg.train.batch_size}; "
                "lower the batch size or render more characters"
            )
        t = self.cfg.train
        self.total_steps = t.max_steps if t.max_steps > 0 else t.epochs * self.steps_per_epoch
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.best_val_l1: float | None = None
        self.last_checkpoint: Path | None = None
        self.last_metrics: dict[str, float] = {}
        if resume_from is not None:
            self._load_state(resume_from, run.saved)

        # ---- validation ----
        self.val_data = _load_split(self.data_dir, "val", required=False)
        self._prepare_eval_sets()

    # ---- setup helpers -----------------------------------------------------------------------

    def _configure_torch(self) -> None:
        t = self.cfg.train
        if t.num_threads > 0:
            torch.set_num_threads(t.num_threads)
        if t.deterministic:
            # cuBLAS needs this before its first use to be deterministic.
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        elif self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    def _prepare_run_dir(self, resume: bool, overwrite: bool) -> Path | None:
        """Refuse to mix runs; returns the checkpoint to resume from, if any."""
        run = self.run_dir
        if overwrite and self.is_main and run.exists():
            _clear_run(run)
        ddp.barrier(self.dist)
        existing = ckpt.list_checkpoints(run)
        if resume:
            latest = ckpt.latest_resumable(run)
            if latest is None:
                raise TrainingError(
                    f"--resume: {run} has no checkpoint to resume from; start the run without --resume"
                )
            return latest
        if existing:
            raise TrainingError(
                f"{run} already holds a run ({len(existing)} checkpoint(s), newest {existing[-1].name}); "
                "pass --resume to continue it, --overwrite to start over, or choose another --out"
            )
        if self.is_main:
            # Left by a run killed before its first checkpoint: nothing there can be resumed.
            _clear_run(run)
            run.mkdir(parents=True, exist_ok=True)
        ddp.barrier(self.dist)
        return None

    def _select_training_pairs(self) -> None:
        """Drop pairs whose style is not trained (train.train_styles, in model ids)."""
        wanted = self.cfg.train.train_styles
        if not wanted:
            return
        known = {s["id"] for s in self.plan.styles}
        unknown = sorted(set(wanted) - set(range(self.cfg.model.generator.num_styles)))
        if unknown:
            raise ConfigError(
                f"train.train_styles has style id {unknown[0]}, but the model has ids 0-"
                f"{self.cfg.model.generator.num_styles - 1} (styles: "
                + ", ".join(f"{s['id']}={s['name']}" for s in self.plan.styles)
                + ")"
            )
        model_ids = self._lookup[torch.from_numpy(self.train_data.style_ids)].numpy()
        keep = np.isin(model_ids, np.asarray(wanted))
        if not keep.any():
            raise DatasetError(
                f"none of {self.data_dir}'s training pairs has a style in train.train_styles={wanted} "
                f"(its styles map to model ids {sorted(set(model_ids.tolist()))}; known: {sorted(known)})"
            )
        self.train_data = _Subset(self.train_data, np.flatnonzero(keep))

    def _prepare_eval_sets(self) -> None:
        """A fixed choice of validation pairs for metrics and for the sample grids."""
        val = self.val_data if self.val_data is not None and len(self.val_data) else None
        wanted = self.cfg.train.train_styles
        if val is not None and wanted:
            model_ids = self._lookup[torch.from_numpy(val.style_ids)].numpy()
            keep = np.flatnonzero(np.isin(model_ids, np.asarray(wanted)))
            val = _Subset(val, keep) if len(keep) else None
        self.eval_source = val
        if val is None:
            self.notes.append("the dataset has no validation split: no validation metrics, samples from training pairs")
            self.eval_indices = np.zeros(0, dtype=np.int64)
            sample_from = self.train_data
        else:
            n, cap = len(val), self.cfg.train.eval_max_chars
            order = torch.randperm(n, generator=torch.Generator().manual_seed(self.cfg.train.seed)).numpy()
            self.eval_indices = np.sort(order[: cap if cap > 0 else n])
            sample_from = val
        self.sample_source = sample_from
        self.sample_indices = pick_sample_indices(sample_from.style_ids, SAMPLES_PER_STYLE, seed=self.cfg.train.seed)

    # ---- batches -----------------------------------------------------------------------------

    def _epoch_order(self, epoch: int) -> np.ndarray:
        perm = torch.randperm(len(self.train_data), generator=_order_generator(self.cfg.train.seed, epoch)).numpy()
        return ddp.shard(perm, self.dist)

    def _batch(self, data: Any, indices: np.ndarray, *, augment: bool) -> dict[str, torch.Tensor]:
        batch = data.batch(indices)  # uint8 arrays indexed, then (B, 1, S, S) floats in [-1, 1]
        batch["style"] = self._lookup[batch["style"]]
        if augment:
            from zi2zi.data import paired_augment

            batch["source"], batch["target"] = paired_augment(batch["source"], batch["target"], self.augment_generator)
        return batch

    # ---- state -------------------------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        return {
            "config": self.cfg.to_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "num_styles": int(self.G.num_styles),
            "styles": self.plan.styles,
            "style_map": {str(k): v for k, v in self.plan.data_to_model.items()},
            "render": self.train_data.manifest.get("render", {}),
            "data_info": self.data_info,
            "metrics": self.last_metrics,
            "init_from": self.init_from,
        }

    def _training_state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "data_order": {"seed": self.cfg.train.seed, "epoch": self.epoch, "kind": "randperm(seed*1000003+epoch)"},
            "gan": self.gan.state_dict(),
            "augment_generator": self.augment_generator.get_state(),
            "rng": _rng_state(self.device),
            "best_val_l1": self.best_val_l1,
            "world_size": self.dist.world_size,
        }

    def _load_state(self, weights_path: Path, saved: dict[str, Any]) -> None:
        state_file = ckpt.state_path(weights_path)
        try:
            state = torch.load(state_file, map_location="cpu", weights_only=False)
        except Exception as exc:
            raise CheckpointError(f"{state_file} cannot be read ({type(exc).__name__}: {exc}); it is corrupt") from None
        if state.get("world_size", 1) != self.dist.world_size:
            self.notes.append(
                f"resumed with {self.dist.world_size} process(es), saved with {state.get('world_size')}: "
                "the data order of the current epoch changes"
            )
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.gan.load_state_dict(state["gan"])
        self.augment_generator.set_state(state["augment_generator"])
        if self.dist.world_size == state.get("world_size", 1):
            _set_rng_state(state["rng"], self.device)
        self.best_val_l1 = state.get("best_val_l1")
        self.last_checkpoint = weights_path
        self.last_metrics = dict(saved.get("metrics") or {})
        self.notes.append(f"resumed from {weights_path.name} (step {self.step}, epoch {self.epoch})")

    def save_checkpoint(self) -> Path:
        """Rank 0 writes weights + state (state first: weights without state is not resumable)."""
        path = self.run_dir / ckpt.CHECKPOINT_DIR / ckpt.checkpoint_name(self.step)
        if self.is_main:
            ckpt.save_state(ckpt.state_path(path), self._training_state())
            ckpt.save_weights(path, generator=self.G, discriminator=self.D, meta=self._meta())
            val_l1 = self.last_metrics.get("val_l1")
            if val_l1 is not None and (self.best_val_l1 is None or val_l1 < self.best_val_l1):
                self.best_val_l1 = val_l1
                ckpt.copy_atomic(path, self.run_dir / ckpt.CHECKPOINT_DIR / ckpt.BEST)
                # The state of this step was written before best moved; rewrite it so a resume
                # from here knows the new best.
                ckpt.save_state(ckpt.state_path(path), self._training_state())
            ckpt.prune(self.run_dir, self.cfg.train.keep_last)
        self.last_checkpoint = path
        ddp.barrier(self.dist)
        return path

    # ---- evaluation and samples (rank 0) -----------------------------------------------------

    @contextmanager
    def _eval_mode(self) -> Iterator[None]:
        """Networks in eval mode (dropout off, BatchNorm running statistics, none updated), then back."""
        nets = list(self.gan.networks().values())
        modes = [n.training for n in nets]
        for n in nets:
            n.eval()
        try:
            yield
        finally:
            for n, mode in zip(nets, modes):
                n.train(mode)

    def _val_metrics(self, predict: bool) -> dict[str, float]:
        from zi2zi.metrics.pixel import l1, ssim, to_unit

        if self.eval_source is None or not len(self.eval_indices):
            return {}
        sums = {"val_l1": 0.0, "val_ssim": 0.0}
        bs = max(self.cfg.train.batch_size, 32)
        with self._eval_mode(), torch.no_grad():
            for start in range(0, len(self.eval_indices), bs):
                batch = self._batch(self.eval_source, self.eval_indices[start : start + bs], augment=False)
                if predict:
                    pred = to_unit(self.gan.predict(batch["source"], batch["style"]).cpu())
                else:
                    pred = to_unit(batch["source"])
                target = to_unit(batch["target"])
                sums["val_l1"] += float(l1(pred, target).sum())
                sums["val_ssim"] += float(ssim(pred, target).sum())
        return {k: v / len(self.eval_indices) for k, v in sums.items()}

    def evaluate(self) -> dict[str, float]:
        """Validation L1 and SSIM on [0, 1] images, G in eval mode, at most eval_max_chars pairs."""
        return self._val_metrics(predict=True)

    def baseline(self) -> dict[str, float]:
        """The trivial baseline on the same pairs: the source glyph itself used as the prediction."""
        return self._val_metrics(predict=False)

    def save_samples(self) -> Path:
        batch = self._batch(self.sample_source, self.sample_indices, augment=False)
        with self._eval_mode():
            fake = self.gan.predict(batch["source"], batch["style"]).cpu()
        path = self.run_dir / SAMPLES_DIR / f"step-{self.step:08d}.png"
        return save_sample_grid(path, batch["source"], fake, batch["target"])

    # ---- the loop ----------------------------------------------------------------------------

    def _write_run_files(self, log: RunLog) -> None:
        ckpt.write_text_atomic(self.run_dir / CONFIG_FILE, self.cfg.to_json() + "\n")
        info = {
            "zi2zi_version": __version__,
            "data_dir": str(self.data_dir),
            "train_pairs": len(self.train_data),
            "val_pairs": 0 if self.eval_source is None else len(self.eval_source),
            "eval_pairs": int(len(self.eval_indices)),
            "styles": self.plan.styles,
            "style_map": {str(k): v for k, v in self.plan.data_to_model.items()},
            "init_from": self.init_from,
            "device": str(self.device),
            "world_size": self.dist.world_size,
            "precision": str(self.gan.precision.dtype or "fp32"),
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
            "notes": self.notes,
        }
        path = self.run_dir / RUN_FILE
        if path.is_file():  # keep the history of a resumed run's starts
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
                info["baseline"] = old.get("baseline")
                info["starts"] = old.get("starts", []) + [{"step": self.step, "notes": self.notes}]
            except json.JSONDecodeError:
                pass
        info.setdefault("starts", [{"step": self.step, "notes": self.notes}])
        if not info.get("baseline"):
            info["baseline"] = self.baseline()
            if info["baseline"]:
                log.write({"kind": "baseline", "step": self.step, "epoch": self.epoch, **info["baseline"]})
        ckpt.write_text_atomic(path, json.dumps(info, indent=2, ensure_ascii=False) + "\n")

    def fit(self) -> TrainSummary:
        t = self.cfg.train
        main = self.is_main
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            _clean_stale_temporaries(self.run_dir)
            truncate_metrics(self.run_dir / "metrics.jsonl", self.step)
        log = RunLog(self.run_dir, enabled=main)
        if main:
            self._write_run_files(log)
            for note in self.notes:
                self._echo(f"zi2zi train: {note}")
        bar = Progress(total=self.total_steps, initial=self.step, enabled=self._progress_enabled)
        started = time.monotonic()
        tick, tick_step = time.monotonic(), self.step
        images = 0
        stopped = "completed"
        order = self._epoch_order(self.epoch)
        try:
            with _StopSignals() as signals:
                while self.step < self.total_steps:
                    if self.batch_in_epoch >= self.steps_per_epoch:
                        self.epoch += 1
                        self.batch_in_epoch = 0
                        order = self._epoch_order(self.epoch)
                    lr = learning_rate(t, step=self.step, epoch=self.epoch, total_steps=self.total_steps)
                    self.gan.set_lr(lr)
                    sched = self.gan.set_step(self.step)
                    bs = t.batch_size
                    idx = order[self.batch_in_epoch * bs : (self.batch_in_epoch + 1) * bs]
                    self.gan.set_input(self._batch(self.train_data, idx, augment=t.augment))
                    try:
                        self.gan.optimize()
                    except NonFiniteLossError as exc:
                        self._fail_non_finite(exc, log)
                    self.step += 1
                    self.batch_in_epoch += 1
                    images += bs * self.dist.world_size

                    if self.step % t.log_every == 0 or self.step == self.total_steps:
                        losses = self.gan.current_losses()
                        now = time.monotonic()
                        rate = bs * self.dist.world_size * (self.step - tick_step) / max(now - tick, 1e-9)
                        tick, tick_step = now, self.step
                        log.write({"kind": "train", "step": self.step, "epoch": self.epoch, **losses,
                                   "lr": lr, "img_per_s": rate, **sched})
                        bar.update(0, d=losses.get("d_loss", 0.0), g=losses.get("g_loss", 0.0),
                                   l1=losses.get("l1", 0.0), img_s=rate)
                    bar.update(1)

                    if t.eval_every > 0 and self.step % t.eval_every == 0:
                        self._run_eval(log)
                    if t.sample_every > 0 and self.step % t.sample_every == 0:
                        if main:
                            self.save_samples()
                        ddp.barrier(self.dist)

                    timed_out = t.max_minutes > 0 and (time.monotonic() - started) / 60.0 >= t.max_minutes
                    stop = ddp.any_rank(timed_out or signals.requested, self.dist, self.device)
                    if stop and self.step < self.total_steps:
                        stopped = "max_minutes" if timed_out else "interrupted"
                        break
                    if t.checkpoint_every > 0 and self.step % t.checkpoint_every == 0:
                        self._checkpoint_with_eval(log)
                if self.last_checkpoint is None or self.last_checkpoint.name != ckpt.checkpoint_name(self.step):
                    self._checkpoint_with_eval(log)
        finally:
            bar.close()
            log.close()
        elapsed = time.monotonic() - started
        best = self.run_dir / ckpt.CHECKPOINT_DIR / ckpt.BEST
        summary = TrainSummary(
            run_dir=self.run_dir,
            step=self.step,
            epoch=self.epoch,
            stopped=stopped,
            last_checkpoint=self.last_checkpoint,
            best_checkpoint=best if best.is_file() else None,
            best_val_l1=self.best_val_l1,
            images_per_second=images / elapsed if elapsed > 0 else 0.0,
        )
        if main and stopped != "completed":
            self._echo(f"zi2zi train: stopped ({stopped}) at step {self.step}; continue with --resume")
        return summary

    def _run_eval(self, log: RunLog) -> None:
        if self.is_main:
            metrics = self.evaluate()
            if metrics:
                self.last_metrics = {**metrics, "step": self.step}
                log.write({"kind": "eval", "step": self.step, "epoch": self.epoch, **metrics})
        ddp.barrier(self.dist)

    def _checkpoint_with_eval(self, log: RunLog) -> None:
        # The metrics stored with a checkpoint (and the choice of best) must describe its weights.
        # Decided from the schedule, not from state, so that every rank meets the same barriers.
        every = self.cfg.train.eval_every
        if not (every > 0 and self.step % every == 0):
            self._run_eval(log)
        self.save_checkpoint()

    def _fail_non_finite(self, exc: NonFiniteLossError, log: RunLog) -> None:
        step = self.step + 1
        log.write({"kind": "error", "step": step, "epoch": self.epoch, "error": "non-finite loss",
                   "losses": {k: str(v) for k, v in exc.values.items()}})
        last = self.last_checkpoint
        where = f"the last good checkpoint is {last}" if last else "no checkpoint had been saved yet"
        what = str(exc) if exc.names else "a non-finite loss on another process"
        raise TrainingError(
            f"training stopped at step {step}: {what}; {where}, and nothing was saved after the failure. "
            "Lower train.lr (or check the data), then resume from that checkpoint or start over"
        ) from None


class _Subset:
    """A view of some pairs of a GlyphDataset with the same batch interface."""

    def __init__(self, base: Any, indices: np.ndarray) -> None:
        self.base = base
        self.indices = np.asarray(indices, dtype=np.int64)
        self.style_ids = base.style_ids[self.indices]
        self.styles = base.styles
        self.manifest = base.manifest
        self.image_size = base.image_size

    def __len__(self) -> int:
        return len(self.indices)

    def batch(self, indices: np.ndarray) -> dict[str, torch.Tensor]:
        return self.base.batch(self.indices[indices])


def _load_split(root: Path, split: str, *, required: bool = True):
    from zi2zi.data import GlyphDataset

    try:
        return GlyphDataset(root, split=split)
    except DatasetError:
        if required:
            raise
        return None


# ---- library entry -----------------------------------------------------------------------------


def train(
    config: Config,
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    device: str | None = None,
    init_from: str | Path | None = None,
    new_style: str | None = None,
    only_new_styles: bool = False,
    image_size_from_data: bool = False,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> TrainSummary:
    """Train (or resume, or fine-tune) a zi2zi model; returns where it ended and what it saved.

    Under ``torchrun`` each process calls this; rank 0 alone writes the run directory.
    """
    info = ddp.env_dist_info()
    trainer = None
    try:
        trainer = Trainer(
            config, data_dir, out_dir, resume=resume, overwrite=overwrite, device=device,
            init_from=init_from, new_style=new_style, only_new_styles=only_new_styles,
            image_size_from_data=image_size_from_data, dist_info=info, progress=progress, echo=echo,
        )
        return trainer.fit()
    finally:
        ddp.destroy_process_group(info)


__all__ = ["TrainSummary", "Trainer", "TrainingError", "train"]
