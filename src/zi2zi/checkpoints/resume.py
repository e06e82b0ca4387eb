"""The resume state beside each checkpoint (``step-N.state.pt``): optimisers, RNG states, the
position in the epoch.

A run folder may come from someone else, so resuming must never run code from it. The state is
saved with ``torch.save`` but holds only tensors and plain containers of numbers and strings
(the RNG states of Python and NumPy are stored as lists of ints, not as their own objects), and
it is read with ``torch.load(weights_only=True)``, whose unpickler builds nothing else. Files
written before this rule held a NumPy RNG array; only the NumPy names needed to rebuild a plain
array are allowed on top, so they still load.
"""

from __future__ import annotations

import io
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["load_state", "rng_state", "save_state", "set_rng_state", "state_path"]

from zi2zi.checkpoints.files import state_path
from zi2zi.errors import CheckpointError
from zi2zi.storage.atomic import write_bytes


def save_state(path: Path, state: dict[str, Any]) -> Path:
    """Write the resume-only training state atomically (see the module doc for what it may hold).

    Serialised in memory first: torch.save reports a full disk as a RuntimeError without a file
    name; written by zi2zi's atomic writer it is an OSError naming ``path``."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return write_bytes(path, buffer.getvalue())


def _legacy_numpy_globals() -> list[Any]:
    """What pickles of a NumPy uint32 array reference: the array rebuilder, ndarray and dtype."""
    names: list[Any] = [np.ndarray, np.dtype, type(np.dtype(np.uint32))]
    core = getattr(np, "_core", None) or np.core
    names.append(core.multiarray._reconstruct)
    return names


def safe_load(path: Path, *, what: str, advice: str) -> Any:
    """``torch.load`` that builds only tensors and plain containers; any failure is one line
    naming ``path`` (``what`` it should be, ``advice`` on what to do instead)."""
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist; {advice}")
    try:
        with torch.serialization.safe_globals(_legacy_numpy_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # an object that is not a tensor, or not a torch file at all
        reason = "it holds objects other than tensors and numbers, or is not a PyTorch file"
    except Exception as exc:  # RuntimeError / EOFError / zip errors for truncated or corrupt files
        reason = f"it is truncated or corrupt ({type(exc).__name__})"
    raise CheckpointError(f"{path} cannot be loaded safely as {what}: {reason}; {advice}")


def load_state(path: Path) -> dict[str, Any]:
    """The state written by :func:`save_state`, read without unpickling arbitrary objects."""
    state = safe_load(path, what="a training state",
                      advice="do not resume from it (start over, or resume another run)")
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} does not hold a zi2zi training state; do not resume from it")
    return state


# ---- RNG states as plain data ------------------------------------------------------------------


def rng_state(device: torch.device) -> dict[str, Any]:
    """Python, NumPy and torch RNG states as tensors and lists of ints."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])
