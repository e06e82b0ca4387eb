"""The base model and the fine-tune, shared by the From a font and From handwriting pages: choose
or upload the base, start (or resume) the training, stop it, and follow its progress."""

from __future__ import annotations

import shutil
from typing import Any

from fastapi import APIRouter, File, Request, UploadFile

from zi2zi.ui import fontinfo, guard, uploads
from zi2zi.ui.errors import UiError
from zi2zi.ui.jobs import log_tail, read_job
from zi2zi.ui.progress import job_progress, run_progress
from zi2zi.ui.projects import Project
from zi2zi.ui.routes.common import (
    Context,
    base_choices,
    builtin_charset_choice,
    json_body,
    resolve_choice,
    training_default,
    whole_number,
)

router = APIRouter()


@router.post("/api/projects/{pid}/base")
async def choose_base(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    choice = str((await json_body(request)).get("base", ""))
    resolve_choice(context, project, choice)
    label = next((c["label"] for c in base_choices(context) if c["id"] == choice), "an uploaded checkpoint")
    project.update(base=choice, base_label=label)
    return {"base": choice, "label": label}


@router.post("/api/projects/{pid}/base-upload")
def upload_base(pid: str, context: Context, file: UploadFile = File(...)) -> dict[str, Any]:
    project = context.projects.get(pid)
    data = uploads.read_capped(file.file, uploads.MAX_CHECKPOINT_BYTES, "checkpoint")
    uploads.checkpoint_ok(data)
    from zi2zi.storage.atomic import write_bytes

    write_bytes(project.path("inputs") / "base.safetensors", data)
    project.update(base="upload", base_label="an uploaded checkpoint")
    return {"base": "upload"}


@router.post("/api/projects/{pid}/finetune")
async def start_finetune(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    body = await json_body(request)
    record = project.read()
    if not record.get("base"):
        raise UiError("choose a base model first")
    params: dict[str, Any] = {"base": resolve_choice(context, project, record["base"]), "device": context.device}
    if body.get("source") == "handwriting":
        params.update(_handwriting_input(project, body))
    else:
        params.update(_font_input(project, record, body, params["base"]))
    if body.get("steps") not in (None, ""):
        params["steps"] = whole_number(body["steps"], "steps", 1, 1_000_000)
    resume = bool(body.get("resume"))
    if not resume and read_job(project)["state"] in ("queued", "running"):
        raise UiError("this project is busy; wait for its job or stop it first", 409)
    if not resume and any(project.run_dir.glob("checkpoints/*.safetensors")):
        guard.confirm(body, "Start a new training? It replaces this project's trained model and its checkpoints.")
    if not resume and project.run_dir.is_dir() and any(project.run_dir.iterdir()):
        # A new training replaces the old run: keep nothing half-mixed, the job starts clean.
        shutil.rmtree(project.run_dir)
        project.run_dir.mkdir()
        (project.path("review") / "heldout-metrics.json").unlink(missing_ok=True)
    if resume:
        params = record.get("training") or {}
        if not params or not project.run_dir.is_dir():
            raise UiError("there is no training to resume; start one")
    else:
        project.update(training=params)
    return context.runner.start(project, "finetune", params)


def _handwriting_input(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    """What to learn from handwriting: the scanned glyphs."""
    glyphs = project.path("handwriting") / "glyphs"
    if not any(glyphs.glob("U+*.png")):
        raise UiError("scan your written pages first")
    return {"target_glyphs": str(glyphs), "holdout": whole_number(body.get("holdout", 0), "held-out glyphs", 0, 1000)}


def _font_input(project: Project, record: dict[str, Any], body: dict[str, Any], base: str) -> dict[str, Any]:
    """What to learn from the target font: the characters the page gave, or the first ``count`` of
    a charset that the font has."""
    target = record.get("target")
    if not target:
        raise UiError("upload or pick the target font first")
    path = project.path("inputs") / target["file"]
    if body.get("chars"):
        text = "".join(c for c in str(body["chars"]) if not c.isspace())
        chars = f"text:{text}"
    else:
        charset = builtin_charset_choice(body.get("charset"), training_default()["charset"])
        count = whole_number(body.get("count", training_default()["count"]), "training glyphs", 1, 20000)
        # The base's never-trained characters stay out of training: they measure the result.
        picked = fontinfo.training_chars(path, charset, count, leave_out=_base_holdout(base))
        if not picked:
            raise UiError(f"the font has no characters of {charset}")
        chars = f"text:{picked}"
    return {"target": str(path), "chars": chars,
            "holdout": whole_number(body.get("holdout", 100), "held-out glyphs", 0, 1000)}


def _base_holdout(base: str) -> str:
    from zi2zi.bases import resolve_base
    from zi2zi.checkpoints import read_metadata

    return str((read_metadata(resolve_base(base)).get("base") or {}).get("holdout", ""))


@router.post("/api/projects/{pid}/stop")
def stop(pid: str, context: Context) -> dict[str, Any]:
    return context.runner.stop(context.projects.get(pid))


@router.get("/api/projects/{pid}/progress")
def progress(pid: str, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    job = read_job(project)
    return {"job": job, "log": log_tail(project), "progress": run_progress(project.run_dir, job),
            "job_progress": job_progress(project.root, job)}
