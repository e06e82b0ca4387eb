"""The Projects tab, and the state every page shows: list and create projects, one project's
state, and the files of a project the page may fetch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from zi2zi.ui.errors import UiError
from zi2zi.ui.jobs import log_tail, read_job
from zi2zi.ui.progress import job_progress, run_progress
from zi2zi.ui.projects import check_file_name
from zi2zi.ui.routes.common import Context, json_body

router = APIRouter()

# Folders whose files the page may fetch, and the media type of each extension it may fetch.
SERVED = ("run/samples", "review", "fonts", "handwriting/template", "handwriting/glyphs", "glyphs")
MEDIA = {".png": "image/png", ".pdf": "application/pdf", ".ttf": "font/ttf", ".otf": "font/otf",
         ".woff2": "font/woff2"}


@router.get("/api/projects")
def list_projects(context: Context) -> list[dict[str, Any]]:
    return context.projects.list()


@router.post("/api/projects")
async def create_project(request: Request, context: Context) -> dict[str, Any]:
    body = await json_body(request)
    project = context.projects.create(str(body.get("name", "")))
    return {"id": project.id, **project.read()}


@router.get("/api/projects/{pid}")
def project_state(pid: str, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    job = read_job(project)
    fonts = sorted(p.name for p in project.path("fonts").glob("*") if p.suffix in MEDIA and p.is_file())
    template = project.path("handwriting") / "template"
    return {
        "id": project.id, **project.read(), "job": job, "log": log_tail(project),
        "progress": run_progress(project.run_dir, job), "job_progress": job_progress(project.root, job),
        "fonts": fonts,
        "glyphs": len(list(project.path("glyphs").glob("U+*.png"))),
        "template": (template / "template.json").is_file(),
        "hand_glyphs": len(list((project.path("handwriting") / "glyphs").glob("U+*.png"))),
        # the other samples the template asked for, which the export makes alternates
        "hand_variants": len(list((project.path("handwriting") / "glyphs" / "variants").glob("U+*.png"))),
        "photos": project.read().get("photos", []),
    }


@router.get("/api/projects/{pid}/file/{folder:path}/{name}")
def project_file(pid: str, folder: str, name: str, context: Context) -> FileResponse:
    project = context.projects.get(pid)
    if folder not in SERVED:
        raise UiError("no such file", 404)
    check_file_name(name)
    path = project.root / folder / name
    media = MEDIA.get(path.suffix.lower())
    if media is None or not path.is_file():
        raise UiError(f"no file {name} in this project", 404)
    download = folder == "fonts" or path.suffix == ".pdf"
    return FileResponse(path, media_type=media, filename=name if download else None,
                        headers={"Cache-Control": "no-store"})
