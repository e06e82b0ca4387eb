"""Running the app: the host and port checks, the token, the start message, uvicorn."""

from __future__ import annotations

import errno
import socket
import sys
from pathlib import Path

from zi2zi.errors import Zi2ziError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_host(host: str, allow_remote: bool) -> None:
    if host in LOCAL_HOSTS:
        return
    if not allow_remote:
        raise Zi2ziError(f"--host {host} would let other machines use the app; add --allow-remote if you mean it")
    print(f"warning: serving on {host}: the app's only login is its token, sent over plain http; anyone "
          "who can reach this address and sees the token can read and change your projects", file=sys.stderr)


def serve(*, projects: str | Path, port: int, host: str = "127.0.0.1", allow_remote: bool = False,
          bases: list[str | Path] | None = None, device: str = "cpu", token: bool = True) -> int:
    if not 1 <= port <= 65535:
        raise Zi2ziError(f"--port {port} is out of range; give a port from 1 to 65535")
    check_host(host, allow_remote)
    try:
        import uvicorn

        from zi2zi.ui.app import create_app
        from zi2zi.ui.guard import Access
    except ImportError as exc:
        raise Zi2ziError(f"the web app needs the ui extra ({exc.name} is missing): pip install 'zi2zi[ui]'") from None
    for base in bases or []:
        if not Path(base).exists():
            raise Zi2ziError(f"--base {base}: no such checkpoint or run directory")
    sock = _bind(host, port)  # before the address is printed: a busy port is an error, not a dead link
    access = Access.for_server(host, port, token=token)
    if not token:
        print("warning: --no-token: any program on this machine (any user, any script) can use the app and "
              "change your projects; other web sites are still refused", file=sys.stderr)
    app = create_app(projects, bases=bases, device=device, access=access)
    print(f"zi2zi ui: {access.url()}  (projects in {Path(projects).resolve()}; Ctrl+C stops the app, "
          "running jobs go on)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
    return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise Zi2ziError(f"port {port} on {host} is in use (another zi2zi ui, or another program); "
                             "stop it or choose another --port") from None
        raise Zi2ziError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --host or --port") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
