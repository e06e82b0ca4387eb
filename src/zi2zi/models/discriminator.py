"""The seed's PatchGAN discriminator with zi2zi's two heads and an optional Gaussian blur.

Layout (classic config at 256 px: every parameter shape equals zi2zi-pytorch's ``Discriminator``):
  Conv 5x5 s2 (2 -> ndf) + LeakyReLU(0.2)
  n = 1 .. n_layers-1: Conv 5x5 s2 (no bias under BatchNorm) + norm + LeakyReLU(0.2)
  Conv 5x5 s1 to ndf*min(2**n_layers, 8) + norm + LeakyReLU(0.2)
  Conv 5x5 s1 to 1 channel: the patch map (B, 1, S/2**n_layers, S/2**n_layers)
  Linear heads on the flattened patch map: real/fake (1) and style category (num_styles).
Blur (``cfg.blur``): "input" blurs the stacked image pair, "layers" every LeakyReLU output,
"output" the patch map before the heads; "none" never blurs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zi2zi.config import DiscriminatorConfig, validate_discriminator
from zi2zi.models.blocks import check_image_size, check_int, norm_layer
from zi2zi.models.blur import GaussianBlur, faded_sigma
from zi2zi.models.init import init_weights

KERNEL, PAD = 5, 2  # zi2zi's TF "SAME" 5x5 convs


class Discriminator(nn.Module):
    """``D(source, target_or_fake) -> (rf_logits (B,), category_logits (B, num_styles))``."""

    def __init__(self, *, image_size: int, num_styles: int, cfg: DiscriminatorConfig):
        super().__init__()
        check_image_size(image_size)
        check_int(cfg.ndf, "model.discriminator.ndf")
        check_int(cfg.n_layers, "model.discriminator.n_layers")
        check_int(num_styles, "number of styles")
        check_int(cfg.blur_fade_steps, "model.discriminator.blur_fade_steps", minimum=0)
        validate_discriminator(cfg, image_size)  # the config's own rules (modes, patch map, blur kernel)
        patch = image_size // 2**cfg.n_layers  # side of the 1-channel patch map

        self.image_size = image_size
        self.blur_place = cfg.blur
        self.base_sigma = float(cfg.blur_sigma)
        self.blur_fade_steps = cfg.blur_fade_steps
        self.blur = GaussianBlur(cfg.blur_kernel, cfg.blur_sigma) if cfg.blur != "none" else None
        bias = cfg.norm != "batch"  # a BatchNorm right after makes a conv bias redundant

        mult = 1
        layers = [nn.Sequential(nn.Conv2d(2, cfg.ndf, KERNEL, 2, PAD), nn.LeakyReLU(0.2, inplace=True))]
        for n in range(1, cfg.n_layers):
            prev, mult = mult, min(2**n, 8)
            layers.append(
                nn.Sequential(
                    nn.Conv2d(cfg.ndf * prev, cfg.ndf * mult, KERNEL, 2, PAD, bias=bias),
                    norm_layer(cfg.norm, cfg.ndf * mult),
                    nn.LeakyReLU(0.2, inplace=True),
                )
            )
        prev, mult = mult, min(2**cfg.n_layers, 8)
        layers.append(
            nn.Sequential(
                nn.Conv2d(cfg.ndf * prev, cfg.ndf * mult, KERNEL, 1, PAD, bias=bias),
                norm_layer(cfg.norm, cfg.ndf * mult),
                nn.LeakyReLU(0.2, inplace=True),
            )
        )
        self.layers = nn.ModuleList(layers)
        self.patch = nn.Conv2d(cfg.ndf * mult, 1, KERNEL, 1, PAD)
        self.rf_head = nn.Linear(patch * patch, 1)
        self.category_head = nn.Linear(patch * patch, num_styles)
        init_weights(self)

    @property
    def num_styles(self) -> int:
        return self.category_head.out_features

    @property
    def blur_sigma(self) -> float:
        """The sigma in use now (0 when the blur is off or has faded out)."""
        return self.blur.sigma if self.blur is not None else 0.0

    def set_step(self, step: int) -> float:
        """Apply the blur fade for training step ``step``; returns the sigma now in use."""
        if self.blur is not None:
            self.blur.sigma = faded_sigma(self.base_sigma, step, self.blur_fade_steps)
        return self.blur_sigma

    def _maybe_blur(self, x: torch.Tensor, place: str) -> torch.Tensor:
        return self.blur(x) if self.blur is not None and self.blur_place == place else x

    def patch_map(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The 1-channel patch map (B, 1, S/2**n_layers, S/2**n_layers), after any output blur."""
        x = torch.cat([source, target], dim=1)  # (B, 2, S, S)
        x = self._maybe_blur(x, "input")
        for layer in self.layers:
            x = self._maybe_blur(layer(x), "layers")
        return self._maybe_blur(self.patch(x), "output")

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        expected = (1, self.image_size, self.image_size)
        if source.shape != target.shape or source.ndim != 4 or source.shape[1:] != expected:
            raise ValueError(
                f"discriminator inputs must both be (B, 1, {self.image_size}, {self.image_size}); "
                f"got {tuple(source.shape)} and {tuple(target.shape)}"
            )
        flat = self.patch_map(source, target).flatten(1)  # (B, patch*patch)
        return self.rf_head(flat).squeeze(1), self.category_head(flat)

    @torch.no_grad()
    def reset_styles(self, ids: Sequence[int]) -> None:
        """Re-initialise the category outputs ``ids`` (spare rows taken by new styles) as zi2zi
        initialises them, so nothing of an untrained row's drift carries over."""
        head = self.category_head
        fresh = nn.Linear(head.in_features, head.out_features).to(device=head.weight.device, dtype=head.weight.dtype)
        init_weights(fresh)
        index = torch.as_tensor(list(ids), dtype=torch.long, device=head.weight.device)
        head.weight[index] = fresh.weight[index]
        head.bias[index] = fresh.bias[index]

    @torch.no_grad()
    def add_styles(self, n: int) -> list[int]:
        """Grow the category head by ``n`` outputs to match :meth:`Generator.add_styles`; old rows are
        kept bit-identical, new rows get zi2zi's N(0, 0.02) init. Build the optimizer afterwards."""
        check_int(n, "number of styles to add")
        old = self.category_head
        new = nn.Linear(old.in_features, old.out_features + n)
        new = new.to(device=old.weight.device, dtype=old.weight.dtype)
        init_weights(new)
        new.weight[: old.out_features] = old.weight
        new.bias[: old.out_features] = old.bias
        self.category_head = new
        return list(range(old.out_features, old.out_features + n))
