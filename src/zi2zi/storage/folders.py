"""Is this folder zi2zi's? Decided only by its marker file's ``format`` and ``version``.

A folder that merely contains a file called ``manifest.json`` (or ``config.json``) is somebody
else's: zi2zi never replaces or clears it, with or without ``--overwrite``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from zi2zi.errors import Zi2ziError

State = Literal["missing", "empty", "ours", "foreign"]


@dataclass(frozen=True)
class FolderKind:
    """What a zi2zi folder of one kind looks like: ``marker`` holds ``{"format": .., "version": ..}``."""

    noun: str  # "dataset", "glyph folder", "run directory"
    marker: str
    format: str
    version: int

    def read_marker(self, folder: Path) -> dict | None:
        """The marker document when it names this kind at a version we can read, else None."""
        from zi2zi.storage.reading import read_json

        path = Path(folder) / self.marker
        try:
            doc = read_json(path, what=self.marker)  # bounded; a pipe in its place is not read
        except (OSError, Zi2ziError):
            return None
        if not isinstance(doc, dict) or doc.get("format") != self.format:
            return None
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= self.version:
            return None
        return doc


def folder_state(folder: str | Path, kind: FolderKind) -> State:
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return "missing"
    if not folder.is_dir():
        return "foreign"
    if kind.read_marker(folder) is not None:
        return "ours"
    if next(folder.iterdir(), None) is None:
        return "empty"
    return "foreign"


def check_replaceable(folder: str | Path, kind: FolderKind, *, overwrite: bool, option: str = "--out",
                      error: type[Zi2ziError] = Zi2ziError) -> State:
    """Refuse, with a message naming ``folder``, anything but a new or empty folder, or (with
    ``overwrite``) a folder of this kind. Returns the state found."""
    folder = Path(folder)
    state = folder_state(folder, kind)
    if state == "foreign":
        if folder.exists() and not folder.is_dir():
            raise error(f"{option} {folder} is a file, not a folder; choose a folder path")
        raise error(
            f"{option} {folder} is a non-empty folder that is not a zi2zi {kind.noun} (no {kind.marker} "
            f"with format {kind.format!r}); zi2zi will not replace it even with --overwrite; "
            "choose an empty or new folder"
        )
    if state == "ours" and not overwrite:
        raise error(f"{kind.noun} {folder} already exists; pass --overwrite to replace it")
    return state
