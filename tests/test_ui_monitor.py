"""The worker's view of a fine-tune: samples and held-out metrics long before it ends, and its
count in job/progress.json (zi2zi.ui.monitor), on a real tiny fine-tune."""

from __future__ import annotations

import json

from zi2zi.finetune import finetune
from zi2zi.ui.monitor import KEEP_SAMPLES, JobProgress, TrainingMonitor


def test_a_fine_tune_shows_samples_and_heldout_metrics_while_it_runs(shipped, tiny_fonts, tmp_path) -> None:
    root = tmp_path / "project"
    for folder in ("job", "review", "run"):
        (root / folder).mkdir(parents=True)
    seen: list[dict] = []
    progress = JobProgress(root, "finetune", 0, "steps", every_s=0.0)
    # No wait before the first look, and one every step: the tiny run is over in seconds.
    monitor = TrainingMonitor(root, progress, first_after_s=0.0, interval_s=0.0)

    def on_step(trainer) -> None:
        monitor(trainer)
        metrics = root / "review" / "heldout-metrics.json"
        if metrics.is_file():
            seen.append(json.loads(metrics.read_text(encoding="utf-8")))

    summary = finetune("tiny", root / "run", target=str(tiny_fonts["light"]), holdout=4, steps=12, progress=False,
                       device="cpu", on_step=on_step)
    assert summary.step == 12
    first = seen[0]
    assert first["quick"] and first["step"] < 12 and first["characters"] == 4
    assert set(first["model"]) == set(first["baseline"]) == {"l1", "ssim"} == set(first["metrics"])
    assert first["metrics"]["ssim"]["higher_is_better"] and not first["metrics"]["l1"]["higher_is_better"]
    samples = root / "run" / "samples"
    heldout = sorted(samples.glob("heldout-step-*.png"))
    assert 1 <= len(heldout) <= KEEP_SAMPLES and heldout[-1].name < "heldout-step-00000012.png"
    # Training pairs too (the trainer alone draws them every 50 steps here: never in a 12-step run).
    assert any(p.name < "step-00000012.png" for p in samples.glob("step-*.png"))
    doc = json.loads((root / "job" / "progress.json").read_text(encoding="utf-8"))
    assert (doc["kind"], doc["done"], doc["total"], doc["unit"]) == ("finetune", 12, 12, "steps")


def test_a_finished_workers_exit_never_fails_the_next_queued_job(tmp_path):
    # A worker that wrote "done" may exit only after the next job was queued; its reaper must leave
    # that job alone (it had marked the next scan of a hand "failed" before it started).
    import subprocess
    import sys

    from zi2zi.ui.jobs import JOB_FILE, JobRunner
    from zi2zi.ui.projects import Projects

    project = Projects(tmp_path / "projects").create("Hand")
    folder = project.path("job")
    folder.mkdir(exist_ok=True)
    nxt = {"kind": "scan", "state": "queued", "queued": 2.5, "pid": None}
    (folder / JOB_FILE).write_text(json.dumps(nxt), encoding="utf-8")
    old_worker = subprocess.Popen([sys.executable, "-c", "pass"])
    JobRunner._reap(project, old_worker, queued=1.5)
    assert json.loads((folder / JOB_FILE).read_text(encoding="utf-8")) == nxt

    dead_before_reporting = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    JobRunner._reap(project, dead_before_reporting, queued=2.5)
    assert json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))["state"] == "failed"


def test_the_eta_counts_the_refining_stage_after_the_steps(tmp_path) -> None:
    """A fine-tune's last training step is not the end of its job: the refining stage follows, and
    the ETA says so instead of 0, first from the estimate, then from the stage's own steps."""
    progress = JobProgress(tmp_path, "finetune", 10, "steps", tail_s=50.0, every_s=0.0)
    progress.update(10)  # every training step done
    shown = json.loads((tmp_path / "job" / "progress.json").read_text())
    assert shown["done"] == 10 and shown["eta_s"] == 50.0
    progress.stage(1, 100)  # the stage has begun, too early for a rate of its own
    shown = json.loads((tmp_path / "job" / "progress.json").read_text())
    assert shown["stage"] == {"done": 1, "total": 100} and 45.0 < shown["eta_s"] <= 50.0
    progress.stage(100, 100)
    assert json.loads((tmp_path / "job" / "progress.json").read_text())["eta_s"] == 0.0


def test_a_refiner_step_is_timed_on_this_machine(shipped_refined) -> None:
    from zi2zi.bases import refiner_for_base
    from zi2zi.refine.runtime import GlyphRefiner
    from zi2zi.refine.tune import seconds_per_step

    path = refiner_for_base(shipped_refined)
    assert path is not None
    seconds = seconds_per_step(GlyphRefiner(path), steps=2)
    assert 0.0 < seconds < 30.0
