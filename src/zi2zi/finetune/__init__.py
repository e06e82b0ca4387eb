"""Fine-tuning a shipped base model (or any checkpoint) to a new font from a few glyphs."""

from zi2zi.finetune.recipe import FinetuneRecipe, recipe_for
from zi2zi.finetune.run import FinetuneSummary, finetune

__all__ = ["FinetuneRecipe", "FinetuneSummary", "finetune", "recipe_for"]
