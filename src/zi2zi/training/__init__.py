"""Training zi2zi: ``train(TrainOptions(data=..., out=..., config=...))``.

Where things are: :mod:`~zi2zi.training.options` (what a caller chooses), :mod:`~.plan` (the
resolved config of a run), :mod:`~.rundir` (the run directory), :mod:`~.setup` (a run set up:
models, data, position, checkpoints), :mod:`~.trainer` (the loop), :mod:`~.step` (the GAN step),
:mod:`~.losses`. Names load on first use (PEP 562) so that a
submodule can be imported without the whole trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zi2zi.lazy import lazy_attributes

_HOMES = {
    "TrainOptions": "zi2zi.training.options",
    "TrainSummary": "zi2zi.training.trainer",
    "Trainer": "zi2zi.training.trainer",
    "train": "zi2zi.training.trainer",
}

if TYPE_CHECKING:
    from zi2zi.training.options import TrainOptions
    from zi2zi.training.trainer import Trainer, TrainSummary, train


__getattr__ = lazy_attributes(__name__, _HOMES)


__all__ = ["TrainOptions", "TrainSummary", "Trainer", "train"]
