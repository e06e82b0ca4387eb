"""One writer per output folder.

A writer creates ``.NAME.lock`` beside the folder ``NAME`` (beside, so that the folder itself can
be created, replaced or compared without the lock in the way) holding its pid and host. A second
writer finds the file and stops with a message naming the owner. A lock whose owner is a dead
process on this host is stale (a kill -9, a power cut): it is taken over, and the takeover is
reported. A lock from another host cannot be checked and is never taken over.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from zi2zi.errors import Zi2ziError


class LockError(Zi2ziError):
    """Another process is writing the same output folder."""


def lock_path(folder: str | Path) -> Path:
    folder = Path(folder).absolute()
    return folder.parent / f".{folder.name}.lock"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read(path: Path) -> dict[str, Any] | None:
    from zi2zi.storage.reading import parse_json, read_bytes

    try:
        data = parse_json(read_bytes(path, what="lock", max_bytes=4096), what=f"lock {path}")
    except FileNotFoundError:
        return None
    except (OSError, Zi2ziError):
        return {}  # unreadable, not a file, or half written: an owner we cannot identify
    return data if isinstance(data, dict) else {}


def _create_whole(path: Path, text: str) -> None:
    """Create ``path`` holding ``text``, or raise FileExistsError: written under a temporary name
    and hard-linked into place, so a kill never leaves a lock that does not name its owner."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: create exclusively, then write
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _empty_and_old(path: Path, age_s: float = 2.0) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == 0 and time.time() - st.st_mtime > age_s


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class FolderLock:
    """``with FolderLock(out):`` holds ``out`` for this process; released on exit.

    ``what`` names the folder in messages (``"run directory"``, ``"dataset"``).
    """

    def __init__(self, folder: str | Path, *, what: str = "folder",
                 notify: Callable[[str], None] | None = None) -> None:
        self.folder = Path(folder)
        self.path = lock_path(folder)
        self.what = what
        self.notify = notify or _say
        self.held = False

    def acquire(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        for _ in range(3):
            try:
                _create_whole(self.path, json.dumps(record))
            except FileExistsError:
                self._handle_existing()
                continue
            self.held = True
            return self
        raise LockError(f"cannot take the lock {self.path} of {self.folder}: another process keeps "
                        "taking it; make sure only one zi2zi writes there")

    def _handle_existing(self) -> None:
        owner = _read(self.path)
        if owner is None:
            return  # released between our attempt and the read: try again
        if not owner and _empty_and_old(self.path):
            # zi2zi writes a lock whole (see _create_whole); an empty one is an earlier version's,
            # killed between creating the file and writing its owner.
            self.notify(f"zi2zi: taking over the empty lock {self.path} of {self.what} {self.folder} "
                        "(its writer was killed before it could say who it was)")
            self.path.unlink(missing_ok=True)
            return
        pid, host = owner.get("pid"), owner.get("host")
        here = socket.gethostname()
        if isinstance(pid, int) and host == here and not _alive(pid):
            self.notify(f"zi2zi: taking over the stale lock {self.path} of {self.what} {self.folder} "
                        f"(process {pid} on {host} is no longer running)")
            self.path.unlink(missing_ok=True)
            return
        who = f"process {pid} on {host}" if pid else "an unknown process"
        raise LockError(
            f"{self.what} {self.folder} is being written by {who} (lock {self.path}); wait for it to "
            "finish or choose another output; if that process is gone, delete the lock file"
        )

    def release(self) -> None:
        if self.held:
            owner = _read(self.path)
            if owner and owner.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
