"""The Export page: a new font from the generated (or scanned) glyphs, or those glyphs merged into
the uploaded font; the export job builds it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from zi2zi.ui import fontinfo, guard, uploads
from zi2zi.ui.errors import UiError
from zi2zi.ui.projects import Project, slug
from zi2zi.ui.routes.common import Context, json_body, refuse_while_busy

router = APIRouter()

FORMATS = ("ttf", "otf", "woff2")


@router.post("/api/projects/{pid}/export")
async def export(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    refuse_while_busy(project, "export")
    body = await json_body(request)
    fmt = str(body.get("format", "ttf"))
    if fmt not in FORMATS:
        raise UiError(f"choose one of {', '.join(FORMATS)}")
    source = "handwriting/glyphs" if body.get("glyphs") == "handwriting" else "glyphs"
    if not any((project.root / source).glob("U+*.png")):
        raise UiError("there are no glyphs to export yet: generate them on the Review page (or scan your pages)")
    params: dict[str, Any] = {"glyphs": source, "copyright": str(body.get("copyright", ""))[:500],
                              "licence": str(body.get("licence", ""))[:2000],
                              "licence_url": str(body.get("licence_url", ""))[:500]}
    if body.get("merge"):
        target = project.read().get("target")
        if not target:
            raise UiError("there is no uploaded font to merge into")
        params["merge_into"] = f"inputs/{target['file']}"
        params["file"] = f"merged.{fmt}"
    else:
        family = " ".join(str(body.get("family", "")).split())[:60]
        if not family:
            raise UiError("give the font a family name")
        from zi2zi.export.build import FontNames

        style = str(body.get("style") or "Regular")
        FontNames.parse(family, style)  # refuse a bad style now, not in the job
        params.update(family=family, style=style, file=font_file_name(family, style, fmt))
    if (project.path("fonts") / params["file"]).exists():
        guard.confirm(body, f"Replace {params['file']}? The font exported before under that name is replaced.")
    if not body.get("merge"):
        take = str(body.get("punctuation") or "generated")
        if take != "generated":
            params["take_from"] = _take_from(project, take)
    return context.runner.start(project, "export", params)


def font_file_name(family: str, style: str, fmt: str) -> str:
    """The exported font's file name: family and style (each family and style its own file), with a
    short digest of the family when it is not all ASCII (我的楷书 and 手写体 would both read "project")."""
    import hashlib

    name = slug(family)
    if not family.isascii():
        name += "-" + hashlib.sha256(family.encode()).hexdigest()[:6]
    if style.casefold() != "regular":
        name += "-" + slug(style)
    return f"{name}.{fmt}"


def _take_from(project: Project, choice: str) -> str:
    """The font punctuation, digits and Latin are taken from, as a path inside the project:
    "target" (the uploaded font) or "installed:N" (copied in like a target)."""
    if choice == "target":
        target = project.read().get("target")
        if not target:
            raise UiError("there is no uploaded font to take punctuation and Latin from; choose another")
        return f"inputs/{target['file']}"
    kind, _, value = choice.partition(":")
    found = fontinfo.installed_fonts()
    if kind != "installed" or not value.isdecimal() or int(value) >= len(found):
        raise UiError("choose where punctuation, digits and Latin come from in the list")
    with found[int(value)].open("rb") as fh:
        data = uploads.read_capped(fh, uploads.MAX_FONT_BYTES, "font")
    return f"inputs/{uploads.store_font(data, project.path('inputs'), 'latin-from').name}"
