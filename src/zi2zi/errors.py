"""Errors that reach the user. Each message names the bad input and how to fix it."""


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
