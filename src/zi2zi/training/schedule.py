"""Learning-rate schedules as pure functions of the training position.

A schedule that is a function of (step, epoch) has no state of its own: a resumed run recomputes
the same rate from the restored step and epoch, so nothing about it needs saving and it can never
drift from the step counter (a torch ``LRScheduler`` restored out of step would).
"""

from __future__ import annotations

import math

from zi2zi.config import SCHEDULES, ConfigError, TrainConfig


def learning_rate(train: TrainConfig, *, step: int, epoch: int, total_steps: int) -> float:
    """The rate for the iteration that starts at ``step`` (0-based) inside ``epoch`` (0-based).

    - ``halving`` (zi2zi): ``lr / 2**(epoch // schedule_epochs)``, never below ``min_lr``.
    - ``cosine``: from ``lr`` down to ``min_lr`` along half a cosine over ``total_steps``.
    - ``constant``: ``lr``.
    ``min_lr`` is a floor for decay only: a base ``lr`` already below it is kept as given.
    """
    base, floor = float(train.lr), float(train.min_lr)
    if train.schedule == "constant":
        return base
    if train.schedule == "halving":
        if train.schedule_epochs <= 0:
            raise ConfigError(f"train.schedule_epochs={train.schedule_epochs} must be >= 1 for the halving schedule")
        decayed = base * 0.5 ** (epoch // train.schedule_epochs)
        return max(decayed, min(floor, base))
    if train.schedule == "cosine":
        if total_steps <= 0:
            return base
        progress = min(max(step / total_steps, 0.0), 1.0)
        low = min(floor, base)
        return low + (base - low) * 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ConfigError(f"train.schedule={train.schedule!r}; choose one of {', '.join(SCHEDULES)}")
