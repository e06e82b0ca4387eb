"""Checkpoints: the self-describing weights file (``files``), the resume state beside it
(``resume``), and reading checkpoints of other zi2zi implementations (``euphoriayan``).

Outside :mod:`zi2zi.training` on purpose: generation, evaluation and training all read
checkpoints, and none of them should need to import the others to do so.
"""

from zi2zi.checkpoints.files import (
    BEST,
    CHECKPOINT_DIR,
    FORMAT,
    FORMAT_FIELDS,
    FORMAT_VERSION,
    META_KEY,
    LoadedCheckpoint,
    check_fits,
    checkpoint_meta,
    checkpoint_name,
    find_style,
    latest_resumable,
    list_checkpoints,
    load_checkpoint,
    newest_intact,
    prune,
    read_metadata,
    read_shapes,
    read_weights,
    resolve_checkpoint,
    save_weights,
)
from zi2zi.checkpoints.resume import load_state, rng_state, save_state, set_rng_state, state_path

__all__ = [
    "BEST",
    "CHECKPOINT_DIR",
    "FORMAT",
    "FORMAT_FIELDS",
    "FORMAT_VERSION",
    "META_KEY",
    "LoadedCheckpoint",
    "check_fits",
    "checkpoint_meta",
    "checkpoint_name",
    "find_style",
    "latest_resumable",
    "list_checkpoints",
    "load_checkpoint",
    "load_state",
    "newest_intact",
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
]
