"""Checkpoints: the self-describing weights file (``files``), the resume state beside it
(``resume``), and reading checkpoints of other zi2zi implementations (``euphoriayan``).

Outside :mod:`zi2zi.training` on purpose: generation, evaluation and training all read
checkpoints, and none of them should need to import the others to do so.
"""

from zi2zi.checkpoints.files import (
    BEST,
    CHECKPOINT_DIR,
    FORMAT,
    FORMAT_VERSION,
    META_KEY,
    LoadedCheckpoint,
    check_fits,
    checkpoint_name,
    copy_atomic,
    find_style,
    latest_resumable,
    list_checkpoints,
    load_checkpoint,
    prune,
    read_metadata,
    read_shapes,
    read_weights,
    resolve_checkpoint,
    save_weights,
    write_text_atomic,
)
from zi2zi.checkpoints.resume import load_state, rng_state, save_state, set_rng_state, state_path

__all__ = [
    "BEST",
    "CHECKPOINT_DIR",
    "FORMAT",
    "FORMAT_VERSION",
    "META_KEY",
    "LoadedCheckpoint",
    "check_fits",
    "checkpoint_name",
    "copy_atomic",
    "find_style",
    "latest_resumable",
    "list_checkpoints",
    "load_checkpoint",
    "load_state",
    "prune",
    "read_metadata",
    "read_shapes",
    "read_weights",
    "resolve_checkpoint",
    "rng_state",
    "save_state",
    "save_weights",
    "set_rng_state",
    "state_path",
    "write_text_atomic",
]
