"""The one error the web app shows as a message: what went wrong and what to do, in one line."""

from __future__ import annotations

from zi2zi.errors import Zi2ziError


class UiError(Zi2ziError):
    """A request the app refuses; ``status`` is the HTTP status the page receives."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
