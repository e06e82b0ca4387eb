"""What the training page shows, read from the run folder: step, ETA, losses, metrics, samples.

Only files are read (``finetune.json``, ``metrics.jsonl``, ``samples/``), never the model: this
answers in milliseconds while training runs in its worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zi2zi.training.runlog import METRICS_FILE, read_metrics

LOSSES = ("g_loss", "d_loss", "l1")
MAX_POINTS = 200  # points per curve sent to the page


def _thin(points: list[list[float]]) -> list[list[float]]:
    if len(points) <= MAX_POINTS:
        return points
    stride = len(points) / MAX_POINTS
    return [points[int(i * stride)] for i in range(MAX_POINTS)] + [points[-1]]


def run_progress(run: Path, job: dict[str, Any]) -> dict[str, Any]:
    record = _read(run / "finetune.json")
    if not record:
        return {"started": False}
    recipe = record.get("recipe")
    total = recipe.get("steps", 0) if isinstance(recipe, dict) else 0
    total = total if isinstance(total, int) and not isinstance(total, bool) else 0
    records = read_metrics(run / METRICS_FILE)
    train = [r for r in records if r.get("kind") == "train"]
    step = train[-1].get("step", 0) if train else 0
    step = step if isinstance(step, int) and not isinstance(step, bool) else 0
    curves = {k: _thin([[r["step"], r[k]] for r in train if isinstance(r.get(k), (int, float))]) for k in LOSSES}
    metrics, metrics_step = _heldout(run.parent / "review" / "heldout-metrics.json")
    samples = sorted((run / "samples").glob("step-*.png")) if (run / "samples").is_dir() else []
    eta = None
    if job.get("kind") == "finetune" and job.get("state") == "running" and train:
        rate = _steps_per_second(run, train[-1])
        if rate:
            eta = max(0.0, (total - step) / rate)
    return {
        "started": True, "step": step, "total": total, "eta_s": eta, "style": record.get("style"),
        "train_glyphs": record.get("train_glyphs"), "holdout_glyphs": record.get("holdout_glyphs"),
        "base": record.get("base_name"), "curves": curves, "metrics": metrics,
        "metrics_step": metrics_step,
        "sample": samples[-1].name if samples else None,
        "finished": total > 0 and step >= total,
    }


def _heldout(path: Path) -> tuple[list[dict[str, Any]], int | None]:
    """Held-out metrics the worker measured at the end (or stop) of a training: model vs baseline."""
    doc = _read(path)
    try:
        rows = [{"name": k, "model": doc["model"].get(k), "baseline": doc["baseline"].get(k),
                 "higher_is_better": bool(info.get("higher_is_better"))} for k, info in doc.get("metrics", {}).items()]
    except (KeyError, TypeError, AttributeError):  # none yet, or not the worker's
        return [], None
    return rows, doc.get("step")


def _steps_per_second(run: Path, last: dict[str, Any]) -> float | None:
    """The trainer logs images per second; a step is one batch of the run's configured size."""
    try:
        batch = _read(run / "config.json")["train"]["batch_size"]
    except (KeyError, TypeError):
        return None
    rate = last.get("img_per_s")
    if not (isinstance(rate, (int, float)) and rate > 0 and isinstance(batch, int) and batch > 0):
        return None
    return float(rate) / float(batch)


def _read(path: Path) -> dict[str, Any]:
    """A JSON object the run or the worker wrote, or {} (not there yet, half written, or damaged)."""
    from zi2zi.errors import Zi2ziError
    from zi2zi.storage.reading import read_json_object

    try:
        return read_json_object(path, what=path.name)
    except (OSError, Zi2ziError):
        return {}
