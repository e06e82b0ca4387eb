"""Training the refiner on pairs: crops of glyphs, binary cross-entropy against the real ink.

Cross-entropy rather than L1: the tracer follows the 50 % level, so what matters is on which side
of it each pixel falls, and cross-entropy pushes predictions away from 0.5 where L1 settles for
grey. The coarse input is degraded at random (blur, faded ink) while training so the refiner also
copes with generators softer than the one that made its pairs (a model fine-tuned on a few glyphs
drawing characters it never saw).

An adversarial term is optional (``RefinerRecipe.adversarial``): the seed's PatchGAN discriminator,
with its blur options, judges (source, glyph) crops, real against refined. It is off by default;
the blur ablation's refiner place (``make ablation``) measures whether it pays on the exported
font, and where its blur belongs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from zi2zi.config import DiscriminatorConfig
from zi2zi.refine.model import Refiner
from zi2zi.refine.pairs import RefinerPairs


def _crop_discriminator() -> DiscriminatorConfig:
    # A quarter of the seed's width: at 128 px crops the seed's ndf 64 costs several times the
    # refiner's own step on a CPU.
    return DiscriminatorConfig(ndf=16, blur="none")


@dataclass(frozen=True)
class AdversarialTerm:
    """A conditional discriminator on the training crops; ``weight`` 0 trains without one."""

    weight: float = 0.0  # of the adversarial loss beside the cross-entropy (which has weight 1)
    discriminator: DiscriminatorConfig = field(default_factory=_crop_discriminator)
    lr: float = 2e-4  # the discriminator's Adam rate (zi2zi's), betas (0.5, 0.999)

    @property
    def on(self) -> bool:
        return self.weight > 0


@dataclass(frozen=True)
class RefinerRecipe:
    steps: int = 3000
    batch_size: int = 24
    crop: int = 128  # side of the training crops at the refiner's size (the network is convolutional)
    lr: float = 1e-3
    warmup: int = 100  # steps of linear warm-up, then cosine decay to lr / 10
    degrade: bool = True  # blur and fade the coarse input at random
    seed: int = 0
    adversarial: AdversarialTerm = field(default_factory=AdversarialTerm)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        t = (step - self.warmup) / max(1, self.steps - self.warmup)
        return self.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, t))))


def ink(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (B, H, W), 255 = paper -> float (B, 1, H, W) ink in [0, 1]."""
    x = torch.as_tensor(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    return (255.0 - x.float()).div_(255.0).unsqueeze(1)


def _degrade(coarse: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per image, at random: a Gaussian blur (sigma up to 0.8 coarse px) and ink faded to 60-100 %."""
    import kornia

    b = coarse.shape[0]
    sigma = torch.rand(b, generator=gen) * 0.8
    blur = torch.rand(b, generator=gen) < 0.5
    out = coarse.clone()
    if blur.any():
        s = sigma[blur].clamp(min=0.05).unsqueeze(1).repeat(1, 2)  # (n, 2): one sigma per axis
        out[blur] = kornia.filters.gaussian_blur2d(coarse[blur], (5, 5), s)
    fade = torch.where(torch.rand(b, generator=gen) < 0.5, 0.6 + 0.4 * torch.rand(b, generator=gen), torch.ones(b))
    return out * fade.view(b, 1, 1, 1)


def sample_batch(pairs: RefinerPairs, recipe: RefinerRecipe, factor: int, gen: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random crops (aligned to the coarse grid) of random pairs: coarse, source, target ink."""
    n, size = len(pairs), pairs.source.shape[-1]
    crop = min(recipe.crop, size)
    idx = torch.randint(0, n, (recipe.batch_size,), generator=gen).numpy()
    cells = (size - crop) // factor + 1
    ys = torch.randint(0, cells, (recipe.batch_size,), generator=gen).numpy() * factor
    xs = torch.randint(0, cells, (recipe.batch_size,), generator=gen).numpy() * factor
    cc = crop // factor
    coarse = np.stack([pairs.coarse[i, y // factor: y // factor + cc, x // factor: x // factor + cc]
                       for i, y, x in zip(idx, ys, xs)])
    source = np.stack([pairs.source[i, y: y + crop, x: x + crop] for i, y, x in zip(idx, ys, xs)])
    target = np.stack([pairs.target[i, y: y + crop, x: x + crop] for i, y, x in zip(idx, ys, xs)])
    c = ink(coarse)
    if recipe.degrade:
        c = _degrade(c, gen)
    return c, ink(source), ink(target)


@dataclass
class TrainState:
    step: int
    optimizer: dict[str, Any] | None = None
    rng: Any = None
    seconds: float = 0.0
    discriminator: dict[str, Any] | None = None  # {"model", "optimizer"} state dicts with an adversarial term


class _Adversary:
    """The discriminator of an adversarial term and its optimizer, stepped beside the refiner."""

    def __init__(self, term: AdversarialTerm, crop: int, seed: int, saved: dict[str, Any] | None) -> None:
        from zi2zi.models.discriminator import Discriminator

        self.term = term
        with torch.random.fork_rng(devices=[]):  # its initial weights follow the recipe's seed, not the caller's RNG
            torch.manual_seed(seed)
            self.model = Discriminator(image_size=crop, num_styles=1, cfg=term.discriminator)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=term.lr, betas=(0.5, 0.999))
        if saved is not None:
            self.model.load_state_dict(saved["model"])
            self.optimizer.load_state_dict(saved["optimizer"])
        self.model.train()

    def _judge(self, source: torch.Tensor, glyph: torch.Tensor) -> torch.Tensor:
        return self.model(source, glyph)[0]

    def generator_loss(self, source: torch.Tensor, refined: torch.Tensor, step: int) -> torch.Tensor:
        """How far ``refined`` (ink in [0, 1], with gradient) is from passing as real at ``step``
        (which sets the blur's fade)."""
        self.model.set_step(step)
        params = list(self.model.parameters())
        for p in params:  # the refiner's loss must not train D
            p.requires_grad_(False)
        try:
            rf = self._judge(source, refined)
        finally:
            for p in params:
                p.requires_grad_(True)
        return F.binary_cross_entropy_with_logits(rf, torch.ones_like(rf))

    def step(self, source: torch.Tensor, target: torch.Tensor, refined: torch.Tensor) -> None:
        """One discriminator step on real ``target`` against ``refined``, after generator_loss."""
        real, fake = self._judge(source, target), self._judge(source, refined.detach())
        loss = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))) / 2
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def state(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}


def train_refiner(
    model: Refiner, pairs: RefinerPairs, recipe: RefinerRecipe, *, state: TrainState | None = None,
    until: int | None = None, on_step: Callable[[int, float], None] | None = None,
) -> TrainState:
    """Train ``model`` in place from ``state`` (None: from step 0) up to ``until`` (default: the
    recipe's steps). ``on_step(step, loss)`` is called after each step. Returns the state to
    resume from; the same recipe, pairs and state continue exactly."""
    if len(pairs) == 0:
        from zi2zi.errors import TrainingError

        raise TrainingError("the refiner has no training pairs (no character both fonts can draw)")
    state = state or TrainState(step=0)
    until = recipe.steps if until is None else min(until, recipe.steps)
    gen = torch.Generator().manual_seed(recipe.seed)
    if state.rng is not None:
        gen.set_state(state.rng)
    model.train()
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, betas=(0.9, 0.99))
    if state.optimizer is not None:
        optimizer.load_state_dict(state.optimizer)
    factor = model.config.factor
    crop = min(recipe.crop, pairs.source.shape[-1])
    adversary = _Adversary(recipe.adversarial, crop, recipe.seed, state.discriminator) if recipe.adversarial.on else None
    started = time.perf_counter()
    step = state.step
    while step < until:
        for group in optimizer.param_groups:
            group["lr"] = recipe.lr_at(step)
        coarse, source, target = sample_batch(pairs, recipe, factor, gen)
        logits = model(coarse.contiguous(memory_format=torch.channels_last),
                       source.contiguous(memory_format=torch.channels_last))
        loss = F.binary_cross_entropy_with_logits(logits, target)
        if adversary is not None:
            refined = torch.sigmoid(logits)
            loss = loss + recipe.adversarial.weight * adversary.generator_loss(source, refined, step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if adversary is not None:
            adversary.step(source, target, refined)
        step += 1
        if on_step is not None:
            on_step(step, loss.item())
    model.eval()
    return TrainState(step=step, optimizer=optimizer.state_dict(), rng=gen.get_state(),
                      seconds=state.seconds + time.perf_counter() - started,
                      discriminator=adversary.state() if adversary is not None else None)


@torch.no_grad()
def refine_arrays(model: Refiner, coarse: np.ndarray, source: np.ndarray, *, batch_size: int = 32) -> np.ndarray:
    """uint8 coarse (B, h, h) and source (B, S, S), 255 = paper -> uint8 refined (B, S, S)."""
    model.eval()
    out = []
    for i in range(0, len(coarse), batch_size):
        c = ink(coarse[i: i + batch_size]).contiguous(memory_format=torch.channels_last)
        s = ink(source[i: i + batch_size]).contiguous(memory_format=torch.channels_last)
        p = torch.sigmoid(model(c, s).float())
        out.append((255.0 - p[:, 0] * 255.0).round().clamp(0, 255).to(torch.uint8).numpy())
    return np.concatenate(out) if out else np.zeros((0,) + source.shape[1:], np.uint8)


def validation(model: Refiner, pairs: RefinerPairs) -> dict[str, float]:
    """Whole-glyph figures on held-out pairs: cross-entropy and ink IoU at the 50 % level, beside
    the coarse glyph upscaled (bicubic) as the trivial answer."""
    refined = refine_arrays(model, pairs.coarse, pairs.source)
    target = pairs.target < 128
    up = F.interpolate(ink(pairs.coarse), size=pairs.target.shape[-1], mode="bicubic", align_corners=False)
    upscaled = up[:, 0].numpy() > 0.5

    def iou(pred: np.ndarray) -> float:
        inter = (pred & target).sum(axis=(1, 2))
        union = (pred | target).sum(axis=(1, 2))
        return float(np.mean(inter / np.maximum(union, 1)))

    return {"ink_iou": iou(refined < 128), "ink_iou_upscaled": iou(upscaled),
            "l1": float(np.abs(refined.astype(np.float32) - pairs.target).mean() / 255.0)}


__all__ = ["AdversarialTerm", "RefinerRecipe", "TrainState", "ink", "refine_arrays", "sample_batch", "train_refiner", "validation"]
