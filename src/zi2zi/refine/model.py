"""The refiner network: a 64 px generator output and the source glyph at 256 px in, a crisp
256 px glyph out.

The generator's low-resolution output carries the style (stroke weight, contrast, the target's
placement); the source glyph, drawn by the renderer at the refiner's size, carries the
character's structure at full resolution. The network reads both on the coarse grid: the source
is folded into it pixel-for-channel (``pixel_unshuffle``), so no information is lost and every
convolution runs at 64 x 64 (and 32 x 32 for context), which keeps it fast enough for a CPU; the
output is unfolded back to full resolution (``pixel_shuffle``), ESPCN's sub-pixel layout.

Inputs and outputs are in ink space (1 = ink, 0 = paper), so zero padding at a crop's border is
paper, as it is at a glyph's: the network trains on crops and runs on whole glyphs unchanged.
The output is a logit per pixel; its sigmoid is the ink coverage.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zi2zi.config import ConfigError


@dataclass(frozen=True)
class RefinerConfig:
    """The network's shape; stored in every refiner file, so the file alone rebuilds it."""

    size: int = 256  # side of the refined glyph in pixels
    coarse_size: int = 64  # side of the generator's glyph it refines
    width: int = 48  # channels on the coarse grid
    context_width: int = 64  # channels on the half-coarse grid (wider context, 1/4 of the cost)
    blocks: int = 2  # residual blocks before, within and after the context level

    @property
    def factor(self) -> int:
        return self.size // self.coarse_size

    def check(self) -> RefinerConfig:
        for key in ("size", "coarse_size", "width", "context_width", "blocks"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
                raise ConfigError(f"refiner {key}={value!r} must be a whole number from 1 to 4096")
        if self.size % self.coarse_size or self.factor < 1:
            raise ConfigError(f"refiner size {self.size} must be a multiple of its coarse size {self.coarse_size}")
        if self.coarse_size % 2:
            raise ConfigError(f"refiner coarse size {self.coarse_size} must be even (the context level halves it)")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefinerConfig:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known).check()


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.a = nn.Conv2d(channels, channels, 3, padding=1)
        self.b = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(F.relu(self.a(x)))


class Refiner(nn.Module):
    def __init__(self, config: RefinerConfig = RefinerConfig()) -> None:
        super().__init__()
        self.config = config.check()
        f, c, cc = config.factor, config.width, config.context_width
        self.inp = nn.Conv2d(1 + f * f, c, 3, padding=1)
        self.pre = nn.Sequential(*[_Residual(c) for _ in range(config.blocks)])
        self.down = nn.Conv2d(c, cc, 4, stride=2, padding=1)
        self.context = nn.Sequential(*[_Residual(cc) for _ in range(config.blocks)])
        self.up = nn.ConvTranspose2d(cc, c, 4, stride=2, padding=1)
        self.post = nn.Sequential(*[_Residual(c) for _ in range(config.blocks)])
        self.out = nn.Conv2d(c, f * f, 3, padding=1)

    def forward(self, coarse: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """coarse (B, 1, h, w) and source (B, 1, h*f, w*f) ink in [0, 1] -> logits (B, 1, h*f, w*f)."""
        f = self.config.factor
        x = torch.cat([coarse, F.pixel_unshuffle(source, f)], dim=1)  # (B, 1 + f^2, h, w)
        h = self.pre(F.relu(self.inp(x)))
        h = self.post(h + self.up(self.context(F.relu(self.down(h)))))
        return F.pixel_shuffle(self.out(h), f)


__all__ = ["Refiner", "RefinerConfig"]
