"""Fine-tuning a shipped base model (or any checkpoint) to a new font from a few glyphs.

Names load on first use (PEP 562), so that the CLI can read :mod:`~zi2zi.finetune.recipe`'s
choices without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zi2zi.lazy import lazy_attributes

_HOMES = {
    "FinetuneRecipe": "zi2zi.finetune.recipe",
    "recipe_for": "zi2zi.finetune.recipe",
    "FinetuneSummary": "zi2zi.finetune.run",
    "finetune": "zi2zi.finetune.run",
}

if TYPE_CHECKING:
    from zi2zi.finetune.recipe import FinetuneRecipe, recipe_for
    from zi2zi.finetune.run import FinetuneSummary, finetune


__getattr__ = lazy_attributes(__name__, _HOMES)


__all__ = ["FinetuneRecipe", "FinetuneSummary", "finetune", "recipe_for"]
