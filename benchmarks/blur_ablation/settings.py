"""What the experiment compares: the seed's blur settings, the places a discriminator takes part in,
and one cell (a place, a font, a setting, a seed) with the folder it lives in."""

from __future__ import annotations

from dataclasses import dataclass, replace

from zi2zi.config import DiscriminatorConfig

# The seed's three places plus StyleGAN3's faded input blur, against no blur at all.
SETTINGS = ("none", "input", "input-fade", "layers", "output")
BLUR_OF = {"none": "none", "input": "input", "input-fade": "input", "layers": "layers", "output": "output"}
KERNEL, SIGMA = 5, 1.0  # the seed's torchvision.transforms.GaussianBlur(kernel_size=5, sigma=1.0)
SWEEP_SIGMAS = (0.5, 2.0)  # run for each place's winner after the main cells (SIGMA is a main cell)

# Where a discriminator shapes what a user gets: fine-tuning the base with a fresh one, training
# from scratch, and the refiner's per-font fine-tuning with an adversarial term
# (zi2zi.refine.train.AdversarialTerm).
PLACES = ("finetune", "scratch", "refiner")
# The refiner place also runs without any discriminator (its product default): whether the
# adversarial term pays at all, beside where its blur belongs.
OFF = "off"
# The refiner's adversarial term beside its cross-entropy (weight 1). Chosen before the runs, from
# one calibration (LXGW WenKai, seed 0, no blur, against no discriminator; Intel Xeon, 2 cores):
# SSIM at 64 px fell by 0.011 / 0.013 / 0.018 at weights 0.01 / 0.05 / 0.2, contours off by
# 7.3 / 2.0 / 3.0 points (only the first beyond its interval), and at 150 px the 0.05 glyphs
# showed serrated edges the discriminator had added. 0.05 is the middle: D shapes the output,
# visibly, so the blur settings have something to change.
REFINER_ADVERSARIAL_WEIGHT = 0.05


def settings_of(place: str, settings: list[str]) -> list[str]:
    return [OFF, *settings] if place == "refiner" else list(settings)


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()


def discriminator_for(base: DiscriminatorConfig, setting: str, sigma: float | None, steps: int) -> DiscriminatorConfig:
    """``base`` (the base model's or the preset's discriminator) with the blur of ``setting``:
    kernel 5, ``sigma``; "input-fade" lets sigma fall to 0 over the whole run (``steps``)."""
    if setting not in BLUR_OF:
        raise ValueError(f"unknown blur setting {setting!r}; choose one of {', '.join(SETTINGS)}")
    # (OFF is not a blur setting: it has no discriminator to configure.)
    return replace(base, blur=BLUR_OF[setting], blur_kernel=KERNEL,  # type: ignore[arg-type]
                   blur_sigma=SIGMA if sigma is None else float(sigma),
                   blur_fade_steps=steps if setting == "input-fade" else 0)


@dataclass(frozen=True)
class Cell:
    """One training run and its measurement. ``sigma`` is None for "none" and "off" (nothing is blurred)."""

    place: str
    font: str
    setting: str
    sigma: float | None
    seed: int
    phase: str = "main"  # "main" (sigma 1.0) or "sweep"

    @property
    def key(self) -> str:
        """The cell's folder under the work folder: place/font/setting[-sigmaX]/seedN."""
        name = self.setting if self.sigma in (None, SIGMA) else f"{self.setting}-sigma{self.sigma:g}"
        return f"{self.place}/{slug(self.font)}/{name}/seed{self.seed}"

    @property
    def label(self) -> str:
        return self.setting if self.sigma in (None, SIGMA) else f"{self.setting} (sigma {self.sigma:g})"


def main_cells(places: list[str], fonts: dict[str, list[str]], settings: list[str], seeds: dict[str, list[int]]) -> list[Cell]:
    """The main cells in the order they run: every fine-tune of seed 0 (over fonts and settings),
    then seed 1, then 2, then the from-scratch runs, so that a partial result is useful early."""
    out: list[Cell] = []
    for place in places:
        for seed in seeds[place]:
            for font in fonts[place]:
                for setting in settings_of(place, settings):
                    out.append(Cell(place, font, setting, None if setting in ("none", OFF) else SIGMA, seed))
    return out


def sweep_cells(place: str, winner: str, fonts: list[str], seeds: list[int], sigmas: list[float]) -> list[Cell]:
    return [Cell(place, font, winner, float(sigma), seed, phase="sweep")
            for seed in seeds for font in fonts for sigma in sigmas if float(sigma) != SIGMA]
