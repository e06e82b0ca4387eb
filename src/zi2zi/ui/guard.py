"""What keeps other web sites and other programs out of the web app (Jupyter's defences are the model).

A web page the user visits elsewhere can send requests to ``127.0.0.1`` and, by DNS rebinding,
even read the answers; the app runs jobs that replace folders, so it refuses:

- a ``Host`` other than the bound address, ``127.0.0.1``, ``[::1]`` or ``localhost`` with the
  app's port (a rebound name such as ``evil.example``). Bound to a wildcard address (``0.0.0.0``
  with ``--allow-remote``), the names the machine is reached by cannot be known: then any Host is
  accepted and the token alone keeps others out;
- a state-changing request (POST, PUT, PATCH, DELETE) whose ``Origin`` is not the app's own.
  A request without ``Origin`` is allowed, as Jupyter allows it: browsers send ``Origin`` with
  every cross-origin (and every fetch) POST, so its absence means a non-browser client (curl, a
  script), which the token checks like any other;
- a state-changing request whose body is not ``application/json`` or ``multipart/form-data``
  (``text/plain`` and form posts are what a page can send without a CORS preflight);
- any request but the page's static files without the per-launch token: given once in the URL
  that ``zi2zi ui`` prints (``/?token=...``), then kept in an HttpOnly, SameSite=Strict cookie
  (which other sites' requests never carry); scripts may send ``Authorization: token ...``.
  ``--no-token`` turns the token off (with a warning); the other checks stay.

Destructive actions (a fine-tune that replaces a trained run, a generation that replaces the
glyphs) ask first: the route calls :func:`confirm`, which answers 409 with a question until the
request carries ``"confirm": true``; the page asks the user with ``confirm()`` and repeats it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from zi2zi.ui.errors import UiError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
BODY_TYPES = ("application/json", "multipart/form-data")
TOKEN_PARAM = "token"
# Served without the token: the page's script and style sheet, package files with nothing private.
PUBLIC_PREFIXES = ("/static/",)


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Access:
    """Who may use the app: the address it is bound to (``port`` None: the port it is served on)
    and the token (None: ``--no-token``)."""

    host: str = "127.0.0.1"
    port: int | None = None
    token: str | None = field(default_factory=new_token)
    allow_any_host: bool = False  # bound to 0.0.0.0 / :: with --allow-remote

    @classmethod
    def for_server(cls, host: str, port: int, *, token: bool = True) -> Access:
        wildcard = _is_wildcard(host)
        return cls(host=host, port=port, token=new_token() if token else None, allow_any_host=wildcard)

    def cookie_name(self, port: int) -> str:
        # Cookies are shared by every port of a host: one name per port keeps two apps apart.
        return f"zi2zi-token-{port}"

    def url(self, port: int | None = None) -> str:
        """The address to open: with the token, which the app then keeps in a cookie."""
        port = port or self.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        if _is_wildcard(self.host):
            host = "127.0.0.1"
        query = f"?{TOKEN_PARAM}={self.token}" if self.token else ""
        return f"http://{host}:{port}/{query}"


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _split_host(value: str) -> tuple[str, int | None]:
    """``name:port`` / ``[v6]:port`` / ``name`` -> (name lower-cased, port or None); bad -> ("", None)."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ("" if not rest else "x")
    else:
        name, _, port_text = value.partition(":")
    if port_text == "":
        return name, None
    if not port_text.isdecimal():
        return "", None
    return name, int(port_text)


class ConfirmationNeeded(UiError):
    """A destructive action asked without ``"confirm": true``: the page asks the user, then repeats."""

    def __init__(self, question: str) -> None:
        super().__init__(question, 409)
        self.question = question


def confirm(body: dict[str, Any], question: str) -> None:
    """Go on only when the request says the user confirmed ``question``."""
    if body.get("confirm") is not True:
        raise ConfirmationNeeded(question)


class Guard:
    """ASGI middleware applying the checks of the module docstring before any route runs."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        port = self.access.port or (scope.get("server") or ("", 80))[1]
        method = scope.get("method", "GET")
        path = scope.get("path", "/")
        refusal = self._refusal(headers, port, method)
        if refusal is not None:
            await _answer(send, refusal[0], refusal[1], html=False)
            return
        if self.access.token is None or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        given = query.get(TOKEN_PARAM)
        if given is not None and self._valid(given):
            if method == "GET" and path == "/":
                # The page: the token into the cookie and out of the address bar, the history
                # and any Referer. A script's ?token= on an API call is simply accepted.
                rest = urlencode([(k, v) for k, v in query.items() if k != TOKEN_PARAM])
                await _redirect(send, quote(path) + (f"?{rest}" if rest else ""), self._cookie(port))
                return
            await self.app(scope, receive, send)
            return
        if self._valid(_cookie_token(headers.get("cookie", ""), self.access.cookie_name(port))) or \
                self._valid(_header_token(headers.get("authorization", ""))):
            await self.app(scope, receive, send)
            return
        if path == "/" and method == "GET":
            await _answer(send, 403, _LOGIN_PAGE, html=True)
            return
        await _answer(send, 403, "this request has no valid token: open the address that `zi2zi ui` printed "
                                 "(it ends in ?token=...), or send the header 'Authorization: token TOKEN'", html=False)

    def _refusal(self, headers: dict[str, str], port: int, method: str) -> tuple[int, str] | None:
        name, host_port = _split_host(headers.get("host", ""))
        allowed = {n.lower() for n in (*LOCAL_NAMES, self.access.host)}
        port_ok = host_port == port or (host_port is None and port == 80)
        if not self.access.allow_any_host and not (name in allowed and port_ok):
            return 403, (f"this app answers only to http://127.0.0.1:{port} or http://localhost:{port}, "
                         f"not to the host name {headers.get('host', '')!r}; open the address `zi2zi ui` printed")
        if method not in STATE_CHANGING:
            return None
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            if origin == "null" or parts.scheme != "http" or parts.netloc.lower() != headers.get("host", "").lower():
                return 403, (f"refused a request from another web site ({origin}); the app takes changes only "
                             "from its own page")
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in BODY_TYPES:
            return 415, (f"refused a request with content type {media or 'none'!r}; the app takes "
                         "application/json (or multipart/form-data for uploads)")
        return None

    def _valid(self, given: str | None) -> bool:
        token = self.access.token
        if not given or token is None:
            return False
        return hmac.compare_digest(given.encode(), token.encode())

    def _cookie(self, port: int) -> str:
        return f"{self.access.cookie_name(port)}={self.access.token}; HttpOnly; SameSite=Strict; Path=/"


def _cookie_token(header: str, name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # noqa: BLE001 - a malformed Cookie header is simply no token
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def _header_token(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() in ("token", "bearer") else None


_LOGIN_PAGE = (
    "<!doctype html><meta charset=utf-8><title>zi2zi</title>"
    "<p>This is the zi2zi web app. Open the address that <code>zi2zi ui</code> printed in its terminal: "
    "it ends in <code>?token=...</code>, which lets this browser in.</p>"
)


async def _answer(send: Send, status: int, text: str, *, html: bool) -> None:
    body = text.encode() if html else json.dumps({"error": text}).encode()
    kind = b"text/html; charset=utf-8" if html else b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str, cookie: str) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
                            (b"content-length", b"0"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": b""})


def install(app: Any, access: Access) -> None:
    """Put the guard in front of every route of ``app`` (a FastAPI app), and answer a needed
    confirmation with its question."""
    from fastapi.responses import JSONResponse

    app.state.access = access
    app.add_middleware(Guard, access=access)

    @app.exception_handler(ConfirmationNeeded)
    async def _confirm(request: Any, exc: ConfirmationNeeded) -> JSONResponse:
        return JSONResponse({"error": exc.question, "confirm": exc.question}, status_code=409)
