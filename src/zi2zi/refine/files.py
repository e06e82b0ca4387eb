"""Refiner files: the weights in safetensors with one JSON document that describes them.

The document holds the network's shape, the render settings of the glyphs it refines (the
generator's size, mode and margin) and of those it draws, and how it was trained; the file alone
rebuilds the refiner, and a refiner made for other glyphs is refused before it is used. A refiner
file may come from anyone (``--refiner FILE``): it is read as a checkpoint is
(:mod:`zi2zi.checkpoints.files`), its document bounded, its network's size and every tensor's
shape checked on torch's meta device before a byte of the network is allocated.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from zi2zi import __version__
from zi2zi.config import RenderSettings
from zi2zi.errors import CheckpointError
from zi2zi.refine.model import Refiner, RefinerConfig
from zi2zi.storage.atomic import write_bytes

FORMAT = "zi2zi-refiner"
FORMAT_VERSION = 1
META_KEY = "zi2zi"
PREFIX = "refiner."


def save_refiner(path: str | Path, model: Refiner, *, coarse: RenderSettings, meta: dict[str, Any],
                 dtype: torch.dtype = torch.float32) -> Path:
    """Write the weights (in ``dtype``) and the document atomically; ``meta`` adds records
    (training, validation) to it."""
    from safetensors.torch import save

    config = model.config
    doc = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "zi2zi_version": __version__,
        "config": config.to_dict(),
        "coarse_render": asdict(coarse),
        "render": asdict(RenderSettings(size=config.size, mode=coarse.mode, margin=coarse.margin)),
        **meta,
    }
    tensors = {PREFIX + k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    return write_bytes(path, save(tensors, metadata={"format": FORMAT, META_KEY: json.dumps(doc, ensure_ascii=False)}))


def _header(p: Path) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    from zi2zi.checkpoints.files import safetensors_header

    return safetensors_header(p, what="refiner", advice="give a refiner file (see `zi2zi models`)")


def read_refiner_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON document of a refiner file, without loading its tensors."""
    p = Path(path)
    return _document(p, _header(p)[0])


def _document(p: Path, meta: dict[str, str]) -> dict[str, Any]:
    from zi2zi.storage.reading import parse_json

    if meta.get("format") != FORMAT or not isinstance(meta.get(META_KEY), str):
        raise CheckpointError(f"{p} is a safetensors file but not a zi2zi refiner")
    doc = parse_json(meta[META_KEY], what=f"{p}: its refiner metadata", error=CheckpointError,
                     advice="the refiner file is corrupt or was edited: use another refiner")
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise CheckpointError(f"{p}: its refiner metadata is not a refiner description; the file is corrupt")
    version = doc.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise CheckpointError(f"{p} has refiner format version {version}; upgrade zi2zi to read it")
    return doc


def _check_fits(p: Path, config: RefinerConfig, shapes: dict[str, tuple[int, ...]]) -> None:
    """Refuse a network larger than zi2zi builds, or tensors that are not the network's (built on
    torch's meta device, which allocates nothing)."""
    from zi2zi.checkpoints.files import MAX_PARAMETERS

    with torch.device("meta"):
        expected = {PREFIX + k: tuple(v.shape) for k, v in Refiner(config).state_dict().items()}
    total = sum(math.prod(s) for s in expected.values())
    if total > MAX_PARAMETERS:
        raise CheckpointError(f"{p}: its network description has {total:,} parameters, more than zi2zi builds "
                              f"({MAX_PARAMETERS:,}); use another refiner")
    stored = {k: v for k, v in shapes.items() if k.startswith(PREFIX)}
    wrong = next((k for k in sorted(set(stored) | set(expected)) if stored.get(k) != expected.get(k)), None)
    if wrong is not None:
        raise CheckpointError(f"{p}: its tensor {wrong!r} does not fit the network it describes; the refiner file "
                              "is corrupt or was edited")


@dataclass
class LoadedRefiner:
    path: Path
    model: Refiner
    coarse_render: RenderSettings
    render: RenderSettings
    meta: dict[str, Any]


def _settings(p: Path, doc: dict[str, Any], key: str) -> RenderSettings:
    data = doc.get(key) or {}
    try:
        return RenderSettings(size=int(data["size"]), mode=data["mode"], margin=float(data["margin"])).validate()
    except Exception:
        raise CheckpointError(f"{p}: its {key} record is missing or invalid; the refiner file is corrupt") from None


def load_refiner(path: str | Path, device: str | torch.device = "cpu") -> LoadedRefiner:
    from safetensors.torch import load_file

    p = Path(path)
    meta, shapes = _header(p)
    doc = _document(p, meta)
    try:
        config = RefinerConfig.from_dict(doc["config"])
    except Exception as exc:
        raise CheckpointError(f"{p}: its network description is invalid ({exc}); the refiner file is corrupt") from None
    _check_fits(p, config, shapes)  # before a byte of the network is allocated
    model = Refiner(config)
    try:
        flat = load_file(str(p), device="cpu")
        state = {k[len(PREFIX):]: v.float() for k, v in flat.items() if k.startswith(PREFIX)}
        model.load_state_dict(state)
    except Exception as exc:
        raise CheckpointError(f"{p}: its weights do not fit the network it describes ({type(exc).__name__}); "
                              "the refiner file is corrupt") from None
    model.to(device).eval()
    return LoadedRefiner(p, model, _settings(p, doc, "coarse_render"), _settings(p, doc, "render"), doc)


__all__ = ["FORMAT", "LoadedRefiner", "load_refiner", "read_refiner_metadata", "save_refiner"]
