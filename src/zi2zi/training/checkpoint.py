"""Moved to :mod:`zi2zi.checkpoints`; this name stays importable for existing callers."""

from zi2zi.checkpoints import *  # noqa: F403
from zi2zi.checkpoints import __all__  # noqa: F401
