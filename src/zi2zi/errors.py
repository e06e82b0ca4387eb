"""Errors that reach the user. Each message names the bad input and how to fix it."""

from __future__ import annotations

import errno

_OS_ADVICE = {
    errno.ENOSPC: "free some space or choose an output on another disk",
    errno.EDQUOT: "free some space or choose an output on another disk",
    errno.EFBIG: "the file would be larger than this system allows (a disk or a size limit): free space, "
                 "raise the limit or choose an output on another disk",
    errno.EACCES: "check its permissions or choose another output",
    errno.EPERM: "check its permissions or choose another output",
    errno.EROFS: "the file system is read-only: choose another output",
    errno.ENOTDIR: "a part of the path is a file, not a folder: fix the path",
    errno.EISDIR: "it is a folder: give a file path",
}


def describe_os_error(exc: OSError) -> str:
    """A read-only folder, a full disk, a path through a file: the system's reason and what to do,
    in one line (the command line and the web app show it the same)."""
    where = exc.filename if exc.filename is not None else "a file"
    reason = exc.strerror or str(exc) or type(exc).__name__
    advice = _OS_ADVICE.get(exc.errno or 0, "check the path and try again")
    return f"cannot use {where}: {reason}; {advice}"


class Zi2ziError(Exception):
    """Base class: the CLI prints these as one line, without a traceback."""


class FontError(Zi2ziError):
    """A font file that cannot be opened or used."""


class CharsetError(Zi2ziError):
    """A charset specification that cannot be resolved, or resolves to nothing."""


class DatasetError(Zi2ziError):
    """A dataset directory that is missing, incomplete, or would be overwritten."""


class CheckpointError(Zi2ziError):
    """A checkpoint that is missing, corrupt, or does not fit the request."""


class ExportError(Zi2ziError):
    """Glyph images or an output path that cannot become a font."""


class TrainingError(Zi2ziError):
    """Training cannot go on (a non-finite loss, a run directory in the way, a config clash)."""
