"""The web app on a free 127.0.0.1 port in a background thread, and a small JSON client for it.

The app runs with its token on, as ``zi2zi ui`` does: :func:`call` sends it (as a script would, in
the Authorization header) unless told otherwise, and :func:`page_url` is the address with the
token that a browser opens."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The token of each running app, by its base URL.
TOKENS: dict[str, str] = {}


@contextmanager
def running_app(projects: Path, *, bases: list[Path] | None = None):
    """Yields the app's base URL; the server stops when the block ends."""
    import uvicorn

    from zi2zi.ui.app import create_app
    from zi2zi.ui.guard import Access

    port = free_port()
    access = Access.for_server("127.0.0.1", port)
    server = uvicorn.Server(uvicorn.Config(create_app(projects, bases=bases, access=access), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    TOKENS[url] = access.token
    try:
        yield url
    finally:
        TOKENS.pop(url, None)
        server.should_exit = True
        thread.join(10)


def page_url(url: str) -> str:
    """The address a browser opens: the one `zi2zi ui` prints, with the app's token."""
    return f"{url}/?token={TOKENS[url]}"


def token_of(url: str) -> str:
    base = "/".join(url.split("/")[:3])
    return TOKENS[base]


def call(url: str, method: str = "GET", body=None, *, data: bytes | None = None,
         content_type: str | None = None, headers: dict[str, str] | None = None,
         token: bool = True) -> tuple[int, dict | list]:
    """(status, JSON answer) for a request; error answers are returned, not raised. ``headers``
    are added (a forged Host or Origin); ``token=False`` sends none."""
    headers = dict(headers or {})
    if token:
        headers.setdefault("Authorization", f"token {token_of(url)}")
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def multipart(field: str, filename: str, payload: bytes) -> tuple[bytes, str]:
    boundary = "zi2zitestboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
