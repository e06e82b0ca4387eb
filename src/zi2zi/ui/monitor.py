"""What a job tells the page while it runs: ``PROJECT/job/progress.json`` and, for a fine-tune,
samples and held-out metrics from its first seconds.

``JobProgress`` counts units of work (steps, glyphs, pages) against a total and writes the count,
the rate and a smoothed ETA (``zi2zi.ui.eta``) at most once a second. ``TrainingMonitor`` runs
after every training step (``TrainOptions.on_step``, in the worker's process, so the page never
waits on the model): every k steps, k from the measured step rate so that a check comes every
``INTERVAL_S`` seconds of training and costs at most 1 / ``OVERHEAD`` of it, it draws G's output
on a few held-out characters (``run/samples/heldout-step-N.png``) and on training pairs (the
trainer's own grid), and measures L1 and SSIM on at most ``QUICK_CHARS`` held-out characters
against the source-glyph baseline (``review/heldout-metrics.json``, marked ``quick``). The full
held-out evaluation still runs when training ends.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from zi2zi.storage.atomic import write_json
from zi2zi.ui.eta import ProgressClock

PROGRESS_FILE = "progress.json"
HELDOUT_METRICS = "heldout-metrics.json"
HELDOUT_SAMPLE = "heldout-step-{:08d}.png"
FIRST_AFTER_S = 5.0  # the first check, this long into training
INTERVAL_S = 15.0  # then one about every this many seconds of training ...
OVERHEAD = 10.0  # ... and never more often than this many times its own cost
QUICK_CHARS = 48  # held-out characters measured by a check
SAMPLE_CHARS = 8  # held-out characters drawn in a check's grid
KEEP_SAMPLES = 3  # held-out grids kept (the newest); the final evaluation has every character


class JobProgress:
    """Counts ``done`` of ``total`` units and writes ``job/progress.json``.

    ``tail_s``: seconds of work expected after the counted units (a fine-tune's refining stage),
    added to the ETA; once that stage reports its own steps (:meth:`stage`), their own clock
    takes over, so the ETA does not fall to 0 while minutes of work remain."""

    def __init__(self, root: Path, kind: str, total: int, unit: str, *, every_s: float = 1.0,
                 tail_s: float = 0.0) -> None:
        self.path = root / "job" / PROGRESS_FILE
        self.kind, self.unit = kind, unit
        self.clock = ProgressClock(total)
        self.every_s = every_s
        self.tail_s = max(0.0, tail_s)
        self._stage: ProgressClock | None = None
        self._stage_started = 0.0
        self._written = -math.inf
        self.update(0, force=True)

    def update(self, done: int, *, force: bool = False) -> None:
        self.clock.total = max(self.clock.total, done)  # e.g. a PDF among the photos holds several pages
        self.clock.update(done)
        self._write(force=force or (done >= self.clock.total and self._stage is None))

    def add(self, n: int) -> None:
        self.update(self.clock.done + n)

    def stage(self, done: int, total: int) -> None:
        """``done`` of ``total`` steps of the work after the counted units."""
        if self._stage is None:
            self._stage, self._stage_started = ProgressClock(total), time.monotonic()
        self._stage.update(done)
        self._write(force=done >= total)

    @property
    def eta_s(self) -> float | None:
        eta = self.clock.eta_s
        if eta is None:
            return None
        if self._stage is None:
            return eta + self.tail_s
        # The stage's own clock once it can tell (a few seconds in); until then what was expected.
        stage = self._stage.eta_s
        return stage if stage is not None else max(0.0, self.tail_s - (time.monotonic() - self._stage_started))

    def _write(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._written < self.every_s:
            return
        self._written = now
        stage = {} if self._stage is None else {"stage": {"done": self._stage.done, "total": self._stage.total}}
        write_json(self.path, {"kind": self.kind, "unit": self.unit, "done": self.clock.done, "total": self.clock.total,
                               "eta_s": self.eta_s, "rate": self.clock.rate(), "time": time.time(), **stage})


class TrainingMonitor:
    """``on_step`` for the trainer: progress every step, a quick look every k steps."""

    def __init__(self, root: Path, progress: JobProgress, *, first_after_s: float = FIRST_AFTER_S,
                 interval_s: float = INTERVAL_S) -> None:
        self.root, self.progress = root, progress
        self.first_after_s, self.interval_s = first_after_s, interval_s
        self.last_step: int | None = None
        self.first_step: int | None = None  # a resumed run starts from its checkpoint's step
        self.check_seconds = 0.0
        self.started = time.monotonic()
        self._heldout: Any = None
        self._baseline: dict[str, float] | None = None

    def every(self, step: int) -> int | None:
        """k: steps between checks, from the step rate so far; None before there is one."""
        elapsed = time.monotonic() - self.started
        if self.first_step is None or step - self.first_step < 2 or elapsed <= 0:
            return None
        rate = (step - self.first_step) / elapsed
        seconds = max(self.first_after_s if self.last_step is None else self.interval_s, OVERHEAD * self.check_seconds)
        return max(1, round(rate * seconds))

    def __call__(self, trainer: Any) -> None:
        run = trainer.run  # the position (zi2zi.training.setup.TrainingRun); the Trainer draws and predicts
        if self.first_step is None:
            self.first_step, self.started = run.step, time.monotonic()
            self.progress.clock.total = run.total_steps
        self.progress.update(run.step)
        k = self.every(run.step)
        since = run.step - (self.last_step if self.last_step is not None else self.first_step)
        if k is None or since < k or run.step >= run.total_steps:
            return  # the last step gets the full evaluation instead
        start = time.monotonic()
        try:
            self.check(trainer)
        except Exception as exc:  # noqa: BLE001 - a failed look must not stop the training
            print(f"note: could not draw samples or measure held-out characters at step {run.step}: {exc}",
                  flush=True)
        self.check_seconds = time.monotonic() - start
        self.last_step = run.step

    def check(self, trainer: Any) -> None:
        trainer.save_samples()  # training pairs: what the model makes of what it learns from
        heldout = self._heldout_pairs(trainer)
        if heldout is None:
            return
        from zi2zi.metrics.pixel import METRICS, MetricAccumulator
        from zi2zi.training.samples import save_sample_grid

        data, indices = heldout
        batch, fake = trainer.predict_pairs(data, indices)
        samples = self.root / "run" / "samples"
        save_sample_grid(samples / HELDOUT_SAMPLE.format(trainer.run.step), batch["source"][:SAMPLE_CHARS],
                         fake[:SAMPLE_CHARS], batch["target"][:SAMPLE_CHARS])
        for old in sorted(samples.glob("heldout-step-*.png"))[:-KEEP_SAMPLES]:
            old.unlink(missing_ok=True)
        names = ["l1", "ssim"]
        model = _scores(MetricAccumulator(names), fake, batch)
        if self._baseline is None:
            self._baseline = _scores(MetricAccumulator(names), batch["source"], batch)
        write_json(self.root / "review" / HELDOUT_METRICS, {
            "step": trainer.run.step, "characters": len(indices), "quick": True,
            "metrics": {n: {"higher_is_better": METRICS[n].higher_is_better, "description": METRICS[n].description}
                        for n in names},
            "model": model, "baseline": self._baseline,
        }, indent=2)

    def _heldout_pairs(self, trainer: Any) -> tuple[Any, np.ndarray] | None:
        if self._heldout is None:
            from zi2zi.data import GlyphDataset

            data_dir = Path(trainer.run.data_dir)
            if not GlyphDataset.has_split(data_dir, "holdout"):
                self._heldout = False
                return None
            data = GlyphDataset(data_dir, split="holdout")
            count = min(QUICK_CHARS, len(data))
            self._heldout = (data, np.linspace(0, len(data) - 1, count).round().astype(np.int64)) if count else False
        return self._heldout or None


def _scores(scores: Any, prediction: Any, batch: dict) -> dict[str, float]:
    from zi2zi.images import to_unit

    scores.update(to_unit(prediction), to_unit(batch["target"]), batch["style"])
    return {k: float(v) for k, v in scores.result()["overall"].items()}
