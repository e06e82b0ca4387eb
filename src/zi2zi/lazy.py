"""Package names that load their module on first use (PEP 562).

A package lists where each of its public names lives; importing the package then costs nothing,
so that a command's ``--help`` or one light submodule does not pull in torch or FreeType.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_attributes(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``homes[name]`` the first time
    ``name`` is asked for and keeps it in the package's namespace."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
