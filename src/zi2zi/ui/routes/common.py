"""What the route modules share: the app's context and the checks of what a request sends.

:func:`zi2zi.ui.app.create_app` makes one :class:`AppContext` per app and keeps it in
``app.state``; a route receives it by declaring a parameter of type :data:`Context`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from zi2zi.ui.errors import UiError
from zi2zi.ui.jobs import JobRunner
from zi2zi.ui.projects import PROJECT_ID, Project, Projects

GLYPH_NAME = "U+{:04X}.png"


@dataclass(frozen=True)
class AppContext:
    """The state the routes share. ``extra_bases``: checkpoints or run folders given on the command
    line (so trusted), offered beside the shipped bases; ``device``: where fine-tuning runs."""

    projects: Projects
    runner: JobRunner
    extra_bases: tuple[Path, ...]
    device: str
    # One specimen model in memory at a time: the server shares the machine with training.
    specimen_lock: threading.Lock = field(default_factory=threading.Lock)


async def _context(request: Request) -> AppContext:
    # async: a plain function would be sent to the thread pool on every request
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(_context)]


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a message saying it is none."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise UiError("the request is not valid JSON") from None
    if not isinstance(body, dict):
        raise UiError("the request is not a JSON object")
    try:  # JSON may spell lone surrogates (\\ud800), which no file name or record can hold
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise UiError("the request holds text that is not valid Unicode") from None
    return body


def whole_number(value: Any, what: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e400 reads from JSON as inf
        raise UiError(f"{what} must be a whole number") from None
    if not low <= number <= high:
        raise UiError(f"{what} must be from {low} to {high}")
    return number


def one_char(value: Any) -> str:
    text = str(value or "")
    if len(text) != 1 or text.isspace():
        raise UiError("give exactly one character")
    return text


def training_default() -> dict[str, Any]:
    """What a fine-tune trains on when the page does not say: the recipe's charset and count."""
    from zi2zi.finetune.recipe import DEFAULT_CHARSET, DEFAULT_TRAIN_CHARS
    from zi2zi.fonts.charsets import builtin_charsets

    return {"charset": DEFAULT_CHARSET, "count": DEFAULT_TRAIN_CHARS, "about": builtin_charsets()[DEFAULT_CHARSET]}


def base_choices(context: AppContext) -> list[dict[str, Any]]:
    """The bases the page offers, as ``{"id", "label"}``: shipped, given with ``--base``, and the
    trained runs of the other projects."""
    from zi2zi.bases import list_bases

    choices = [{"id": f"shipped:{b.name}", "label": f"{b.name} (shipped, {b.image_size} px)"} for b in list_bases()]
    choices += [{"id": f"extra:{i}", "label": f"{p.name} (given with --base)"}
                for i, p in enumerate(context.extra_bases)]
    projects = context.projects
    for other in projects.list():
        run = projects.root / other["id"] / "run"
        if (run / "finetune.json").is_file() and any(run.glob("checkpoints/*.safetensors")):
            choices.append({"id": f"project:{other['id']}", "label": f"the run of project {other['name']}"})
    return choices


def resolve_choice(context: AppContext, project: Project, choice: str) -> str:
    """The base a choice id names, as the library takes it (a shipped name or a path); the id comes
    from the browser, so only the ids :func:`base_choices` offers (or ``upload``) resolve."""
    kind, _, value = choice.partition(":")
    if kind == "shipped":
        from zi2zi.bases import base_names

        if value not in base_names():
            raise UiError(f"no shipped base {value!r}")
        return value
    extra = context.extra_bases
    if kind == "extra" and value.isdecimal() and int(value) < len(extra):
        return str(extra[int(value)])
    if kind == "project" and PROJECT_ID.match(value) and value != project.id:
        return str(context.projects.get(value).run_dir)
    if kind == "upload" and (project.path("inputs") / "base.safetensors").is_file():
        return str(project.path("inputs") / "base.safetensors")
    raise UiError("choose a base from the list")


def builtin_charset_choice(value: Any, default: str, *, extra: tuple[str, ...] = ()) -> str:
    """A charset the page offers (a built-in name, or one of ``extra``), never a path: a request
    must not make the app read a file of this machine."""
    from zi2zi.fonts import builtin_charsets

    name = str(value or default)
    if name not in builtin_charsets() and name not in extra:
        raise UiError(f"unknown charset {name!r}; choose one from the list")
    return name


def refuse_while_busy(project: Project, what: str) -> None:
    """Inputs a running job reads are not replaced under it (409, as a second job is refused)."""
    from zi2zi.ui.jobs import ACTIVE, read_job

    job = read_job(project)
    if job["state"] in ACTIVE:
        raise UiError(f"this project is busy ({job.get('kind', 'a job')} {job['state']}); "
                      f"{what} once it has finished or been stopped", 409)
