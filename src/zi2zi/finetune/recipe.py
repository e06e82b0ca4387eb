"""Training settings for fine-tuning a base on a few glyphs, chosen by how many there are.

Few glyphs overfit a whole network quickly: with few, the encoder (which reads the source font,
the same for every style) stays frozen and only the decoder, the new style's embedding row and D
learn; with many, everything trains. Budgets are steps, never wall-clock minutes, so a busy
machine gives the same model later rather than a worse one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class FinetuneRecipe:
    steps: int
    lr: float  # constant: a short run has no time for a schedule to matter
    batch_size: int
    freeze_encoder: bool
    # Only the new style's embedding row learns; the base's styles keep theirs.
    only_new_style: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# (largest glyph count, recipe) in ascending order; the last row covers everything above.
RECIPES: tuple[tuple[int, FinetuneRecipe], ...] = (
    (100, FinetuneRecipe(steps=400, lr=5e-4, batch_size=16, freeze_encoder=True)),
    (500, FinetuneRecipe(steps=600, lr=5e-4, batch_size=32, freeze_encoder=True)),
    (10**9, FinetuneRecipe(steps=1000, lr=5e-4, batch_size=32, freeze_encoder=False)),
)


def recipe_for(n_glyphs: int, *, steps: int | None = None) -> FinetuneRecipe:
    """The recipe for ``n_glyphs`` training glyphs; ``steps`` overrides its step budget."""
    recipe = next(r for limit, r in RECIPES if n_glyphs <= limit)
    if steps is not None:
        recipe = FinetuneRecipe(**{**recipe.to_dict(), "steps": steps})
    return recipe
