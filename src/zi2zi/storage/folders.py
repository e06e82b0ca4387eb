"""Is this folder zi2zi's? Decided only by its marker file's ``format`` and ``version``; and the
one way a command takes a folder to write.

A folder that merely contains a file called ``manifest.json`` (or ``config.json``) is somebody
else's: zi2zi never replaces or clears it, with or without ``--overwrite``.

Every command that writes a folder takes it the same way (:func:`claim_folder`): check that it may
(so that a refusal comes before any work), take the folder's lock, remove what killed writers
left beside it, check again (it may have changed while we waited), and then either clear it if it
is ours and fill it in place with the marker written first (:func:`owned_folder`: a folder
stopped half-way is still recognised as ours), or build it in a hidden temporary that replaces
it whole (:func:`built_folder`: a reader never sees half of it).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from zi2zi.errors import Zi2ziError
from zi2zi.storage.atomic import atomic_folder, remove_stale, write_json
from zi2zi.storage.lock import FolderLock

State = Literal["missing", "empty", "ours", "foreign"]
T = TypeVar("T")


@dataclass(frozen=True)
class FolderKind:
    """What a zi2zi folder of one kind looks like: ``marker`` holds ``{"format": .., "version": ..}``."""

    noun: str  # "dataset", "glyph folder", "run directory"
    marker: str
    format: str
    version: int

    def marker_doc(self, **fields: Any) -> dict[str, Any]:
        """The marker document of this kind, with ``fields`` beside format and version."""
        return {"format": self.format, "version": self.version, **fields}

    def write_marker(self, folder: Path, **fields: Any) -> Path:
        return write_json(Path(folder) / self.marker, self.marker_doc(**fields))

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


def clear_if_ours(folder: str | Path, kind: FolderKind) -> None:
    """Delete ``folder`` when its marker says it is of ``kind`` (it then holds only what zi2zi
    wrote); anything else stays. Call it holding the folder's lock."""
    if folder_state(folder, kind) == "ours":
        shutil.rmtree(folder)


@contextmanager
def claim_folder(folder: str | Path, kind: FolderKind, check: Callable[[], T], *,
                 notify: Callable[[str], None] | None = None) -> Iterator[T]:
    """Hold ``folder`` for writing: ``check`` (it refuses what may not be written; e.g.
    :func:`check_replaceable`, or a check that allows resuming), lock, remove stale temporaries,
    ``check`` again; yields what the check returned the second time."""
    folder = Path(folder)
    check()  # refused before the lock (and before any work)
    with FolderLock(folder, what=kind.noun, notify=notify):
        remove_stale(folder)  # holding the lock, hidden temporaries beside the folder are a killed writer's
        yield check()  # the folder may have changed while we waited


@contextmanager
def owned_folder(folder: str | Path, kind: FolderKind, *, overwrite: bool = False, option: str = "--out",
                 error: type[Zi2ziError] = Zi2ziError, marker: dict[str, Any] | None = None) -> Iterator[Path]:
    """Claim ``folder``, clear it if it is ours, create it and write its marker first (``marker``:
    fields beside format and version); yields the folder, locked until the block ends."""
    folder = Path(folder)
    with claim_folder(folder, kind, partial(check_replaceable, folder, kind, overwrite=overwrite, option=option,
                                            error=error)):
        clear_if_ours(folder, kind)
        folder.mkdir(parents=True, exist_ok=True)
        kind.write_marker(folder, **(marker or {}))
        yield folder


@contextmanager
def built_folder(folder: str | Path, kind: FolderKind, *, overwrite: bool = False, option: str = "--out",
                 error: type[Zi2ziError] = Zi2ziError, tag: str = "building") -> Iterator[Path]:
    """Claim ``folder`` and yield an empty hidden folder beside it; when the block ends without an
    error it replaces ``folder`` whole (:func:`~zi2zi.storage.atomic.atomic_folder`). The block
    writes the marker."""
    check = partial(check_replaceable, folder, kind, overwrite=overwrite, option=option, error=error)
    with claim_folder(folder, kind, check), atomic_folder(folder, tag=tag) as tmp:
        yield tmp
