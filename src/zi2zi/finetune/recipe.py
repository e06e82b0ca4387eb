"""Training settings for fine-tuning a base on a few glyphs, chosen by how many there are.

Measured on AR PL UKai (unseen by the base), its first 200 GB2312 level-1 glyphs, the next 100
held out, 600 steps (see the README's fine-tuning section for the table):

* No discriminator (``adversarial=False``): with one, held-out SSIM was 0.41, no better than
  copying the source glyph (0.40); a pretrained D tells the new style's fakes apart at once and G
  answers with speckle. L1 + const alone reach 0.51, with cleaner strokes, in half the time per step.
* Learning rate 2e-3: 5e-4 left even the training glyphs unlearnt (train SSIM 0.57 against 0.72).
* Encoder frozen below 500 glyphs: training it too gave 0.52 against 0.51 for 35% more time.
* A longer budget does not pay: 1500 steps gave 0.52 (the training glyphs are learnt by then).
* A *fresh* discriminator (``discriminator="fresh"``, an option): D starts from random weights and
  trains beside G with zi2zi's loss. On the few-shot report's 200-glyph sets of the three
  evaluation fonts it gave SSIM 0.003-0.006 lower with sharper strokes (Frechet distance 12.1
  against 16.9 on UKai, 6.9 against 7.5 and 13.9 against 14.2 on the others) in 1.7x the time.

Budgets are steps, never wall-clock minutes, so a busy machine gives the same model later rather
than a worse one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from zi2zi.errors import TrainingError

# A font target trains on this many characters unless told otherwise: the first the font has of
# GB 2312 level 1 in code order. Coverage order (gb2312-1-coverage, the most radicals and phonetic
# series first) was measured against it and lost: lower held-out SSIM and higher Frechet distance
# on AR PL UKai and LXGW WenKai at N = 50 and 200, a little better on YOzN only
# (benchmarks/reports/training-order.md).
DEFAULT_TRAIN_CHARS = 200
DEFAULT_CHARSET = "gb2312-1"
DEFAULT_HOLDOUT = 100  # held-out characters of a font target unless --holdout says otherwise


@dataclass(frozen=True)
class FinetuneRecipe:
    steps: int
    lr: float  # constant: a short run has no time for a schedule to matter
    batch_size: int
    freeze_encoder: bool
    # Only the new style's embedding row learns; the base's styles keep theirs.
    only_new_style: bool = True
    adversarial: bool = True  # False: no discriminator, L1 + const only (loss.adversarial)
    fresh_discriminator: bool = False  # with adversarial: D starts from random weights, not the base's

    @property
    def discriminator(self) -> str:
        """"none", "fresh" or "pretrained" (the base's D, zi2zi's loss)."""
        return "fresh" if self.fresh_discriminator else "pretrained" if self.adversarial else "none"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# (largest glyph count, recipe) in ascending order; the last row covers everything above.
RECIPES: tuple[tuple[int, FinetuneRecipe], ...] = (
    (100, FinetuneRecipe(steps=400, lr=2e-3, batch_size=16, freeze_encoder=True, adversarial=False)),
    (500, FinetuneRecipe(steps=600, lr=2e-3, batch_size=32, freeze_encoder=True, adversarial=False)),
    (10**9, FinetuneRecipe(steps=1000, lr=2e-3, batch_size=32, freeze_encoder=False, adversarial=False)),
)


DISCRIMINATORS = ("none", "fresh")  # the choices offered; "pretrained" measured worse (above)
# How the glyphs of a glyph folder (a hand) are brought to one placement before training
# (zi2zi.data.placement says what each does). "scale" measured best on the demo's synthetic hand
# (benchmarks/reports/placement.md): it leaves as little of the jitter as "axes" (1 - IoU 0.022
# and 0.021, against 0.44 for "centroid" and 0.74 as written) and keeps the hand's own
# proportions, which "axes" bends to the source font's (aspect changed 0.010 against 0.040).
PLACEMENTS = ("none", "centroid", "scale", "axes")
DEFAULT_PLACEMENT = "scale"


def check_discriminator(choice: str | None) -> None:
    """Refuse a discriminator choice that is not one of DISCRIMINATORS (None: the recipe's)."""
    if choice is not None and choice not in DISCRIMINATORS:
        raise TrainingError(f"discriminator {choice!r}: choose one of {', '.join(DISCRIMINATORS)}")


def check_placement(choice: str | None) -> None:
    """Refuse a placement normalisation that is not one of PLACEMENTS (None: the default)."""
    if choice is not None and choice not in PLACEMENTS:
        raise TrainingError(f"placement {choice!r}: choose one of {', '.join(PLACEMENTS)}")


def recipe_for(n_glyphs: int, *, steps: int | None = None, discriminator: str | None = None) -> FinetuneRecipe:
    """The recipe for ``n_glyphs`` training glyphs; ``steps`` overrides its step budget and
    ``discriminator`` ("none" or "fresh") its choice of discriminator."""
    check_discriminator(discriminator)
    recipe = next(r for limit, r in RECIPES if n_glyphs <= limit)
    if steps is not None:
        recipe = replace(recipe, steps=steps)
    if discriminator is not None:
        fresh = discriminator == "fresh"
        recipe = replace(recipe, adversarial=fresh, fresh_discriminator=fresh)
    return recipe
