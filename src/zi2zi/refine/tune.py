"""Fine-tuning a refiner to one font, on the glyphs its generator was fine-tuned on.

The pairs are the fine-tuned generator's own 64 px output of each training glyph against the real
glyph at the refiner's size (rendered from the target font, or a scanned glyph at its own
resolution brought to that size), so the refiner learns the new style's stroke edges, not only
the corpus styles'.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from zi2zi.errors import DatasetError
from zi2zi.refine.files import save_refiner
from zi2zi.refine.pairs import RefinerPairs
from zi2zi.refine.runtime import GlyphRefiner
from zi2zi.refine.train import AdversarialTerm, RefinerRecipe, train_refiner


@dataclass(frozen=True)
class RefinerTuning:
    """Settings of the per-font fine-tuning (``zi2zi finetune`` runs it after the generator).

    Chosen on AR PL UKai (unseen), 200 training glyphs, 100 held-out characters exported and
    measured on the font (zi2zi.metrics.font_quality): identified / shape IoU / edge F were
    0.63 / 0.32 / 0.49 with the shipped refiner untuned, 0.65 / 0.34 / 0.54 after 300 steps at
    lr 3e-4, 0.71 / 0.38 / 0.57 after 1000 steps at lr 1e-3 (128 px crops); 2000 steps gave
    0.71 / 0.35 / 0.58 in twice the time, whole 256 px glyphs (batch 8) 0.73 / 0.35 / 0.58 in
    three times the time. (The shipped refiner at step 2000 of its training was the start.)
    """

    steps: int = 1000
    batch_size: int = 16
    crop: int = 128
    lr: float = 1e-3
    # Off unless the blur ablation's refiner place shows it pays (benchmarks/reports/blur-ablation.md).
    adversarial: AdversarialTerm = field(default_factory=AdversarialTerm)

    def recipe(self, seed: int) -> RefinerRecipe:
        return RefinerRecipe(steps=self.steps, batch_size=self.batch_size, crop=self.crop, lr=self.lr,
                             warmup=min(20, self.steps), degrade=True, seed=seed, adversarial=self.adversarial)


def tune_refiner(
    refiner: GlyphRefiner, generator, style, *, pairs: RefinerPairs, out: str | Path,
    tuning: RefinerTuning = RefinerTuning(), seed: int = 0, progress: Callable[[int, float], None] | None = None,
    extra: dict | None = None,
) -> Path:
    """Fine-tune a copy of ``refiner`` on ``pairs`` and write it to ``out`` (the original is
    untouched); ``extra`` is added to the file's ``tuned`` record."""
    refiner.check_fits(generator.render_settings, str(generator.checkpoint_path))
    if len(pairs) == 0:
        raise DatasetError("the refiner has no glyphs to learn from: the source font draws none of the training "
                           "characters at its size")
    model = copy.deepcopy(refiner.model).float()
    started = time.perf_counter()
    state = train_refiner(model, pairs, tuning.recipe(seed), on_step=progress)
    record = {
        "from": str(refiner.path), "from_fingerprint": refiner.fingerprint, "generator": str(generator.checkpoint_path),
        "style": style.name, "glyphs": len(pairs), "steps": state.step, "seconds": round(time.perf_counter() - started, 1),
        "tuning": asdict(tuning), **(extra or {}),
    }
    meta = {k: v for k, v in refiner.meta.items() if k not in ("format", "format_version", "zi2zi_version", "config",
                                                               "coarse_render", "render")}
    meta["tuned"] = record
    return save_refiner(out, model, coarse=refiner.coarse_render, meta=meta)


def seconds_per_step(refiner: GlyphRefiner, tuning: RefinerTuning = RefinerTuning(), *, steps: int = 3) -> float:
    """Seconds one tuning step takes here, timed on blank pairs after a warm-up step: what a job's
    ETA counts for the refining stage before it starts (a step costs the same whatever the glyphs)."""
    import numpy as np

    size, coarse = refiner.size, refiner.coarse_render.size
    n = 2
    pairs = RefinerPairs(chars=["\u4e00"] * n, coarse=np.full((n, coarse, coarse), 255, np.uint8),
                         source=np.full((n, size, size), 255, np.uint8), target=np.full((n, size, size), 255, np.uint8))
    times: list[float] = []
    recipe = replace(tuning.recipe(0), steps=steps + 1, warmup=0)
    train_refiner(copy.deepcopy(refiner.model).float(), pairs, recipe, on_step=lambda *_: times.append(time.perf_counter()))
    return (times[-1] - times[0]) / steps


__all__ = ["RefinerTuning", "seconds_per_step", "tune_refiner"]
