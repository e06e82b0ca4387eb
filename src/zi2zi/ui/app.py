"""The web app's routes: one static page and a JSON API over projects, uploads and jobs.

Every handler answers from files or starts a worker; none trains, generates or traces in the
server process except the specimen, which is short and runs in the server's thread pool. Errors
reach the page as ``{"error": "one line"}``, never as a traceback.
"""

from __future__ import annotations

import shutil
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse

from zi2zi.errors import Zi2ziError
from zi2zi.ui import fontinfo, guard, uploads
from zi2zi.ui.errors import UiError
from zi2zi.ui.jobs import JobRunner, log_tail, read_job
from zi2zi.ui.progress import job_progress, run_progress
from zi2zi.ui.projects import PROJECT_ID, Project, Projects, check_file_name, slug

# Folders whose files the page may fetch, and the media type of each extension it may fetch.
SERVED = ("run/samples", "review", "fonts", "handwriting/template", "handwriting/glyphs", "glyphs")
MEDIA = {".png": "image/png", ".pdf": "application/pdf", ".ttf": "font/ttf", ".otf": "font/otf",
         ".woff2": "font/woff2"}
FORMATS = ("ttf", "otf", "woff2")
GLYPH_NAME = "U+{:04X}.png"


def _static(name: str) -> Path:
    return Path(str(resources.files("zi2zi.ui").joinpath("static").joinpath(name)))


def _char(value: Any) -> str:
    text = str(value or "")
    if len(text) != 1 or text.isspace():
        raise UiError("give exactly one character")
    return text


def _int(value: Any, what: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UiError(f"{what} must be a whole number") from None
    if not low <= number <= high:
        raise UiError(f"{what} must be from {low} to {high}")
    return number


def create_app(projects_dir: str | Path, *, bases: list[str | Path] | None = None, device: str = "cpu",
               access: guard.Access | None = None) -> FastAPI:
    """The app over ``projects_dir``; ``bases``: checkpoints or run folders offered as bases beside
    the shipped ones (given on the command line, so trusted). ``access``: who may use it (see
    :mod:`zi2zi.ui.guard`; default: this machine, with a new token in ``app.state.access``)."""
    projects = Projects(projects_dir)
    runner = JobRunner()
    extra_bases = [Path(b).resolve() for b in bases or []]
    specimen_lock = threading.Lock()
    app = FastAPI(title="zi2zi", docs_url=None, redoc_url=None, openapi_url=None)
    guard.install(app, access or guard.Access())

    @app.exception_handler(UiError)
    async def _ui_error(request: Request, exc: UiError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(Zi2ziError)
    async def _library_error(request: Request, exc: Zi2ziError) -> JSONResponse:
        return JSONResponse({"error": str(exc).splitlines()[0]}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "the request is incomplete; fill in the form and try again"}, status_code=422)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, OSError):
            from zi2zi.errors import describe_os_error

            return JSONResponse({"error": describe_os_error(exc)}, status_code=500)
        return JSONResponse({"error": f"internal error ({type(exc).__name__}); nothing was changed"}, status_code=500)

    # ---- the page ------------------------------------------------------------------------------

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(_static("index.html"), media_type="text/html")

    @app.get("/static/{name}")
    def static(name: str) -> FileResponse:
        check_file_name(name)
        path = _static(name)
        if not path.is_file():
            raise UiError("no such file", 404)
        media = {".js": "text/javascript", ".css": "text/css"}.get(path.suffix, "application/octet-stream")
        return FileResponse(path, media_type=media)

    # ---- bases and projects ----------------------------------------------------------------------

    def base_choices() -> list[dict[str, Any]]:
        from zi2zi.bases import list_bases

        choices = [{"id": f"shipped:{b.name}", "label": f"{b.name} (shipped, {b.image_size} px)"} for b in list_bases()]
        choices += [{"id": f"extra:{i}", "label": f"{p.name} (given with --base)"} for i, p in enumerate(extra_bases)]
        for other in projects.list():
            run = projects.root / other["id"] / "run"
            if (run / "finetune.json").is_file() and any(run.glob("checkpoints/*.safetensors")):
                choices.append({"id": f"project:{other['id']}", "label": f"the run of project {other['name']}"})
        return choices

    def resolve_choice(project: Project, choice: str) -> str:
        kind, _, value = choice.partition(":")
        if kind == "shipped":
            from zi2zi.bases import base_names

            if value not in base_names():
                raise UiError(f"no shipped base {value!r}")
            return value
        if kind == "extra" and value.isdigit() and int(value) < len(extra_bases):
            return str(extra_bases[int(value)])
        if kind == "project" and PROJECT_ID.match(value) and value != project.id:
            return str(projects.get(value).run_dir)
        if kind == "upload" and (project.path("inputs") / "base.safetensors").is_file():
            return str(project.path("inputs") / "base.safetensors")
        raise UiError("choose a base from the list")

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        from zi2zi.bases import base_names
        from zi2zi.fonts import builtin_charsets

        shipped = base_names()
        return {"bases": base_choices(), "shipped": shipped,
                "shipped_note": "" if shipped else ("No shipped base model is installed: choose a checkpoint given "
                                                    "with --base, the run of another project, or upload one."),
                "charsets": builtin_charsets(), "training_default": _training_default()}

    @app.get("/api/projects")
    def list_projects() -> list[dict[str, Any]]:
        return projects.list()

    @app.post("/api/projects")
    async def create_project(request: Request) -> dict[str, Any]:
        body = await _json(request)
        project = projects.create(str(body.get("name", "")))
        return {"id": project.id, **project.read()}

    @app.get("/api/projects/{pid}")
    def project_state(pid: str) -> dict[str, Any]:
        project = projects.get(pid)
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

    @app.get("/api/projects/{pid}/file/{folder:path}/{name}")
    def project_file(pid: str, folder: str, name: str) -> FileResponse:
        project = projects.get(pid)
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

    # ---- From a font -----------------------------------------------------------------------------

    @app.post("/api/projects/{pid}/target")
    def upload_target(pid: str, file: UploadFile = File(...)) -> dict[str, Any]:
        project = projects.get(pid)
        data = uploads.read_capped(file.file, uploads.MAX_FONT_BYTES, "font")
        path = uploads.store_font(data, project.path("inputs"), "target")
        return _set_target(project, path)

    @app.get("/api/installed-fonts")
    def installed() -> list[dict[str, Any]]:
        return fontinfo.installed_font_list()

    @app.post("/api/projects/{pid}/installed-font")
    async def pick_installed(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        body = await _json(request)
        found = fontinfo.installed_fonts()
        index = _int(body.get("id"), "the font", 0, max(0, len(found) - 1))
        if not found:
            raise UiError("no fonts are installed on this machine; upload one")
        source = found[index]
        data = uploads.read_capped(source.open("rb"), uploads.MAX_FONT_BYTES, "font")
        return _set_target(project, uploads.store_font(data, project.path("inputs"), "target"))

    def _set_target(project: Project, path: Path) -> dict[str, Any]:
        described = fontinfo.describe_font(path)
        project.update(target=described)
        return described

    @app.post("/api/projects/{pid}/base")
    async def choose_base(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        choice = str((await _json(request)).get("base", ""))
        resolve_choice(project, choice)
        label = next((c["label"] for c in base_choices() if c["id"] == choice), "an uploaded checkpoint")
        project.update(base=choice, base_label=label)
        return {"base": choice, "label": label}

    @app.post("/api/projects/{pid}/base-upload")
    def upload_base(pid: str, file: UploadFile = File(...)) -> dict[str, Any]:
        project = projects.get(pid)
        data = uploads.read_capped(file.file, uploads.MAX_CHECKPOINT_BYTES, "checkpoint")
        uploads.checkpoint_ok(data)
        from zi2zi.storage.atomic import write_bytes

        write_bytes(project.path("inputs") / "base.safetensors", data)
        project.update(base="upload", base_label="an uploaded checkpoint")
        return {"base": "upload"}

    @app.post("/api/projects/{pid}/finetune")
    async def start_finetune(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        body = await _json(request)
        record = project.read()
        if not record.get("base"):
            raise UiError("choose a base model first")
        params: dict[str, Any] = {"base": resolve_choice(project, record["base"]), "device": device}
        if body.get("source") == "handwriting":
            glyphs = project.path("handwriting") / "glyphs"
            if not any(glyphs.glob("U+*.png")):
                raise UiError("scan your written pages first")
            params["target_glyphs"] = str(glyphs)
            params["holdout"] = _int(body.get("holdout", 0), "held-out glyphs", 0, 1000)
        else:
            target = record.get("target")
            if not target:
                raise UiError("upload or pick the target font first")
            path = project.path("inputs") / target["file"]
            params["target"] = str(path)
            if body.get("chars"):
                text = "".join(c for c in str(body["chars"]) if not c.isspace())
                params["chars"] = f"text:{text}"
            else:
                charset = str(body.get("charset") or _training_default()["charset"])
                count = _int(body.get("count", _training_default()["count"]), "training glyphs", 1, 20000)
                # The base's never-trained characters stay out of training: they measure the result.
                chars = fontinfo.training_chars(path, charset, count, leave_out=_base_holdout(params["base"]))
                if not chars:
                    raise UiError(f"the font has no characters of {charset}")
                params["chars"] = f"text:{chars}"
            params["holdout"] = _int(body.get("holdout", 100), "held-out glyphs", 0, 1000)
        if body.get("steps") not in (None, ""):
            params["steps"] = _int(body["steps"], "steps", 1, 1_000_000)
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
        return runner.start(project, "finetune", params)

    @app.post("/api/projects/{pid}/stop")
    def stop(pid: str) -> dict[str, Any]:
        return runner.stop(projects.get(pid))

    @app.get("/api/projects/{pid}/progress")
    def progress(pid: str) -> dict[str, Any]:
        project = projects.get(pid)
        job = read_job(project)
        return {"job": job, "log": log_tail(project), "progress": run_progress(project.run_dir, job),
                "job_progress": job_progress(project.root, job)}

    # ---- Review ----------------------------------------------------------------------------------

    def _need_run(project: Project) -> None:
        if not any(project.run_dir.glob("checkpoints/*.safetensors")):
            raise UiError("train first: there is no fine-tuned model in this project yet")

    @app.post("/api/projects/{pid}/generate")
    async def generate(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        _need_run(project)
        body = await _json(request)
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
        return runner.start(project, "generate", {"chars": chars, "excluded": record.get("excluded", "")})

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

    @app.get("/api/projects/{pid}/glyphs")
    def glyphs(pid: str, folder: str = "glyphs", limit: int = 400) -> dict[str, Any]:
        project = projects.get(pid)
        root = project.root / ("handwriting/glyphs" if folder == "handwriting" else "glyphs")
        files = sorted(root.glob("U+*.png")) if root.is_dir() else []
        cells = [{"char": chr(int(p.stem[2:], 16)), "file": p.name} for p in files[: max(1, min(limit, 5000))]]
        return {"total": len(files), "cells": cells, "folder": "handwriting/glyphs" if folder == "handwriting" else "glyphs",
                "excluded": project.read().get("excluded", "")}

    @app.post("/api/projects/{pid}/glyphs/exclude")
    async def exclude(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        char = _char((await _json(request)).get("char"))
        path = project.path("glyphs") / GLYPH_NAME.format(ord(char))
        # Moved aside, not deleted: a generation of the same characters skips it from now on.
        aside = project.path("review") / "excluded"
        aside.mkdir(exist_ok=True)
        if path.is_file():
            path.replace(aside / path.name)
        excluded = "".join(dict.fromkeys(project.read().get("excluded", "") + char))
        project.update(excluded=excluded)
        return {"excluded": excluded}

    @app.post("/api/projects/{pid}/glyphs/regenerate")
    async def regenerate(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        _need_run(project)
        char = _char((await _json(request)).get("char"))
        record = project.read()
        project.update(excluded=record.get("excluded", "").replace(char, ""))
        return runner.start(project, "regenerate", {"char": char})

    @app.post("/api/projects/{pid}/specimen")
    async def specimen(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        _need_run(project)
        body = await _json(request)
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

        await anyio.to_thread.run_sync(_write_specimen, project, text, name)
        return {"file": name}

    def _write_specimen(project: Project, text: str, name: str) -> None:
        from zi2zi.generation import GlyphGenerator, base_source_font, write_specimen

        with specimen_lock:  # one model in memory at a time: the server shares the machine with training
            model = GlyphGenerator(project.run_dir, device="cpu")
            source = base_source_font(model.data_info, lambda _: None)
            write_specimen(model, style=model.styles[-1], source=source, text=text, out=project.path("review") / name,
                           overwrite=True)

    # ---- Export ----------------------------------------------------------------------------------

    @app.post("/api/projects/{pid}/export")
    async def export(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        body = await _json(request)
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

            FontNames.parse(family, str(body.get("style") or "Regular"))  # refuse a bad style now, not in the job
            params.update(family=family, style=str(body.get("style") or "Regular"))
            params["file"] = f"{slug(family)}.{fmt}"
            take = str(body.get("punctuation") or "generated")
            if take != "generated":
                params["take_from"] = _take_from(project, take)
        return runner.start(project, "export", params)

    # ---- From handwriting ------------------------------------------------------------------------

    @app.post("/api/projects/{pid}/template")
    async def template(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        body = await _json(request)
        text = "".join(c for c in str(body.get("chars") or "") if not c.isspace())
        charset = f"text:{text}" if text else str(body.get("charset") or "handwriting-300")
        count = body.get("count")
        if count not in (None, "") and not text:
            charset = f"{charset}:{_int(count, 'characters', 1, 10000)}"
        from zi2zi.handwriting import template_charset

        template_charset(charset)  # a bad charset is refused here, as a message
        params: dict[str, Any] = {"charset": charset, "extras": bool(body.get("extras", True)),
                                  "variants": bool(body.get("variants", True))}
        reference = _reference_font(project)
        if reference:  # the printed reference characters: the base's source font, or the project's font
            params["reference_font"] = reference
        return runner.start(project, "template", params)

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
        if kind != "installed" or not value.isdigit() or int(value) >= len(found):
            raise UiError("choose where punctuation, digits and Latin come from in the list")
        with found[int(value)].open("rb") as fh:
            data = uploads.read_capped(fh, uploads.MAX_FONT_BYTES, "font")
        return f"inputs/{uploads.store_font(data, project.path('inputs'), 'latin-from').name}"

    def _base_holdout(base: str) -> str:
        from zi2zi.bases import resolve_base
        from zi2zi.checkpoints import read_metadata

        return str((read_metadata(resolve_base(base)).get("base") or {}).get("holdout", ""))

    def _reference_font(project: Project) -> str | None:
        record = project.read()
        if record.get("base"):
            from zi2zi.bases import resolve_base
            from zi2zi.checkpoints import read_metadata

            meta = read_metadata(resolve_base(resolve_choice(project, record["base"])))
            path = ((meta.get("data_info") or {}).get("source") or {}).get("font", {}).get("path")
            if path and Path(path).is_file():
                return str(path)
        if record.get("target"):
            return str(project.path("inputs") / record["target"]["file"])
        return None

    @app.post("/api/projects/{pid}/photos")
    def photos(pid: str, files: list[UploadFile] = File(...)) -> dict[str, Any]:
        project = projects.get(pid)
        if not (project.path("handwriting") / "template" / "template.json").is_file():
            raise UiError("make the template first: its layout is how the photos are read")
        from zi2zi.storage.atomic import write_bytes

        names = list(project.read().get("photos", []))
        new: list[str] = []
        for upload in files[:50]:
            data = uploads.read_capped(upload.file, uploads.MAX_IMAGE_BYTES, "photo")
            suffix = uploads.image_suffix(data, allow_pdf=True)
            name = f"photo-{len(names) + 1:03d}{suffix}"
            write_bytes(project.path("inputs") / name, data)
            names.append(name)
            new.append(name)
        project.update(photos=names)
        return runner.start(project, "scan", {"photos": new})

    @app.post("/api/projects/{pid}/hand/reject")
    async def reject(pid: str, request: Request) -> dict[str, Any]:
        project = projects.get(pid)
        char = _char((await _json(request)).get("char"))
        name = GLYPH_NAME.format(ord(char))
        hand = project.path("handwriting")
        path = hand / "glyphs" / name
        if not path.is_file():
            raise UiError(f"there is no scanned {char} to reject", 404)
        (hand / "rejected").mkdir(exist_ok=True)
        path.replace(hand / "rejected" / name)
        return {"rejected": char}

    return app


def _training_default() -> dict[str, Any]:
    from zi2zi.finetune.recipe import DEFAULT_CHARSET, DEFAULT_TRAIN_CHARS

    return {"charset": DEFAULT_CHARSET, "count": DEFAULT_TRAIN_CHARS}


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise UiError("the request is not valid JSON") from None
    if not isinstance(body, dict):
        raise UiError("the request is not a JSON object")
    return body
