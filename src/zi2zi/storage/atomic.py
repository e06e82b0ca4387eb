"""The one way zi2zi writes a file or a folder: build it under a hidden temporary name beside the
final one, flush it to disk, then rename it into place.

A reader (or a resumed run) therefore sees either the old content or the new, never half of it,
and a kill leaves only a hidden temporary that :func:`remove_stale` can recognise. Temporaries
are created private (``mkstemp`` makes 0600, ``mkdtemp`` 0700); the final file gets the mode a
plain ``open()`` would have given it under the caller's umask.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_umask_lock = threading.Lock()


def current_umask() -> int:
    # os.umask can only be read by setting it; the lock keeps two threads from racing on it.
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~current_umask()


def folder_mode() -> int:
    return 0o777 & ~current_umask()


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable. Some file systems refuse to open folders: then the rename is as
    durable as they allow."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_prefix(final: Path, tag: str) -> str:
    return f".{final.name}.{tag}-"


@contextmanager
def atomic_path(final: str | Path, *, place: Callable[[Path, Path], None] = os.replace) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; when the block ends without error the file there
    is flushed and given the name ``final`` by ``place(tmp, final)`` (a rename over it, unless a
    caller must not replace a file: :mod:`zi2zi.storage.outputs`). On error the temporary is removed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=temp_prefix(final, "tmp"), suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        with open(tmp, "rb+") as fh:  # the data must be on disk before the name points at it
            os.fsync(fh.fileno())
        place(tmp, final)
        _fsync_dir(final.parent)
    except OSError as exc:
        raise named(exc, final) from None
    finally:
        tmp.unlink(missing_ok=True)


def named(exc: OSError, path: Path) -> OSError:
    """``exc`` naming ``path`` when the system named no file (a write() that found the disk full
    says only "No space left on device"): the message must say which output failed."""
    if exc.filename is not None or exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any, *, indent: int | None = 1) -> Path:
    return write_text(path, json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def copy_file(src: str | Path, dst: str | Path) -> Path:
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


@contextmanager
def atomic_folder(final: str | Path, *, tag: str = "building") -> Iterator[Path]:
    """Yield an empty hidden folder beside ``final``; on success it replaces ``final`` (an old
    folder there is removed only after the new one is in place), on error it is deleted.

    The caller must have decided that replacing ``final`` is allowed (see
    :func:`zi2zi.storage.folders.folder_state`) and should hold its lock.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(final, tag), dir=final.parent))
    try:
        os.chmod(tmp, folder_mode())
        yield tmp
        if final.exists():
            trash = Path(tempfile.mkdtemp(prefix=temp_prefix(final, "old"), dir=final.parent))
            os.replace(final, trash / final.name)
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_stale(final: str | Path) -> list[Path]:
    """Delete the temporaries that killed writers left beside ``final`` (files and folders named
    ``.NAME.<tag>-*``). Only safe while holding ``final``'s lock: then no live writer owns them."""
    final = Path(final)
    removed: list[Path] = []
    if not final.parent.is_dir():
        return removed
    for tag in ("tmp", "building", "rendering", "old"):
        for path in final.parent.glob(f"{temp_prefix(final, tag)}*"):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def remove_stale_files(folder: str | Path) -> None:
    """Delete every ``.*.tmp`` file in ``folder``: temporaries of :func:`atomic_path` that a kill
    interrupted (never valid, never read)."""
    folder = Path(folder)
    if folder.is_dir():
        for tmp in folder.glob(".*.tmp"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
