"""zi2zi's generator: a pix2pix U-Net whose 1x1 bottleneck is joined by a learned style vector.

Depth follows the image size (``log2(image_size)`` halvings) so the bottleneck is always 1x1; at
256 px with the classic config every parameter shape equals zi2zi-pytorch's ``UNetGenerator``
(see tests/test_models.py). Channels of down block i: ``ngf * min(2**i, 8)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn

from zi2zi.config import ConfigError, GeneratorConfig
from zi2zi.errors import Zi2ziError
from zi2zi.models.blocks import NORMS, DownBlock, UpBlock, check_image_size, check_int, dense_gradient
from zi2zi.models.init import init_weights


def _is_compiling() -> bool:
    fn = getattr(torch.compiler, "is_compiling", None)  # torch >= 2.3
    return bool(fn and fn())


class Generator(nn.Module):
    """``G(source, style_ids) -> fake``; images (B, 1, S, S) in [-1, 1].

    ``num_styles`` defaults to ``cfg.num_styles``; the trainer passes a larger number when the
    dataset has more styles. zi2zi's init (:func:`init_weights`) is applied at construction.
    """

    def __init__(self, *, image_size: int, cfg: GeneratorConfig, num_styles: int | None = None):
        super().__init__()
        n = check_image_size(image_size)
        num_styles = cfg.num_styles if num_styles is None else num_styles
        check_int(cfg.ngf, "model.generator.ngf")
        check_int(cfg.style_dim, "model.generator.style_dim")
        check_int(num_styles, "model.generator.num_styles")
        if cfg.norm not in NORMS:
            raise ConfigError(f"model.generator.norm={cfg.norm!r}; choose one of {', '.join(NORMS)}")
        if not 0.0 <= cfg.dropout < 1.0:
            raise ConfigError(f"model.generator.dropout={cfg.dropout!r} must be in [0, 1)")
        check_int(cfg.dropout_blocks, "model.generator.dropout_blocks", minimum=0)

        self.image_size = image_size
        self.num_downs = n
        channels = [cfg.ngf * min(2**i, 8) for i in range(n)]  # output channels of down block i
        # pix2pix: convs that feed a BatchNorm need no bias; with instance norm they keep one.
        bias = cfg.norm == "instance"

        # The outermost down block sees the raw image (no activation, no norm); the innermost
        # produces the bottleneck code with no norm, as pix2pix (instance norm would zero a 1x1 map).
        self.down = nn.ModuleList(
            DownBlock(
                1 if i == 0 else channels[i - 1],
                channels[i],
                activate_input=i > 0,
                norm=None if i in (0, n - 1) else cfg.norm,
                bias=bias,
            )
            for i in range(n)
        )
        # up[i] mirrors down[i]. Dropout sits on the `dropout_blocks` up blocks right after the
        # innermost one (zi2zi: the three 8*ngf blocks at 256 px), never on the image output.
        first_dropout = max(1, n - 1 - cfg.dropout_blocks)
        self.up = nn.ModuleList(
            UpBlock(
                channels[i] + cfg.style_dim if i == n - 1 else 2 * channels[i],
                1 if i == 0 else channels[i - 1],
                outermost=i == 0,
                norm=cfg.norm,
                bias=bias,
                dropout=cfg.dropout if first_dropout <= i < n - 1 else 0.0,
            )
            for i in range(n)
        )
        self.style_embedding = nn.Embedding(num_styles, cfg.style_dim)
        init_weights(self)

    @property
    def num_styles(self) -> int:
        return self.style_embedding.num_embeddings

    @property
    def style_dim(self) -> int:
        return self.style_embedding.embedding_dim

    # -- encoder ---------------------------------------------------------------------------------

    def _check_source(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or x.shape[1:] != (1, self.image_size, self.image_size):
            raise ValueError(
                f"generator input must be (B, 1, {self.image_size}, {self.image_size}); got {tuple(x.shape)}"
            )

    def _down(self, x: torch.Tensor) -> list[torch.Tensor]:
        self._check_source(x)
        feats = []
        for block in self.down:
            x = block(x)
            feats.append(x)
        return feats  # feats[i]: (B, C_i, S / 2**(i+1), S / 2**(i+1)); feats[-1] is 1x1

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Bottleneck code (B, C) of an image: the const loss compares encode(source) and encode(fake)."""
        self._check_source(x)
        for block in self.down:
            x = block(x)
        return x.flatten(1)  # (B, 8*ngf)

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        """The down path only (no decoder, no style embedding): what --freeze-encoder freezes."""
        return self.down.parameters()

    # -- decoder ---------------------------------------------------------------------------------

    def _style(
        self, batch: int, style_ids: torch.Tensor | None, style_vectors: torch.Tensor | None
    ) -> torch.Tensor:
        if (style_ids is None) == (style_vectors is None):
            raise ValueError("give exactly one of style_ids (B,) or style_vectors (B, style_dim)")
        if style_vectors is not None:
            if style_vectors.shape != (batch, self.style_dim):
                raise ValueError(
                    f"style_vectors must be ({batch}, {self.style_dim}); got {tuple(style_vectors.shape)}"
                )
            return style_vectors
        assert style_ids is not None  # exactly one of the two was given (checked above)
        if style_ids.shape != (batch,) or style_ids.dtype != torch.long:
            raise ValueError(
                f"style_ids must be a ({batch},) int64 tensor; got {tuple(style_ids.shape)} {style_ids.dtype}"
            )
        if batch and not _is_compiling():  # a data-dependent check cannot be traced
            lo, hi = int(style_ids.min()), int(style_ids.max())
            if lo < 0 or hi >= self.num_styles:
                bad = lo if lo < 0 else hi
                raise Zi2ziError(
                    f"style id {bad} is out of range: this generator has {self.num_styles} styles "
                    f"(ids 0-{self.num_styles - 1}); pick one of those or grow it with add_styles()"
                )
        return self.style_embedding(style_ids)

    def _up(self, feats: list[torch.Tensor], style: torch.Tensor) -> torch.Tensor:
        code = feats[-1]  # (B, C, 1, 1)
        # Style first, as zi2zi-pytorch, so the innermost up conv's input channels line up with its.
        x = torch.cat([style.to(code.dtype)[:, :, None, None], code], dim=1)
        x = self.up[-1](x)
        for i in range(self.num_downs - 2, -1, -1):
            x = self.up[i](torch.cat([dense_gradient(feats[i]), dense_gradient(x)], dim=1))
        return x  # (B, 1, S, S) in [-1, 1]

    def generate_and_encode(
        self,
        source: torch.Tensor,
        style_ids: torch.Tensor | None = None,
        *,
        style_vectors: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(fake, source code (B, C)) from a single encoder pass: the const loss needs both."""
        feats = self._down(source)
        style = self._style(source.shape[0], style_ids, style_vectors)
        return self._up(feats, style), feats[-1].flatten(1)

    def forward(
        self,
        source: torch.Tensor,
        style_ids: torch.Tensor | None = None,
        *,
        style_vectors: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """source (B, 1, S, S) and style ids (B,) or style vectors (B, style_dim) -> fake (B, 1, S, S)."""
        return self.generate_and_encode(source, style_ids, style_vectors=style_vectors)[0]

    # -- styles ----------------------------------------------------------------------------------

    @torch.no_grad()
    def reset_styles(self, ids: Sequence[int], *, like: Sequence[int] | None = None) -> None:
        """Set embedding rows ``ids`` (spare rows taken by new styles) to the mean of the rows
        ``like`` (default: all others), as :meth:`add_styles` starts appended rows."""
        weight = self.style_embedding.weight
        rows = [r for r in (range(weight.shape[0]) if like is None else like) if r not in set(ids)]
        if not rows or any(not 0 <= r < weight.shape[0] for r in list(rows) + list(ids)):
            raise Zi2ziError(f"reset_styles({list(ids)!r}, like={like!r}): give existing style ids")
        weight[list(ids)] = weight[rows].mean(dim=0, keepdim=True)

    @torch.no_grad()
    def add_styles(self, n: int, *, like: Sequence[int] | None = None) -> list[int]:
        """Append ``n`` embedding rows and return their ids; existing rows stay bit-identical.

        New rows start as the mean of the existing rows (or of the rows ``like``, e.g. the styles that
        were actually trained): the decoder then draws a plausible "average" glyph from the first
        step of fine-tuning, whereas a fresh random vector is a point the decoder has never seen.
        The embedding weight is a new Parameter: build the optimizer after calling this.
        """
        check_int(n, "number of styles to add")
        old = self.style_embedding.weight
        rows = list(range(old.shape[0])) if like is None else list(like)
        if not rows or any(not 0 <= r < old.shape[0] for r in rows):
            raise Zi2ziError(
                f"add_styles(like={like!r}): give existing style ids in 0-{old.shape[0] - 1}"
            )
        mean = old[rows].mean(dim=0, keepdim=True)  # (1, style_dim)
        new = torch.cat([old.detach(), mean.expand(n, -1)], dim=0).clone()
        first = old.shape[0]
        self.style_embedding.weight = nn.Parameter(new, requires_grad=old.requires_grad)
        self.style_embedding.num_embeddings = new.shape[0]
        return list(range(first, first + n))

