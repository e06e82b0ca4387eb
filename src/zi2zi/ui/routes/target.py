"""From a font, step 1: the font to learn, uploaded or copied from the fonts installed on this
machine into the project's ``inputs/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Request, UploadFile

from zi2zi.ui import fontinfo, uploads
from zi2zi.ui.errors import UiError
from zi2zi.ui.projects import Project
from zi2zi.ui.routes.common import Context, json_body, refuse_while_busy, whole_number

router = APIRouter()


@router.post("/api/projects/{pid}/target")
def upload_target(pid: str, context: Context, file: UploadFile = File(...)) -> dict[str, Any]:
    project = context.projects.get(pid)
    refuse_while_busy(project, "change the font to learn")  # a fine-tune reads it again for its refiner
    data = uploads.read_capped(file.file, uploads.MAX_FONT_BYTES, "font")
    path = uploads.store_font(data, project.path("inputs"), "target")
    return _set_target(project, path)


@router.post("/api/projects/{pid}/installed-font")
async def pick_installed(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    refuse_while_busy(project, "change the font to learn")
    body = await json_body(request)
    found = fontinfo.installed_fonts()
    index = whole_number(body.get("id"), "the font", 0, max(0, len(found) - 1))
    if not found:
        raise UiError("no fonts are installed on this machine; upload one")
    source = found[index]
    with source.open("rb") as stream:
        data = uploads.read_capped(stream, uploads.MAX_FONT_BYTES, "font")
    return _set_target(project, uploads.store_font(data, project.path("inputs"), "target"))


def _set_target(project: Project, path: Path) -> dict[str, Any]:
    described = fontinfo.describe_font(path)
    project.update(target=described)
    return described
