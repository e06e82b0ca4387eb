"""Everything a caller chooses about one training run, in one object (what :func:`train` takes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zi2zi.config import Config, DiscriminatorConfig
from zi2zi.errors import TrainingError


@dataclass
class TrainOptions:
    """``data``: a dataset from ``zi2zi render``; ``out``: the run directory.

    ``image_size_from_data``: the config's image size was not chosen by the user, so the
    dataset's is taken (the CLI decides this); otherwise a mismatch is an error.
    ``init_from`` / ``new_style`` / ``only_new_styles``: fine-tuning a trained checkpoint;
    ``fresh_discriminator``: with ``init_from``, D starts from random weights instead of the checkpoint's;
    ``discriminator_config``: that fresh D's settings (its blur, width, ...), default the checkpoint's.
    Only a fresh D can take other settings: a loaded one must match the weights it was saved with.
    """

    data: str | Path
    out: str | Path
    config: Config = field(default_factory=Config)
    resume: bool = False
    overwrite: bool = False
    device: str | None = None  # overrides train.device
    init_from: str | Path | None = None
    new_style: str | None = None
    only_new_styles: bool = False
    fresh_discriminator: bool = False
    discriminator_config: DiscriminatorConfig | None = None
    image_size_from_data: bool = False
    progress: bool = True
    echo: Callable[[str], None] | None = None  # where notes go (default: stderr)
    # Called with the Trainer on the main process after every step (its samples, evaluation and
    # checkpoint done): the web app's worker measures and reports progress from it.
    on_step: Callable[[Any], None] | None = None
    # What a stopped run tells the user to do to continue: a command the caller accepts.
    resume_hint: str = "continue with --resume"

    def check(self) -> TrainOptions:
        """Contradictory choices, refused before anything is read or written."""
        if self.resume and self.overwrite:
            raise TrainingError("--resume and --overwrite contradict each other; pick one")
        if self.resume and self.init_from:
            raise TrainingError("--init-from starts a new run from a checkpoint; to continue a run use --resume alone")
        if self.only_new_styles and self.init_from is None:
            raise TrainingError("--only-new-styles trains the styles added to a checkpoint; it needs --init-from CKPT")
        if self.new_style is not None and self.init_from is None:
            raise TrainingError("--new-style names a style added to a trained model; it needs --init-from CKPT")
        if self.fresh_discriminator and self.init_from is None:
            raise TrainingError("a fresh discriminator replaces a checkpoint's; it needs --init-from CKPT")
        if self.discriminator_config is not None and not self.fresh_discriminator:
            raise TrainingError("discriminator settings apply to a fresh discriminator only; "
                                "set fresh_discriminator=True with init_from, or leave them out")
        if self.fresh_discriminator and not self.config.loss.adversarial:
            raise TrainingError("a fresh discriminator with loss.adversarial=false would never train; "
                                "set loss.adversarial=true or keep the checkpoint's discriminator")
        return self
