"""EuphoriaYan/zi2zi-pytorch's own training step, loaded from a checkout the user points to.

Its code is never part of this project: ``ZI2ZI_PEER=/path/to/zi2zi-pytorch`` names a checkout
(timed at commit 0e9f3dd), and benchmarks that compare against it skip with a line saying so when
the variable is unset. Its ``model/model.py`` imports ``torchvision.utils`` only to save sample
images, and torchvision does not install beside our torch, so an empty ``torchvision.utils`` module
stands in for it while the peer's package is imported; nothing it does during a step touches it.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

import torch

ENV = "ZI2ZI_PEER"


def peer_path() -> Path | None:
    """The checkout ``ZI2ZI_PEER`` names, or None when unset; a set but wrong path is an error."""
    value = os.environ.get(ENV)
    if not value:
        return None
    path = Path(value)
    if not (path / "model" / "model.py").is_file():
        raise SystemExit(f"{ENV}={value}: no model/model.py there; point it at a zi2zi-pytorch checkout")
    return path


def _import_peer_model(path: Path):
    stub_parent = types.ModuleType("torchvision")
    stub_utils = types.ModuleType("torchvision.utils")
    stub_parent.utils = stub_utils  # type: ignore[attr-defined]
    saved = {name: sys.modules.get(name) for name in ("torchvision", "torchvision.utils")}
    sys.modules["torchvision"], sys.modules["torchvision.utils"] = stub_parent, stub_utils
    sys.path.insert(0, str(path))
    try:
        return importlib.import_module("model.model").Zi2ZiModel
    finally:
        sys.path.remove(str(path))
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def peer_step(path: Path, *, image_size: int, num_styles: int, batch: dict[str, torch.Tensor]) -> Callable[[], None]:
    """One call of the peer's ``optimize_parameters`` on ``batch`` (our synthetic batch format:
    source, target (B, 1, S, S), style (B,)), with its defaults: ``input_nc=1`` (our glyphs are
    grey), ngf = ndf = 64, lr 1e-3, its penalties (L1 100, const 15, category 1), dropout on."""
    model_class = _import_peer_model(path)
    model = model_class(input_nc=1, embedding_num=num_styles, image_size=image_size, gpu_ids=None)
    with contextlib.redirect_stdout(io.StringIO()):  # its init prints a line per network
        model.setup()
    source, target, style = batch["source"], batch["target"], batch["style"].long()

    def run() -> None:
        model.set_input(style, source, target)
        model.optimize_parameters()
    return run
