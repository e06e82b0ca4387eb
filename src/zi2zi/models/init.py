"""zi2zi's weight initialisation (pix2pix's "normal" init with gain 0.02)."""

from __future__ import annotations

from torch import nn

# zi2zi-pytorch leaves its style embedding at PyTorch's default N(0, 1) (its init function only
# touches Conv/Linear/BatchNorm) and trains it. We keep that scale for the classic recipe: the
# style enters the decoder beside a bottleneck code of similar magnitude, and a 0.02-scale
# embedding would make every style look alike to the decoder at the start of training.
EMBEDDING_STD = 1.0
WEIGHT_STD = 0.02


def init_weights(module: nn.Module, std: float = WEIGHT_STD, embedding_std: float = EMBEDDING_STD) -> None:
    """Conv/Linear weights N(0, std), norm scales N(1, std), biases 0, embeddings N(0, embedding_std)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)):
            if m.weight is not None:
                nn.init.normal_(m.weight, 1.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, embedding_std)
