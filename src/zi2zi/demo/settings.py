"""The demos' defaults, apart from the pipelines so `zi2zi --help` stays light."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSettings:
    """The embedded default: AR PL UKai (the target, a font no base model has seen) at 64 px, from
    the shipped base when there is one, else Ming (AR PL UMing) to Kai trained from scratch."""

    steps: int = 600  # training steps: the cosine schedule runs its full course over these
    # Training from scratch stops after this many minutes (0: never). Off by default: a step budget
    # gives the same model on a busy machine, only later (a wall-clock cut gives a worse one).
    minutes: float = 0.0
    charset: str = "gb2312-1"
    characters: int = 1500  # first N of the charset (its code order)
    holdout: int = 100
    size: int = 64
    preset: str = "cpu-small"
    seed: int = 0
    classifier: bool = True  # content accuracy needs ~2 min to train its classifier once
    # Fine-tune this shipped base (or checkpoint) on the first `glyphs` characters instead of
    # training from scratch; when the default base is not installed the demo trains from scratch.
    base: str | None = "base-64"
    glyphs: int = 200


DEMO_OUT = "demo-out"  # where the font demo writes by default

# The handwriting demo (zi2zi.demo.handwriting): where it writes, and what the completed font covers.
HANDWRITING_OUT = "handwriting-demo-out"
COMPLETE_CHARSET = "gb2312-1"  # the 3755 common hanzi
TEMPLATE_SIZE = 128  # px of the scanned glyphs
