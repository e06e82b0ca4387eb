"""The one way zi2zi writes a single file the user named (a preview sheet, a specimen, an
animation, a font): never over a file that is there, unless ``overwrite``.

Which existing files did zi2zi write? It does not guess: a marker inside the file (a PNG text
chunk, a font name record) is copied with the file and says nothing about who owns this copy, and
the cost of a refusal is one flag. So any existing file is refused without ``--overwrite``, as
``export`` has always done. A name that is not a regular file (a folder, a FIFO, a device, a
socket) is refused even with ``--overwrite``.

The check runs twice: by :func:`check_output` before the work (minutes of rendering are not
spent on a refusal) and again at the write, which builds the file under a temporary name (see
:mod:`zi2zi.storage.atomic`) and, without ``overwrite``, links it into place, which fails if
the name appeared meanwhile: a file another program created during the work is not replaced.
One process writes a name at a time (a lock ``.NAME.lock`` beside it, as for folders), and the
temporaries of a killed writer of the same name are removed by the next one.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from zi2zi.errors import Zi2ziError
from zi2zi.storage.atomic import atomic_path, remove_stale
from zi2zi.storage.lock import FolderLock


def _refuse_existing(path: Path, option: str, error: type[Zi2ziError]) -> Zi2ziError:
    return error(f"{option} {path} already exists; pass --overwrite to replace it, or choose another file name")


def check_output(path: str | Path, *, overwrite: bool, option: str = "--out", suffixes: tuple[str, ...] = (),
                 error: type[Zi2ziError] = Zi2ziError) -> Path:
    """Refuse, with one line naming ``option`` and ``path``, an output that cannot or may not be
    written: a wrong extension (``suffixes``, lower case, e.g. ``(".png",)``), a missing folder, a
    folder or other non-regular file at the name, or (without ``overwrite``) any existing file."""
    path = Path(path)
    if not path.parent.is_dir():
        raise error(f"the folder of {option} {path} does not exist; create {path.parent} first")
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None  # a dangling symlink too: the rename replaces the link, not what it names
    except OSError as exc:
        raise error(f"{option} {path} cannot be checked ({exc.strerror}); choose another file name") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise error(f"{option} {path} is a folder; give the path of a file to write")
    if mode is not None and not stat.S_ISREG(mode):
        raise error(f"{option} {path} is not a regular file (a pipe, a device or a socket); choose another file name")
    if suffixes and path.suffix.lower() not in suffixes:
        raise error(f"{option} {path} must end in {' or '.join(suffixes)}")
    if mode is not None and not overwrite:
        raise _refuse_existing(path, option, error)
    return path


@contextmanager
def output_path(path: str | Path, *, overwrite: bool, option: str = "--out", suffixes: tuple[str, ...] = (),
                error: type[Zi2ziError] = Zi2ziError) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write the output to; when the block ends without
    error the file takes the name ``path`` (see the module docstring for when it may replace a
    file). One writer per name: ``.NAME.lock`` is held meanwhile, and the temporaries a killed
    writer left are removed first."""
    final = check_output(path, overwrite=overwrite, option=option, suffixes=suffixes, error=error)
    with FolderLock(final, what="output file"):
        remove_stale(final)
        place = os.replace if overwrite else partial(_link_new, option=option, error=error)
        with atomic_path(final, place=place) as tmp:
            yield tmp


def _link_new(tmp: Path, final: Path, *, option: str, error: type[Zi2ziError]) -> None:
    """Give the finished temporary the name ``final`` only if that name is still free."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise _refuse_existing(final, option, error) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        # A file system without hard links: the last look, then a rename.
        if os.path.lexists(final):
            raise _refuse_existing(final, option, error) from None
        os.replace(tmp, final)


def write_output(path: str | Path, data: bytes, *, overwrite: bool, option: str = "--out",
                 suffixes: tuple[str, ...] = (), error: type[Zi2ziError] = Zi2ziError) -> Path:
    with output_path(path, overwrite=overwrite, option=option, suffixes=suffixes, error=error) as tmp:
        tmp.write_bytes(data)
    return Path(path)
