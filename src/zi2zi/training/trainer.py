"""The training loop: a run that can be left running, killed, resumed and read.

:class:`~zi2zi.training.setup.TrainingRun` prepares a run from
:class:`~zi2zi.training.options.TrainOptions` (the run directory, the plan, models, the GAN step,
the position); :meth:`Trainer.fit` is the loop over it. The loop knows nothing about zi2zi's
losses: it feeds batches to a :class:`~zi2zi.training.step.GanStep`. Only rank 0 logs, measures
and saves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zi2zi import __version__
from zi2zi import checkpoints as ckpt
from zi2zi.errors import TrainingError
from zi2zi.storage import write_text
from zi2zi.training import distributed as ddp
from zi2zi.training import rundir, runtime
from zi2zi.training.options import TrainOptions
from zi2zi.training.runlog import Progress, RunLog, truncate_metrics
from zi2zi.training.samples import save_sample_grid
from zi2zi.training.schedule import learning_rate
from zi2zi.training.setup import TrainingRun
from zi2zi.training.step import NonFiniteLossError
from zi2zi.training.validation import chunks, eval_mode, pixel_metrics


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
    """Sets a run up on construction (``run``, a :class:`TrainingRun`); :meth:`fit` trains it."""

    def __init__(self, options: TrainOptions, *, dist_info: ddp.DistInfo | None = None) -> None:
        self.run = TrainingRun(options, dist_info=dist_info)

    def fit(self) -> TrainSummary:
        """The loop: one GAN step per batch; logs, validation, samples and checkpoints on their
        schedules; stops on completion, on train.max_minutes, or on SIGINT/SIGTERM (checkpointed)."""
        run, t = self.run, self.run.cfg.train
        log = self._open_log()
        bar = Progress(total=run.total_steps, initial=run.step, enabled=run.options.progress and run.is_main)
        clock = _Clock(run.step)
        stopped = "completed"
        order = run.epoch_order(run.epoch)
        try:
            with runtime.StopSignals() as signals:
                while run.step < run.total_steps:
                    if run.batch_in_epoch >= run.steps_per_epoch:
                        run.epoch, run.batch_in_epoch = run.epoch + 1, 0
                        order = run.epoch_order(run.epoch)
                    schedule = self._train_step(order, log)
                    if self._due(t.log_every) or run.step == run.total_steps:
                        self._log_losses(log, bar, schedule, clock)
                    bar.update(1)
                    if self._due(t.eval_every):
                        self._run_eval(log)
                    if self._due(t.sample_every):
                        self._save_samples_on_main()
                    timed_out = t.max_minutes > 0 and clock.minutes() >= t.max_minutes
                    if ddp.any_rank(timed_out or signals.requested, run.dist, run.device) and run.step < run.total_steps:
                        stopped = "max_minutes" if timed_out else "interrupted"
                        break
                    if self._due(t.checkpoint_every):
                        self._checkpoint_with_eval(log)
                    if run.options.on_step is not None and run.is_main:
                        run.options.on_step(self)
                if run.last_checkpoint is None or run.last_checkpoint.name != ckpt.checkpoint_name(run.step):
                    self._checkpoint_with_eval(log)
        finally:
            bar.close()
            log.close()
            run.close()
        return self._summary(stopped, clock)

    # ---- one step ----------------------------------------------------------------------------

    def _train_step(self, order: np.ndarray, log: RunLog) -> dict[str, float]:
        """One batch through the GAN step; returns the schedules applied (for the log)."""
        run, t = self.run, self.run.cfg.train
        lr = learning_rate(t, step=run.step, epoch=run.epoch, total_steps=run.total_steps)
        run.gan.set_lr(lr)
        schedule = {"lr": lr, **run.gan.set_step(run.step)}
        start = run.batch_in_epoch * t.batch_size
        run.gan.set_input(run.batch(run.train_data, order[start : start + t.batch_size], augment=t.augment))
        try:
            run.gan.optimize()
        except NonFiniteLossError as exc:
            self._fail_non_finite(exc, log)
        run.step += 1
        run.batch_in_epoch += 1
        return schedule

    def _due(self, every: int) -> bool:
        return every > 0 and self.run.step % every == 0

    def _fail_non_finite(self, exc: NonFiniteLossError, log: RunLog) -> None:
        run = self.run
        step = run.step + 1
        log.write({"kind": "error", "step": step, "epoch": run.epoch, "error": "non-finite loss",
                   "losses": {k: str(v) for k, v in exc.values.items()}})
        last = run.last_checkpoint
        where = f"the last good checkpoint is {last}" if last else "no checkpoint had been saved yet"
        what = str(exc) if exc.names else "a non-finite loss on another process"
        raise TrainingError(
            f"training stopped at step {step}: {what}; {where}, and nothing was saved after the failure. "
            "Lower train.lr (or check the data), then resume from that checkpoint or start over"
        ) from None

    # ---- evaluation and samples (rank 0) -----------------------------------------------------

    def _val_metrics(self, predict: bool) -> dict[str, float]:
        run = self.run
        if run.eval_source is None or not len(run.eval_indices):
            return {}
        size = max(run.cfg.train.batch_size, 32)
        batches = (run.batch(run.eval_source, idx, augment=False) for idx in chunks(run.eval_indices, size))
        with eval_mode(list(run.gan.networks().values())):
            return pixel_metrics(batches, run.gan.predict if predict else None, len(run.eval_indices))

    def evaluate(self) -> dict[str, float]:
        """Validation L1 and SSIM on [0, 1] images, G in eval mode, at most eval_max_chars pairs."""
        return self._val_metrics(predict=True)

    def baseline(self) -> dict[str, float]:
        """The trivial baseline on the same pairs: the source glyph itself used as the prediction."""
        return self._val_metrics(predict=False)

    def predict_pairs(self, data: Any, indices: np.ndarray) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """A batch of ``data`` (any split of the run's dataset) and G's output for it, in eval mode."""
        run = self.run
        batch = run.batch(data, indices, augment=False)
        with eval_mode(list(run.gan.networks().values())), torch.no_grad():
            return batch, run.gan.predict(batch["source"], batch["style"]).cpu()

    def save_samples(self) -> Path:
        run = self.run
        batch = run.batch(run.sample_source, run.sample_indices, augment=False)
        with eval_mode(list(run.gan.networks().values())):
            fake = run.gan.predict(batch["source"], batch["style"]).cpu()
        path = run.run_dir / rundir.SAMPLES_DIR / f"step-{run.step:08d}.png"
        return save_sample_grid(path, batch["source"], fake, batch["target"])

    def _run_eval(self, log: RunLog) -> None:
        run = self.run
        if run.is_main:
            metrics = self.evaluate()
            if metrics:
                run.last_metrics = {**metrics, "step": run.step}
                log.write({"kind": "eval", "step": run.step, "epoch": run.epoch, **metrics})
        ddp.barrier(run.dist)

    def _save_samples_on_main(self) -> None:
        if self.run.is_main:
            self.save_samples()
        ddp.barrier(self.run.dist)

    def _checkpoint_with_eval(self, log: RunLog) -> None:
        # The metrics stored with a checkpoint (and the choice of best) must describe its weights.
        # Decided from the schedule, not from state, so that every rank meets the same barriers.
        every = self.run.cfg.train.eval_every
        if not (every > 0 and self.run.step % every == 0):
            self._run_eval(log)
        self.run.save_checkpoint()

    # ---- the run's files ---------------------------------------------------------------------

    def _open_log(self) -> RunLog:
        run = self.run
        if run.is_main:
            rundir.remove_stale_temporaries(run.run_dir)
            truncate_metrics(run.run_dir / rundir.METRICS_FILE, run.step)
        log = RunLog(run.run_dir, enabled=run.is_main)
        if run.is_main:
            self._write_run_files(log)
            for note in run.notes:
                run.echo(f"zi2zi train: {note}")
        return log

    def _write_run_files(self, log: RunLog) -> None:
        run = self.run
        write_text(run.run_dir / rundir.CONFIG_FILE, run.cfg.to_json() + "\n")
        baseline = rundir.read_run_info(run.run_dir).get("baseline")
        if not baseline:
            baseline = self.baseline()
            if baseline:
                log.write({"kind": "baseline", "step": run.step, "epoch": run.epoch, **baseline})
        rundir.write_run_info(run.run_dir, {
            "zi2zi_version": __version__,
            "data_dir": str(Path(run.data_dir).resolve()),  # read from any folder (evaluate, resume)
            "train_pairs": len(run.train_data),
            "val_pairs": 0 if run.eval_source is None else len(run.eval_source),
            "eval_pairs": int(len(run.eval_indices)),
            "styles": run.plan.styles,
            "style_map": {str(k): v for k, v in run.plan.data_to_model.items()},
            "init_from": run.init_from,
            "device": str(run.device),
            "world_size": run.dist.world_size,
            "precision": str(run.gan.precision.dtype or "fp32"),
            "steps_per_epoch": run.steps_per_epoch,
            "total_steps": run.total_steps,
            "step": run.step,
            "notes": run.notes,
            "baseline": baseline,
        })

    def _log_losses(self, log: RunLog, bar: Progress, schedule: dict[str, float], clock: _Clock) -> None:
        run = self.run
        losses = run.gan.current_losses()
        rate = run.cfg.train.batch_size * run.dist.world_size * clock.steps_per_second(run.step)
        log.write({"kind": "train", "step": run.step, "epoch": run.epoch, **losses, "img_per_s": rate, **schedule})
        bar.update(0, d=losses.get("d_loss", 0.0), g=losses.get("g_loss", 0.0), l1=losses.get("l1", 0.0), img_s=rate)

    def _summary(self, stopped: str, clock: _Clock) -> TrainSummary:
        run = self.run
        best = run.run_dir / ckpt.CHECKPOINT_DIR / ckpt.BEST
        images = (run.step - clock.first_step) * run.cfg.train.batch_size * run.dist.world_size
        elapsed = clock.seconds()
        if run.is_main and stopped != "completed":
            run.echo(f"zi2zi train: stopped ({stopped}) at step {run.step}; {run.options.resume_hint}")
        return TrainSummary(
            run_dir=run.run_dir,
            step=run.step,
            epoch=run.epoch,
            stopped=stopped,
            last_checkpoint=run.last_checkpoint,
            best_checkpoint=best if best.is_file() else None,
            best_val_l1=run.best_val_l1,
            images_per_second=images / elapsed if elapsed > 0 else 0.0,
        )


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


def train(options: TrainOptions) -> TrainSummary:
    """Train (or resume, or fine-tune) a zi2zi model: ``train(TrainOptions(data=..., out=...,
    config=...))``; returns where it ended and what it saved.

    Under ``torchrun`` each process calls this; rank 0 alone writes the run directory.
    """
    info = ddp.env_dist_info()
    try:
        return Trainer(options, dist_info=info).fit()
    finally:
        ddp.destroy_process_group(info)


__all__ = ["TrainSummary", "Trainer", "train"]
