"""Running the app: the host check, the start message, uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path

from zi2zi.errors import Zi2ziError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_host(host: str, allow_remote: bool) -> None:
    if host in LOCAL_HOSTS:
        return
    if not allow_remote:
        raise Zi2ziError(f"--host {host} would let other machines use the app; add --allow-remote if you mean it")
    print(f"warning: serving on {host}: the app has no login; anyone who can reach this address can read "
          "and change your projects", file=sys.stderr)


def serve(*, projects: str | Path, port: int, host: str = "127.0.0.1", allow_remote: bool = False,
          bases: list[str | Path] | None = None, device: str = "cpu") -> int:
    check_host(host, allow_remote)
    try:
        import uvicorn

        from zi2zi.ui.app import create_app
    except ImportError as exc:
        raise Zi2ziError(f"the web app needs the ui extra ({exc.name} is missing): pip install 'zi2zi[ui]'") from None
    for base in bases or []:
        if not Path(base).exists():
            raise Zi2ziError(f"--base {base}: no such checkpoint or run directory")
    app = create_app(projects, bases=bases, device=device)
    print(f"zi2zi ui: http://{host}:{port}/  (projects in {Path(projects).resolve()}; Ctrl+C stops the app, "
          "running jobs go on)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
