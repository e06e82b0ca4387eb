"""zi2zi's networks: the U-Net generator with style embeddings and the (optionally blurred) PatchGAN."""

from __future__ import annotations

from zi2zi.config import Config
from zi2zi.models.blur import GaussianBlur, faded_sigma
from zi2zi.models.discriminator import Discriminator
from zi2zi.models.generator import Generator
from zi2zi.models.init import init_weights


def build_models(cfg: Config, num_styles: int) -> tuple[Generator, Discriminator]:
    """G and D for ``cfg`` with ``num_styles`` styles, initialised as zi2zi (N(0, 0.02)).

    ``num_styles`` is decided by the caller (the trainer uses max(config, dataset styles)); it
    overrides ``cfg.model.generator.num_styles`` so G's embedding and D's category head agree.
    """
    size = cfg.model.image_size
    g = Generator(image_size=size, cfg=cfg.model.generator, num_styles=num_styles)
    d = Discriminator(image_size=size, num_styles=num_styles, cfg=cfg.model.discriminator)
    return g, d


__all__ = ["Discriminator", "GaussianBlur", "Generator", "build_models", "faded_sigma", "init_weights"]
