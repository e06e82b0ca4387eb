"""The Review page: generate glyphs with the trained model, list them, exclude or regenerate one,
and set specimens (the page's text, or the held-out characters) in the model's style."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from zi2zi.ui import fontinfo, guard
from zi2zi.ui.errors import UiError
from zi2zi.ui.projects import Project
from zi2zi.ui.routes.common import GLYPH_NAME, AppContext, Context, json_body, one_char

router = APIRouter()


def _need_run(project: Project) -> None:
    if not any(project.run_dir.glob("checkpoints/*.safetensors")):
        raise UiError("train first: there is no fine-tuned model in this project yet")


@router.post("/api/projects/{pid}/generate")
async def generate(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    _need_run(project)
    body = await json_body(request)
    mode = body.get("mode", "charset")
    record = project.read()
    if mode == "text":
        chars = "".join(dict.fromkeys(c for c in str(body.get("text", "")) if not c.isspace()))
    else:
        from zi2zi.fonts import builtin_charsets, resolve_charset

        charset = str(body.get("charset") or "gb2312")
        if charset not in builtin_charsets():
            raise UiError(f"unknown charset {charset!r}")
        if mode == "missing":
            if not record.get("target"):
                raise UiError("there is no uploaded font to complete; choose a charset instead")
            chars = fontinfo.missing_chars(project.path("inputs") / record["target"]["file"], charset)
        else:
            chars = "".join(resolve_charset(charset))
    if body.get("extras", True) and mode != "text":
        chars += "".join(c for c in _sentence_chars(project, mode) if c not in set(chars))
    if not chars:
        raise UiError("nothing to generate: the font already has every character of that charset")
    if any(project.path("glyphs").glob("U+*.png")):
        guard.confirm(body, "Generate again? The new glyphs replace the ones on the Review page.")
    return context.runner.start(project, "generate", {"chars": chars, "excluded": record.get("excluded", "")})


def _sentence_chars(project: Project, mode: str) -> str:
    """Punctuation, digits and Latin to generate with the hanzi: those the target font has
    (its style has them), or all of them for a hand; "missing": those the font lacks."""
    from zi2zi.fonts.punctuation import sentence_chars

    target = project.read().get("target")
    if not target or (project.read().get("training") or {}).get("target_glyphs"):
        return "".join(sentence_chars())
    from zi2zi.fonts import open_font

    font = open_font(project.path("inputs") / target["file"])
    return "".join(c for c in sentence_chars() if font.covers(c) != (mode == "missing"))


@router.get("/api/projects/{pid}/glyphs")
def glyphs(pid: str, context: Context, folder: str = "glyphs", limit: int = 400) -> dict[str, Any]:
    project = context.projects.get(pid)
    root = project.root / ("handwriting/glyphs" if folder == "handwriting" else "glyphs")
    files = sorted(root.glob("U+*.png")) if root.is_dir() else []
    cells = [{"char": chr(int(p.stem[2:], 16)), "file": p.name} for p in files[: max(1, min(limit, 5000))]]
    return {"total": len(files), "cells": cells, "folder": "handwriting/glyphs" if folder == "handwriting" else "glyphs",
            "excluded": project.read().get("excluded", "")}


@router.post("/api/projects/{pid}/glyphs/exclude")
async def exclude(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    char = one_char((await json_body(request)).get("char"))
    path = project.path("glyphs") / GLYPH_NAME.format(ord(char))
    # Moved aside, not deleted: a generation of the same characters skips it from now on.
    aside = project.path("review") / "excluded"
    aside.mkdir(exist_ok=True)
    if path.is_file():
        path.replace(aside / path.name)
    excluded = "".join(dict.fromkeys(project.read().get("excluded", "") + char))
    project.update(excluded=excluded)
    return {"excluded": excluded}


@router.post("/api/projects/{pid}/glyphs/regenerate")
async def regenerate(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    _need_run(project)
    char = one_char((await json_body(request)).get("char"))
    record = project.read()
    project.update(excluded=record.get("excluded", "").replace(char, ""))
    return context.runner.start(project, "regenerate", {"char": char})


@router.post("/api/projects/{pid}/specimen")
async def specimen(pid: str, request: Request, context: Context) -> dict[str, Any]:
    project = context.projects.get(pid)
    _need_run(project)
    body = await json_body(request)
    which = body.get("which", "text")
    if which == "heldout":
        from zi2zi.data.layout import read_manifest

        text = "".join(read_manifest(project.run_dir / "data")["split"]["holdout"])[:64]
        if not text:
            raise UiError("this training kept no characters out; there is nothing to compare")
    else:
        text = str(body.get("text", ""))[:200]
    name = "heldout.png" if which == "heldout" else "specimen.png"
    import anyio

    await anyio.to_thread.run_sync(_write_specimen, context, project, text, name)
    return {"file": name}


def _write_specimen(context: AppContext, project: Project, text: str, name: str) -> None:
    """Runs in the server's thread pool: the specimen is short, but a model is loaded for it."""
    from zi2zi.generation import GlyphGenerator, base_source_font, write_specimen

    with context.specimen_lock:
        model = GlyphGenerator(project.run_dir, device="cpu")
        source = base_source_font(model.data_info, lambda _: None)
        write_specimen(model, style=model.styles[-1], source=source, text=text, out=project.path("review") / name,
                       overwrite=True)
