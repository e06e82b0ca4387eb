"""What the pages show of a project's work, read from files: the training (step, losses,
held-out metrics, samples) and the running job's count and ETA.

Only files are read (``finetune.json``, ``metrics.jsonl``, ``samples/``, ``job/progress.json``
that the worker writes through ``zi2zi.ui.monitor``), never the model: this answers in
milliseconds while the job runs in its worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zi2zi.training.runlog import METRICS_FILE, read_metrics
from zi2zi.ui.monitor import PROGRESS_FILE

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
    total = _count(recipe.get("steps", 0) if isinstance(recipe, dict) else 0)
    records = read_metrics(run / METRICS_FILE)
    train = [r for r in records if r.get("kind") == "train"]
    step = _count(train[-1].get("step", 0)) if train else 0
    curves = {k: _thin([[r["step"], r[k]] for r in train if isinstance(r.get(k), (int, float))]) for k in LOSSES}
    metrics, metrics_info = _heldout(run.parent / "review" / "heldout-metrics.json")
    samples = sorted((run / "samples").glob("step-*.png")) if (run / "samples").is_dir() else []
    heldout = sorted((run / "samples").glob("heldout-step-*.png")) if (run / "samples").is_dir() else []
    eta = None
    live = job_progress(run.parent, job)
    if job.get("kind") == "finetune" and job.get("state") == "running":
        eta = live.get("eta_s") if live else None
        step = max(step, _count(live.get("done") or 0)) if live else step
    return {
        "started": True, "step": step, "total": total, "eta_s": eta, "style": record.get("style"),
        "train_glyphs": record.get("train_glyphs"), "holdout_glyphs": record.get("holdout_glyphs"),
        "base": record.get("base_name"), "curves": curves, "metrics": metrics,
        "metrics_step": metrics_info.get("step"), "metrics_characters": metrics_info.get("characters"),
        "metrics_quick": bool(metrics_info.get("quick")),
        "sample": samples[-1].name if samples else None,
        "sample_step": _step_of(samples[-1]) if samples else None,
        "heldout_sample": heldout[-1].name if heldout else None,
        "heldout_sample_step": _step_of(heldout[-1]) if heldout else None,
        "source": "handwriting" if _from_glyphs(run) else "font",
        "finished": total > 0 and step >= total,
    }


def _step_of(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def _from_glyphs(run: Path) -> bool:
    """Whether the run learnt from a glyph folder (a scanned hand) rather than a font."""
    manifest = _read(run / "data" / "manifest.json")
    try:
        styles = manifest.get("styles") or [{}]
        return not (styles[0].get("font") or {}).get("path")
    except (TypeError, AttributeError, IndexError, KeyError):  # not the dataset zi2zi wrote
        return False


def job_progress(root: Path, job: dict[str, Any]) -> dict[str, Any] | None:
    """The running (or last) job's count, total and ETA, as its worker last wrote them; None when
    that job wrote none (or another job did)."""
    doc = _read(root / "job" / PROGRESS_FILE)
    try:
        if not doc or doc.get("kind") != job.get("kind") or float(doc.get("time") or 0) < float(job.get("queued") or 0):
            return None
    except (TypeError, ValueError):  # not the worker's
        return None
    if job.get("state") != "running":
        doc["eta_s"] = None
    return doc


def _heldout(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Held-out metrics the worker measured: quick ones during training, every character at its
    end (or stop); model vs baseline."""
    doc = _read(path)
    try:
        rows = [{"name": k, "model": doc["model"].get(k), "baseline": doc["baseline"].get(k),
                 "higher_is_better": bool(info.get("higher_is_better"))} for k, info in doc.get("metrics", {}).items()]
    except (KeyError, TypeError, AttributeError):  # none yet, or not the worker's
        return [], {}
    return rows, doc


def _count(value: Any) -> int:
    """A step count from a file, or 0 when it is not a whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _read(path: Path) -> dict[str, Any]:
    """A JSON object the run or the worker wrote, or {} (not there yet, half written, or damaged)."""
    from zi2zi.errors import Zi2ziError
    from zi2zi.storage.reading import read_json_object

    try:
        return read_json_object(path, what=path.name)
    except (OSError, Zi2ziError):
        return {}
