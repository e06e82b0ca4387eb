"""Finding installed fonts by file name under the usual font folders (never downloaded)."""

from __future__ import annotations

import os
from pathlib import Path

from zi2zi.errors import FontError


def font_dirs() -> list[Path]:
    """Font folders to search: ``ZI2ZI_FONT_DIRS`` first, then the user's and the system's."""
    dirs = [Path.home() / ".local/share/fonts", Path.home() / ".fonts",
            Path("/usr/local/share/fonts"), Path("/usr/share/fonts"), Path("/Library/Fonts")]
    extra = os.environ.get("ZI2ZI_FONT_DIRS")
    if extra:
        dirs = [Path(p) for p in extra.split(os.pathsep)] + dirs
    return [d for d in dirs if d.is_dir()]


def find_font(file_name: str, package: str | None = None, *, hint: str = "make fonts") -> Path:
    """The first font file called ``file_name`` under the font folders, or a FontError saying
    which package (or ZI2ZI_FONT_DIRS folder) provides it."""
    for folder in font_dirs():
        for path in folder.rglob(file_name):
            return path
    how = f"install the Debian package {package} ({hint})" if package else "install it"
    raise FontError(
        f"font {file_name} not found under the system font folders; {how}, "
        "or put it in a folder listed in ZI2ZI_FONT_DIRS"
    )
