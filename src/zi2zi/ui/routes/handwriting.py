"""The From handwriting page: the template to print and write on, the photos of the written
pages (each upload starts a scan), and rejecting a badly scanned cell."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, File, Request, UploadFile

from zi2zi.errors import CheckpointError, DatasetError, FontError
from zi2zi.ui import guard, uploads
from zi2zi.ui.errors import UiError
from zi2zi.ui.projects import Project
from zi2zi.ui.routes.common import (
    GLYPH_NAME,
    AppContext,
    Context,
    builtin_charset_choice,
    json_body,
    one_char,
    refuse_while_busy,
    resolve_choice,
    whole_number,
)

router = APIRouter()
_PHOTOS_LOCK = threading.Lock()


@router.post("/api/projects/{pid}/template")
async def template(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    body = await json_body(request)
    text = "".join(c for c in str(body.get("chars") or "") if not c.isspace())
    charset = f"text:{text}" if text else builtin_charset_choice(body.get("charset"), "handwriting-300",
                                                                 extra=("handwriting-300",))
    count = body.get("count")
    if count not in (None, "") and not text:
        charset = f"{charset}:{whole_number(count, 'characters', 1, 10000)}"
    from zi2zi.handwriting import template_charset

    template_charset(charset)  # a bad charset is refused here, as a message
    params: dict[str, Any] = {"charset": charset, "extras": bool(body.get("extras", True)),
                              "variants": bool(body.get("variants", True))}
    if (project.path("handwriting") / "template" / "template.json").is_file():
        guard.confirm(body, "Make a new template? Pages written on the old one can no longer be read.")
    reference = _reference_font(context, project)
    if reference:  # the printed reference characters: the base's source font, or the project's font
        params["reference_font"] = reference
    return context.runner.start(project, "template", params)


def _reference_font(context: AppContext, project: Project) -> str | None:
    record = project.read()
    if record.get("base"):
        from zi2zi.bases import resolve_base
        from zi2zi.checkpoints import read_metadata
        from zi2zi.generation import find_base_source_font

        meta = read_metadata(resolve_base(resolve_choice(context, project, record["base"])))
        try:
            path, face, _ = find_base_source_font(meta.get("data_info") or {})
            return f"{path}#{face}" if face else str(path)  # Noto Serif CJK's SC face is #2 of its .ttc
        except (CheckpointError, DatasetError, FontError):
            pass  # no usable source font recorded or found: the project's own font, if any, instead
    if record.get("target"):
        return str(project.path("inputs") / record["target"]["file"])
    return None


@router.post("/api/projects/{pid}/photos")
def photos(pid: str, context: Context, files: list[UploadFile] = File(...)) -> dict[str, Any]:
    project = context.projects.get(pid)
    if not (project.path("handwriting") / "template" / "template.json").is_file():
        raise UiError("make the template first: its layout is how the photos are read")
    refuse_while_busy(project, "add photos")  # recorded now, they would never be scanned
    from zi2zi.storage.atomic import write_bytes

    checked = []
    for upload in files[:50]:
        data = uploads.read_capped(upload.file, uploads.MAX_IMAGE_BYTES, "photo")
        checked.append((data, uploads.image_suffix(data, allow_pdf=True)))
    # Numbered and recorded one upload at a time: two at once would take the same photo-NNN.
    with _PHOTOS_LOCK:
        names = list(project.read().get("photos", []))
        new: list[str] = []
        for data, suffix in checked:
            name = f"photo-{len(names) + 1:03d}{suffix}"
            write_bytes(project.path("inputs") / name, data)
            names.append(name)
            new.append(name)
        project.update(photos=names)
    return context.runner.start(project, "scan", {"photos": new})


@router.post("/api/projects/{pid}/hand/reject")
async def reject(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    char = one_char((await json_body(request)).get("char"))
    name = GLYPH_NAME.format(ord(char))
    hand = project.path("handwriting")
    path = hand / "glyphs" / name
    if not path.is_file():
        raise UiError(f"there is no scanned {char} to reject", 404)
    (hand / "rejected").mkdir(exist_ok=True)
    path.replace(hand / "rejected" / name)
    return {"rejected": char}
