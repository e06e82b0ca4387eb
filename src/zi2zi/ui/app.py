"""The web app: one static page and a JSON API over projects, uploads and jobs.

:func:`create_app` puts together the shared context, the guard, the error handlers and the routes,
which live in :mod:`zi2zi.ui.routes`, one module per page. Every handler answers from files or
starts a worker; none trains, generates or traces in the server process except the specimen,
which is short and runs in the server's thread pool. Errors reach the page as
``{"error": "one line"}``, never as a traceback.
"""

from __future__ import annotations

import errno
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from zi2zi.errors import Zi2ziError, describe_os_error
from zi2zi.ui import guard
from zi2zi.ui.errors import UiError
from zi2zi.ui.jobs import JobRunner
from zi2zi.ui.projects import Projects
from zi2zi.ui.routes import export, handwriting, page, projects, review, target, training
from zi2zi.ui.routes.common import AppContext

# In the order the page's tabs come; no two routes of different modules share a path.
ROUTE_MODULES = (page, projects, target, training, handwriting, review, export)


def create_app(projects_dir: str | Path, *, bases: list[str | Path] | None = None, device: str = "cpu",
               access: guard.Access | None = None) -> FastAPI:
    """The app over ``projects_dir``; ``bases``: checkpoints or run folders offered as bases beside
    the shipped ones (given on the command line, so trusted). ``access``: who may use it (see
    :mod:`zi2zi.ui.guard`; default: this machine, with a new token in ``app.state.access``)."""
    context = AppContext(projects=Projects(projects_dir), runner=JobRunner(),
                         extra_bases=tuple(Path(b).resolve() for b in bases or []), device=device)
    app = FastAPI(title="zi2zi", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.context = context
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

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # A path not found, a method not allowed, a malformed upload: the page shows "error".
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, OSError):
            # 507 Insufficient Storage tells a full disk from the app's own faults.
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            return JSONResponse({"error": describe_os_error(exc)}, status_code=507 if full else 500)
        return JSONResponse({"error": f"internal error ({type(exc).__name__}); nothing was changed"}, status_code=500)

    for module in ROUTE_MODULES:
        app.include_router(module.router)
    return app
