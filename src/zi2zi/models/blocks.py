"""Building blocks shared by the generator and the discriminator.

The U-Net blocks are written in pix2pix's pre-activation order (activation, conv, norm): a down
block activates its *input*, the tensor the previous block returned, which is also that block's
skip connection. Activations are in place, as in pix2pix/zi2zi-pytorch: it saves a tensor's worth
of memory traffic per layer (about 4 % of a 256 px step on a CPU). The skip tensor the decoder
reads is therefore LeakyReLU(e), not e; the decoder applies ReLU to it, and ReLU(LeakyReLU(e)) ==
ReLU(e) exactly, gradients included, so the numbers are those of an un-activated skip.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zi2zi.config import NORMS, ConfigError


def norm_layer(kind: str, channels: int) -> nn.Module:
    """BatchNorm as zi2zi, or InstanceNorm with affine=True (learned scale/shift per channel,
    so switching norms keeps the layer's capacity; pix2pix's instance norm has affine=False)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    raise ConfigError(f"norm {kind!r} is not supported; choose one of {', '.join(NORMS)}")


def check_image_size(image_size: int, key: str = "model.image_size") -> int:
    """The U-Net halves the image down to a 1x1 bottleneck, so the side must be a power of two."""
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, int)
        or image_size < 16
        or image_size & (image_size - 1)
    ):
        raise ConfigError(
            f"{key}={image_size!r} cannot be used: the generator halves the image down to 1x1, so it "
            "must be a power of two >= 16 (e.g. 64, 128, 256); render the dataset at such a size"
        )
    return int(math.log2(image_size))


def check_int(value: int, key: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key}={value!r} must be an integer >= {minimum}")


class DownBlock(nn.Module):
    """[LeakyReLU(0.2)] -> Conv 4x4 s2 p1 -> [norm]: halves the side."""

    def __init__(self, in_ch: int, out_ch: int, *, activate_input: bool, norm: str | None, bias: bool):
        super().__init__()
        # In place: the input is the previous block's fresh output (see the module docstring).
        self.act = nn.LeakyReLU(0.2, inplace=True) if activate_input else nn.Identity()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=bias)
        self.norm = norm_layer(norm, out_ch) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(self.act(x)))


class UpBlock(nn.Module):
    """ReLU -> ConvTranspose 4x4 s2 p1 -> norm [-> dropout], or -> tanh for the image output."""

    def __init__(
        self, in_ch: int, out_ch: int, *, outermost: bool, norm: str, bias: bool, dropout: float
    ):
        super().__init__()
        self.act = nn.ReLU(inplace=True)  # its input is always a fresh concatenation
        # The output layer always has a bias: nothing after it could supply the offset.
        self.conv = nn.ConvTranspose2d(
            in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=bias or outermost
        )
        self.norm = nn.Identity() if outermost else norm_layer(norm, out_ch)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.out = nn.Tanh() if outermost else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(self.norm(self.conv(self.act(x)))))


class _DenseGradient(torch.autograd.Function):
    """The identity, whose backward lays the gradient out like the forward tensor."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        ctx.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous(memory_format=ctx.memory_format)


def dense_gradient(x: torch.Tensor) -> torch.Tensor:
    """``x`` unchanged; its gradient arrives dense in ``x``'s memory format.

    Concatenating along channels hands each part a strided slice of the gradient. BatchNorm's CPU
    backward has fast kernels only for dense NCHW or dense channels-last gradients and falls back
    to a generic reduction otherwise: ten times slower in channels-last (2.7 s of a 19 s step at
    256 px, batch 16). One copy of the gradient is far cheaper.
    """
    return _DenseGradient.apply(x)
