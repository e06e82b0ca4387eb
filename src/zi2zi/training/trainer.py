"""The training loop: a run that can be left running, killed, resumed and read.

:class:`Trainer` prepares a run from :class:`~zi2zi.training.options.TrainOptions` (the run
directory, the plan, models, the GAN step, the position); :meth:`Trainer.fit` is the loop. The loop
knows nothing about zi2zi's losses: it feeds batches to a :class:`~zi2zi.training.step.GanStep`.

Reproducibility: the data order, augmentation, label shuffling and dropout all come from seeded
generators whose states are saved with each checkpoint, so a run killed at any point and resumed
from its last checkpoint computes the same losses as one never stopped (bit for bit on CPU; on a
GPU with ``train.deterministic``, which also asks torch for deterministic kernels).
"""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zi2zi import __version__
from zi2zi import checkpoints as ckpt
from zi2zi.config import Config, ConfigError
from zi2zi.errors import CheckpointError, DatasetError, TrainingError
from zi2zi.storage import FolderLock, write_text
from zi2zi.training import distributed as ddp
from zi2zi.training import rundir, runtime, styles
from zi2zi.training.options import TrainOptions
from zi2zi.training.pairs import Subset, load_optional_split, load_split
from zi2zi.training.plan import RESUMABLE_CHANGES, RunPlan, plan_run
from zi2zi.training.runlog import Progress, RunLog, truncate_metrics
from zi2zi.training.samples import pick_sample_indices, save_sample_grid
from zi2zi.training.schedule import learning_rate
from zi2zi.training.step import NonFiniteLossError, Zi2ziStep
from zi2zi.training.validation import chunks, eval_mode, pixel_metrics

# Kept importable from here for callers of the earlier single-module trainer.
CONFIG_FILE, RUN_FILE, SAMPLES_DIR = rundir.CONFIG_FILE, rundir.RUN_FILE, rundir.SAMPLES_DIR
_precision = runtime.precision
SAMPLES_PER_STYLE = 4


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


class Trainer:
    """Prepares a run on construction; :meth:`fit` trains it. Rank 0 alone writes the run directory
    (holding its lock until :meth:`close`)."""

    def __init__(self, options: TrainOptions, *, dist_info: ddp.DistInfo | None = None) -> None:
        self.options = options.check()
        config = copy.deepcopy(options.config)
        if options.device:
            config.train.device = options.device
        self.data_dir, self.run_dir = Path(options.data), Path(options.out)
        self.dist = dist_info or ddp.env_dist_info()
        self.is_main = self.dist.is_main
        self._echo = options.echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.device = ddp.resolve_device(config.train.device, self.dist)
        self.lock = FolderLock(self.run_dir, what="run directory", notify=self._echo) if self.is_main else None
        created = self.is_main and not self.run_dir.exists()
        try:
            self._setup(config)
        except BaseException:
            self.close()
            if created and self.run_dir.is_dir() and not any(self.run_dir.iterdir()):
                self.run_dir.rmdir()  # a refused start leaves no empty folder behind
            raise

    def _setup(self, config: Config) -> None:
        ddp.init_process_group(self.dist, self.device)
        if self.lock is not None:
            self.lock.acquire()
            resume_from = rundir.prepare(self.run_dir, resume=self.options.resume, overwrite=self.options.overwrite,
                                         notify=self._echo)
        ddp.barrier(self.dist)
        if not self.is_main:
            resume_from = ckpt.latest_resumable(self.run_dir) if self.options.resume else None
        self.train_data: Any = load_split(self.data_dir, "train")
        run = plan_run(
            config, self.train_data.manifest, data_dir=self.data_dir, run_dir=self.run_dir,
            resume_from=resume_from, init_from=self.options.init_from, new_style=self.options.new_style,
            only_new_styles=self.options.only_new_styles, image_size_from_data=self.options.image_size_from_data,
        )
        self.cfg, self.plan, self.notes = run.config, run.styles, run.notes
        runtime.configure_torch(self.cfg.train, self.device)
        self._build_models(run)
        self._build_step()
        self._set_position(run, resume_from)
        self.val_data = load_optional_split(self.data_dir, "val")
        self._prepare_eval_sets()

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()

    # ---- setup -------------------------------------------------------------------------------

    def _build_models(self, run: RunPlan) -> None:
        from zi2zi.models import Discriminator, build_models

        runtime.set_seeds(self.cfg.train.seed)  # identical initial weights on every rank
        previous_info: dict[str, Any] | None = None
        self.init_from: str | None = None
        if run.saved is not None and run.resume_from is not None:
            # A run folder may come from someone else: its tensors must be this model's before it is built.
            ckpt.check_fits(run.resume_from, self.cfg, self.cfg.model.generator.num_styles,
                            ckpt.read_shapes(run.resume_from))
            self.G, self.D = build_models(self.cfg, self.cfg.model.generator.num_styles)
            weights = ckpt.read_weights(run.resume_from)
            self.G.load_state_dict(weights["generator"])
            self.D.load_state_dict(weights["discriminator"])
            previous_info = run.saved.get("data_info")
            self.init_from = run.saved.get("init_from")
        elif run.init_checkpoint is not None:
            loaded = ckpt.load_checkpoint(run.init_checkpoint, device="cpu")
            self.G, self.D = loaded.generator, loaded.discriminator
            if self.plan.added:
                trained = [int(s["id"]) for s in loaded.styles] or None
                styles.claim_rows(self.G, self.D, self.plan.added, like=trained)
            if self.options.fresh_discriminator:
                # The base's D already tells its own styles' fakes apart; a new style's G learns
                # better against a D that learns the new style with it (zi2zi.finetune.recipe).
                self.D = Discriminator(image_size=self.cfg.model.image_size, num_styles=self.G.num_styles,
                                       cfg=self.cfg.model.discriminator)
            previous_info = loaded.data_info
            self.init_from = str(run.init_checkpoint)
        else:
            self.G, self.D = build_models(self.cfg, self.cfg.model.generator.num_styles)
        self.data_info = styles.data_info(self.train_data.manifest, self.plan, previous_info)
        self._lookup = torch.from_numpy(self.plan.lookup())
        self._select_training_pairs()
        for net in (self.G, self.D):
            net.to(self.device)
            if self.cfg.train.channels_last:
                net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # missing from torch's stubs
            net.train()

    def _build_step(self) -> None:
        seed, rank = self.cfg.train.seed, self.dist.rank
        trained_ids = sorted({int(self._lookup[s]) for s in np.unique(self.train_data.style_ids)})
        self.gan = Zi2ziStep(
            self.G, self.D, self.cfg, device=self.device,
            precision=runtime.precision(self.cfg.train.amp, self.device), ddp=self.dist.enabled,
            freeze_encoder=self.cfg.train.freeze_encoder, trainable_styles=self.cfg.train.train_styles or None,
            flip_styles=trained_ids, flip_generator=torch.Generator().manual_seed(seed + 7919 * (1 + rank)),
        )
        self.augment_generator = torch.Generator().manual_seed(seed + 104729 * (1 + rank))
        # Dropout differs per rank (it should: different data), initial weights did not.
        torch.manual_seed(seed + 15485863 * rank)

    def _set_position(self, run: RunPlan, resume_from: Path | None) -> None:
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
        self.step = self.epoch = self.batch_in_epoch = 0
        self.best_val_l1: float | None = None
        self.last_checkpoint: Path | None = None
        self.last_metrics: dict[str, float] = {}
        if resume_from is not None and run.saved is not None:
            self._load_state(resume_from, run.saved)

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
        self.train_data = Subset(self.train_data, np.flatnonzero(keep))

    def _prepare_eval_sets(self) -> None:
        """A fixed choice of validation pairs for metrics and for the sample grids."""
        val: Any = self.val_data if self.val_data is not None and len(self.val_data) else None
        wanted = self.cfg.train.train_styles
        if val is not None and wanted:
            model_ids = self._lookup[torch.from_numpy(val.style_ids)].numpy()
            keep = np.flatnonzero(np.isin(model_ids, np.asarray(wanted)))
            val = Subset(val, keep) if len(keep) else None
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
        perm = torch.randperm(len(self.train_data), generator=runtime.order_generator(self.cfg.train.seed, epoch)).numpy()
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
            "rng": ckpt.rng_state(self.device),
            "best_val_l1": self.best_val_l1,
            "world_size": self.dist.world_size,
        }

    def _load_state(self, weights_path: Path, saved: dict[str, Any]) -> None:
        state_file = ckpt.state_path(weights_path)
        state = ckpt.load_state(state_file)
        try:
            self._apply_state(state, weights_path, saved)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            # Loaded safely, but not what save_checkpoint writes (edited, or from another program).
            raise CheckpointError(
                f"{state_file} does not hold the state this run saved ({type(exc).__name__}: {exc}); "
                "do not resume from it (start over, or resume another run)"
            ) from None

    def _apply_state(self, state: dict[str, Any], weights_path: Path, saved: dict[str, Any]) -> None:
        if state.get("world_size", 1) != self.dist.world_size:
            self.notes.append(
                f"resumed with {self.dist.world_size} process(es), saved with {state.get('world_size')}: "
                "the data order of the current epoch changes"
            )
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.gan.load_state_dict(state["gan"])
        self.augment_generator.set_state(state["augment_generator"])
        if self.dist.world_size == state.get("world_size", 1):
            ckpt.set_rng_state(state["rng"], self.device)
        self.best_val_l1 = state.get("best_val_l1")
        self.last_checkpoint = weights_path
        self.last_metrics = dict(saved.get("metrics") or {})
        self.notes.append(f"resumed from {weights_path.name} (step {self.step}, epoch {self.epoch})")

    def save_checkpoint(self) -> Path:
        """Rank 0 writes weights + state (state first: weights without state is not resumable)."""
        path = self.run_dir / ckpt.CHECKPOINT_DIR / ckpt.checkpoint_name(self.step)
        if self.is_main:
            try:
                self._write_checkpoint(path)
            except OSError as exc:
                self._fail_save(exc)
            ckpt.prune(self.run_dir, self.cfg.train.keep_last)
        self.last_checkpoint = path
        ddp.barrier(self.dist)
        return path

    def _write_checkpoint(self, path: Path) -> None:
        ckpt.save_state(ckpt.state_path(path), self._training_state())
        try:
            ckpt.save_weights(path, generator=self.G, discriminator=self.D, meta=self._meta())
        except OSError:
            if not path.exists():  # a state without its weights would pass for the newest checkpoint
                ckpt.state_path(path).unlink(missing_ok=True)
            raise
        val_l1 = self.last_metrics.get("val_l1")
        if val_l1 is not None and (self.best_val_l1 is None or val_l1 < self.best_val_l1):
            best = self.best_val_l1
            self.best_val_l1 = val_l1
            try:
                ckpt.copy_atomic(path, self.run_dir / ckpt.CHECKPOINT_DIR / ckpt.BEST)
                # The state of this step was written before best moved; rewrite it so a resume
                # from here knows the new best.
                ckpt.save_state(ckpt.state_path(path), self._training_state())
            except OSError:
                self.best_val_l1 = best
                raise

    def _fail_save(self, exc: OSError) -> None:
        """A checkpoint that could not be written (a full disk): no half of it is left (the atomic
        writer removed its temporary, :meth:`_write_checkpoint` a state without weights), so the
        previous checkpoint stays the newest; the run stops with one line saying so."""
        from zi2zi.cli import describe_os_error

        newest = ckpt.latest_resumable(self.run_dir)
        kept = f"the newest checkpoint is still {newest.name}" if newest else "no checkpoint was saved before it"
        raise TrainingError(
            f"could not save the checkpoint of step {self.step}: {describe_os_error(exc)}; {kept} "
            f"(nothing half-written is left); {self.options.resume_hint}"
        ) from None

    # ---- evaluation and samples (rank 0) -----------------------------------------------------

    def _val_metrics(self, predict: bool) -> dict[str, float]:
        if self.eval_source is None or not len(self.eval_indices):
            return {}
        size = max(self.cfg.train.batch_size, 32)
        batches = (self._batch(self.eval_source, idx, augment=False) for idx in chunks(self.eval_indices, size))
        with eval_mode(list(self.gan.networks().values())):
            return pixel_metrics(batches, self.gan.predict if predict else None, len(self.eval_indices))

    def evaluate(self) -> dict[str, float]:
        """Validation L1 and SSIM on [0, 1] images, G in eval mode, at most eval_max_chars pairs."""
        return self._val_metrics(predict=True)

    def baseline(self) -> dict[str, float]:
        """The trivial baseline on the same pairs: the source glyph itself used as the prediction."""
        return self._val_metrics(predict=False)

    def save_samples(self) -> Path:
        batch = self._batch(self.sample_source, self.sample_indices, augment=False)
        with eval_mode(list(self.gan.networks().values())):
            fake = self.gan.predict(batch["source"], batch["style"]).cpu()
        path = self.run_dir / SAMPLES_DIR / f"step-{self.step:08d}.png"
        return save_sample_grid(path, batch["source"], fake, batch["target"])

    # ---- the loop ----------------------------------------------------------------------------

    def _write_run_files(self, log: RunLog) -> None:
        write_text(self.run_dir / rundir.CONFIG_FILE, self.cfg.to_json() + "\n")
        baseline = rundir.read_run_info(self.run_dir).get("baseline")
        if not baseline:
            baseline = self.baseline()
            if baseline:
                log.write({"kind": "baseline", "step": self.step, "epoch": self.epoch, **baseline})
        rundir.write_run_info(self.run_dir, {
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
            "step": self.step,
            "notes": self.notes,
            "baseline": baseline,
        })

    def fit(self) -> TrainSummary:
        """The loop: one GAN step per batch; logs, validation, samples and checkpoints on their
        schedules; stops on completion, on train.max_minutes, or on SIGINT/SIGTERM (checkpointed)."""
        t = self.cfg.train
        log = self._open_log()
        bar = Progress(total=self.total_steps, initial=self.step, enabled=self.options.progress and self.is_main)
        clock = _Clock(self.step)
        stopped = "completed"
        order = self._epoch_order(self.epoch)
        try:
            with runtime.StopSignals() as signals:
                while self.step < self.total_steps:
                    if self.batch_in_epoch >= self.steps_per_epoch:
                        self.epoch, self.batch_in_epoch = self.epoch + 1, 0
                        order = self._epoch_order(self.epoch)
                    schedule = self._train_step(order, log)
                    if self._due(t.log_every) or self.step == self.total_steps:
                        self._log_losses(log, bar, schedule, clock)
                    bar.update(1)
                    if self._due(t.eval_every):
                        self._run_eval(log)
                    if self._due(t.sample_every):
                        self._save_samples_on_main()
                    timed_out = t.max_minutes > 0 and clock.minutes() >= t.max_minutes
                    if ddp.any_rank(timed_out or signals.requested, self.dist, self.device) and self.step < self.total_steps:
                        stopped = "max_minutes" if timed_out else "interrupted"
                        break
                    if self._due(t.checkpoint_every):
                        self._checkpoint_with_eval(log)
                if self.last_checkpoint is None or self.last_checkpoint.name != ckpt.checkpoint_name(self.step):
                    self._checkpoint_with_eval(log)
        finally:
            bar.close()
            log.close()
            self.close()
        return self._summary(stopped, clock)

    # ---- the loop's parts --------------------------------------------------------------------

    def _open_log(self) -> RunLog:
        if self.is_main:
            rundir.remove_stale_temporaries(self.run_dir)
            truncate_metrics(self.run_dir / rundir.METRICS_FILE, self.step)
        log = RunLog(self.run_dir, enabled=self.is_main)
        if self.is_main:
            self._write_run_files(log)
            for note in self.notes:
                self._echo(f"zi2zi train: {note}")
        return log

    def _due(self, every: int) -> bool:
        return every > 0 and self.step % every == 0

    def _train_step(self, order: np.ndarray, log: RunLog) -> dict[str, float]:
        """One batch through the GAN step; returns the schedules applied (for the log)."""
        t = self.cfg.train
        lr = learning_rate(t, step=self.step, epoch=self.epoch, total_steps=self.total_steps)
        self.gan.set_lr(lr)
        schedule = {"lr": lr, **self.gan.set_step(self.step)}
        start = self.batch_in_epoch * t.batch_size
        self.gan.set_input(self._batch(self.train_data, order[start : start + t.batch_size], augment=t.augment))
        try:
            self.gan.optimize()
        except NonFiniteLossError as exc:
            self._fail_non_finite(exc, log)
        self.step += 1
        self.batch_in_epoch += 1
        return schedule

    def _log_losses(self, log: RunLog, bar: Progress, schedule: dict[str, float], clock: _Clock) -> None:
        losses = self.gan.current_losses()
        rate = self.cfg.train.batch_size * self.dist.world_size * clock.steps_per_second(self.step)
        log.write({"kind": "train", "step": self.step, "epoch": self.epoch, **losses, "img_per_s": rate, **schedule})
        bar.update(0, d=losses.get("d_loss", 0.0), g=losses.get("g_loss", 0.0), l1=losses.get("l1", 0.0), img_s=rate)

    def _save_samples_on_main(self) -> None:
        if self.is_main:
            self.save_samples()
        ddp.barrier(self.dist)

    def _summary(self, stopped: str, clock: _Clock) -> TrainSummary:
        best = self.run_dir / ckpt.CHECKPOINT_DIR / ckpt.BEST
        images = (self.step - clock.first_step) * self.cfg.train.batch_size * self.dist.world_size
        elapsed = clock.seconds()
        if self.is_main and stopped != "completed":
            self._echo(f"zi2zi train: stopped ({stopped}) at step {self.step}; {self.options.resume_hint}")
        return TrainSummary(
            run_dir=self.run_dir,
            step=self.step,
            epoch=self.epoch,
            stopped=stopped,
            last_checkpoint=self.last_checkpoint,
            best_checkpoint=best if best.is_file() else None,
            best_val_l1=self.best_val_l1,
            images_per_second=images / elapsed if elapsed > 0 else 0.0,
        )

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


class _Clock:
    """Wall time of this session of a run, and the step rate since the last look."""

    def __init__(self, step: int) -> None:
        self.first_step = step
        self.started = self._tick = time.monotonic()
        self._tick_step = step

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def minutes(self) -> float:
        return self.seconds() / 60.0

    def steps_per_second(self, step: int) -> float:
        now = time.monotonic()
        rate = (step - self._tick_step) / max(now - self._tick, 1e-9)
        self._tick, self._tick_step = now, step
        return rate


# ---- library entry -----------------------------------------------------------------------------


def train(options: TrainOptions | Config, data: str | Path | None = None, out: str | Path | None = None,
          **legacy: Any) -> TrainSummary:
    """Train (or resume, or fine-tune) a zi2zi model; returns where it ended and what it saved.

    ``train(TrainOptions(data=..., out=..., config=...))``. The earlier form
    ``train(config, data, out, **keywords)`` is still accepted and builds the same options.
    Under ``torchrun`` each process calls this; rank 0 alone writes the run directory.
    """
    if isinstance(options, Config):
        if data is None or out is None:
            raise TypeError("train(config, data, out, ...) needs the dataset and the run directory")
        options = TrainOptions(data=data, out=out, config=options, **legacy)
    info = ddp.env_dist_info()
    try:
        return Trainer(options, dist_info=info).fit()
    finally:
        ddp.destroy_process_group(info)


__all__ = ["RESUMABLE_CHANGES", "TrainOptions", "TrainSummary", "Trainer", "TrainingError", "plan_run", "train"]
