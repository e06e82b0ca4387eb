"""The ETA the web app shows: within 25 % from a tenth of the run on, and without jumps.

Runs are simulated on a virtual clock: steps whose time varies by +-40 %, a slow start, and a
pause for a quick evaluation every 15 s, as a fine-tune in the worker has them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from zi2zi.ui.eta import ProgressClock
from zi2zi.ui.monitor import JobProgress


def simulated_run(total: int, step_s: float, seed: int, pause_every_s: float = 15.0, pause_s: float = 1.5):
    """(time at which each step 1..total ends): noisy steps, the first 10 slower, evaluation pauses."""
    rng = np.random.default_rng(seed)
    t, next_pause, times = 0.0, pause_every_s, []
    for i in range(total):
        t += step_s * rng.uniform(0.6, 1.4) * (2.0 if i < 10 else 1.0)
        if t >= next_pause:
            t += pause_s
            next_pause += pause_every_s
        times.append(t)
    return times


def readings(times: list[float], every_s: float = 1.0):
    """Feed each step's end to a clock; read (time, shown ETA, true time left) once a second."""
    clock = ProgressClock(len(times), clock=lambda: 0.0)
    clock.update(0, now=0.0)
    out, next_read = [], every_s
    for step, t in enumerate(times, start=1):
        clock.update(step, now=t)
        if t >= next_read:
            out.append((t, step, clock.eta_s, times[-1] - t))
            next_read = t + every_s
    return out


@pytest.mark.parametrize(("total", "step_s", "seed"), [(600, 0.2, 0), (600, 0.25, 1), (200, 1.0, 2), (3000, 0.05, 3)])
def test_eta_is_within_a_quarter_of_the_truth_from_a_tenth_of_the_run(total, step_s, seed) -> None:
    times = simulated_run(total, step_s, seed)
    for _t, step, eta, left in readings(times):
        if step >= total / 10 and left > 10:  # the last seconds: any error is a few seconds
            assert eta is not None and abs(eta - left) <= 0.25 * left, (step, eta, left)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eta_does_not_jump(seed) -> None:
    """From one reading to the next (1 s apart), the shown ETA moves by the second that passed
    and at most a few percent more; a last-interval estimate jumps by half or more."""
    times = simulated_run(600, 0.2, seed)
    shown = [(t, eta) for t, _, eta, _ in readings(times) if eta is not None]
    assert len(shown) > 50
    for (t0, a), (t1, b) in zip(shown, shown[1:]):
        expected = max(0.0, a - (t1 - t0))
        assert abs(b - expected) <= 0.08 * max(expected, 1.0) * (t1 - t0) + 1.5, (t0, a, b)
    # The naive estimate (remaining / rate of the last interval) on the same run does jump.
    naive = [(600 - i) * (times[i] - times[i - 1]) for i in range(60, 590)]
    assert max(abs(b - a) / a for a, b in zip(naive, naive[1:])) > 0.5


def test_no_eta_before_there_is_anything_to_measure_and_zero_when_done() -> None:
    clock = ProgressClock(100, clock=lambda: 0.0)
    clock.update(0, now=0.0)
    clock.update(1, now=0.5)
    assert clock.eta_s is None and clock.rate() is None
    for step in range(2, 101):
        clock.update(step, now=step * 0.5)
    assert clock.eta_s == 0.0 and clock.rate() == pytest.approx(2.0, rel=0.05)
    clock.update(3, now=60.0)  # a resumed job counts again from where it is: no stale rate
    assert clock.eta_s is None


def test_job_progress_writes_count_total_and_eta(tmp_path) -> None:
    (tmp_path / "job").mkdir()
    progress = JobProgress(tmp_path, "export", 40, "glyphs", every_s=0.0)
    for n in range(1, 41):
        progress.update(n)
    doc = json.loads((tmp_path / "job" / "progress.json").read_text(encoding="utf-8"))
    assert (doc["kind"], doc["unit"], doc["done"], doc["total"], doc["eta_s"]) == ("export", "glyphs", 40, 40, 0.0)
