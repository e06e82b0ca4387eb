"""The demo's defaults, apart from the pipeline so `zi2zi --help` stays light."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSettings:
    """The embedded default: Ming (source) to Kai (target) at 64 px on common characters."""

    steps: int = 600  # training steps: the cosine schedule runs its full course over these
    minutes: float = 9.0  # wall-clock guard for slower machines (~8 min for 600 steps on 2 cores)
    charset: str = "gb2312-1"
    characters: int = 1500  # first N of the charset (its code order)
    holdout: int = 100
    size: int = 64
    preset: str = "cpu-small"
    seed: int = 0
    classifier: bool = True  # content accuracy needs ~2 min to train its classifier once
