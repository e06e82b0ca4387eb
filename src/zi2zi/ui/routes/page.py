"""The page: its HTML, script and style sheet, and the lists its menus are filled with when it
loads (bases, charsets, the training default, the installed fonts)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from zi2zi.ui import fontinfo
from zi2zi.ui.errors import UiError
from zi2zi.ui.projects import check_file_name
from zi2zi.ui.routes.common import Context, base_choices, training_default

router = APIRouter()


def _static(name: str) -> Path:
    return Path(str(resources.files("zi2zi.ui").joinpath("static").joinpath(name)))


@router.get("/")
def index() -> FileResponse:
    return FileResponse(_static("index.html"), media_type="text/html")


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    check_file_name(name)
    path = _static(name)
    if not path.is_file():
        raise UiError("no such file", 404)
    media = {".js": "text/javascript", ".css": "text/css"}.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media)


@router.get("/api/info")
def info(context: Context) -> dict[str, Any]:
    from zi2zi.bases import base_names
    from zi2zi.fonts import builtin_charsets

    shipped = base_names()
    return {"bases": base_choices(context), "shipped": shipped,
            "shipped_note": "" if shipped else ("No shipped base model is installed: choose a checkpoint given "
                                                "with --base, the run of another project, or upload one."),
            "charsets": builtin_charsets(), "training_default": training_default()}


@router.get("/api/installed-fonts")
def installed() -> list[dict[str, Any]]:
    return fontinfo.installed_font_list()
