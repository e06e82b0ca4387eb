"""Training the cells: the recipe of each, and the run that answers it.

- ``finetune``: the shipped 64 px base fine-tuned with a fresh discriminator (``zi2zi finetune
  --discriminator fresh``, its blur set through ``discriminator_config``) on the first N glyphs of
  GB2312 level 1 the font has, with the recipe's step budget for N and the product's refining
  stage. An unfinished fine-tune (minutes) is started over.
- ``scratch``: the ``cpu-small`` preset from random weights on every GB2312 glyph of one font,
  against the base's source font. An unfinished run resumes from its last checkpoint (the trainer
  resumes exactly: data order, augmentation and dropout states are in the checkpoint).

- ``refiner``: the base fine-tuned on the same N glyphs without a discriminator (the product's
  default; one generator per font and seed, shared by every setting), then the shipped refiner
  fine-tuned on that generator's glyphs as the refining stage does, with an adversarial term whose
  discriminator takes the setting's blur (``off``: no adversarial term, the product's default).

All are measured on the same held-out characters as benchmarks/font_quality.py (the base's own
held-out set, drawn with seed 0), which no run trains on.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.blur_ablation import measure, store
from benchmarks.blur_ablation.settings import OFF, REFINER_ADVERSARIAL_WEIGHT, Cell, discriminator_for, slug
from benchmarks.common import machine
from zi2zi import __version__
from zi2zi import checkpoints as ckpt
from zi2zi.bases import refiner_for_base, resolve_base
from zi2zi.config import Config, load_config
from zi2zi.data import layout, render_dataset
from zi2zi.finetune import finetune, recipe_for
from zi2zi.finetune.inputs import held_out_chars
from zi2zi.finetune.run import base_holdout
from zi2zi.fonts import FontFile, resolve_charset
from zi2zi.fonts.corpus import corpus_font
from zi2zi.fonts.font import open_font_spec
from zi2zi.generation import base_source_font
from zi2zi.refine.runtime import GlyphRefiner
from zi2zi.refine.train import AdversarialTerm
from zi2zi.refine.tune import RefinerTuning
from zi2zi.storage import write_json
from zi2zi.training import TrainOptions, train
from zi2zi.training.rundir import FINETUNE_KIND, is_run

# Bump when what a run does or what is measured of it changes: every stored run is then redone.
HARNESS_VERSION = 1
SCRATCH_PRESET = "cpu-small"
SCRATCH_VAL_FRACTION = 0.02  # validation pairs for the loss/val curves (held-out characters excluded)
GRID_CHARS = 12
LINE_CHARS = 8  # characters set at 150 px per exported font
REFINER_FILE = "refiner.safetensors"
GENERATOR_DONE = "generator.json"  # a refiner-place generator's marker: its recipe and what it made
# What every finished run leaves behind, committed (see store.py); the report is drawn from it alone.
LEDGER = Path("benchmarks/reports/blur-ablation/runs")


def digest(chars: list[str]) -> str:
    return hashlib.sha256("".join(chars).encode()).hexdigest()[:12]


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


@dataclass
class Budget:
    """The choices of one invocation that define runs (everything else is fixed by the code)."""

    train_glyphs: int = 200  # N of the fine-tunes
    holdout: int = 300  # held-out characters measured (as benchmarks/font_quality.py)
    limit_chars: int = 0  # smoke runs: at most this many characters anywhere (0: no limit)
    finetune_steps: int | None = None  # None: the recipe's budget for N
    scratch_steps: int = 3000
    refiner_weight: float = REFINER_ADVERSARIAL_WEIGHT  # the refiner place's adversarial weight

    def cap(self, n: int) -> int:
        return min(n, self.limit_chars) if self.limit_chars > 0 else n


@dataclass
class FontSetup:
    """One evaluation font: its held-out characters, the fine-tunes' training glyphs, and (for the
    from-scratch runs) every other glyph it shares with the source font."""

    name: str
    spec: str
    font: FontFile
    held: list[str]
    train: list[str]  # the fine-tunes' N glyphs
    every: list[str]  # the from-scratch runs' glyphs

    @property
    def grid_chars(self) -> list[str]:
        pick = np.linspace(0, len(self.held) - 1, min(GRID_CHARS, len(self.held))).astype(int)
        return [self.held[i] for i in pick]

    @property
    def line_chars(self) -> str:
        """The held-out characters the report sets at 150 px in each exported font."""
        return "".join(self.held[:LINE_CHARS])


def scratch_config(seed: int, steps: int, *, amp: str, checkpoint_every: int, keep_last: int,
                   eval_every: int) -> Config:
    """The from-scratch runs' config (the benchmarks that train from scratch share it): the
    ``SCRATCH_PRESET`` preset for exactly ``steps`` steps, no time limit and no sample sheets."""
    cfg = load_config(SCRATCH_PRESET)
    t = cfg.train
    t.max_steps, t.max_minutes, t.seed, t.amp = steps, 0.0, seed, amp
    t.checkpoint_every, t.keep_last, t.eval_every, t.sample_every = checkpoint_every, keep_last, eval_every, 0
    return cfg.validate()


class Context:
    """The base model, its source font and the fonts, found once per invocation. Nothing is
    written until a cell runs (a dry run and a report only read)."""

    def __init__(self, work: Path, budget: Budget, base: str = "base-64", ledger: Path = LEDGER) -> None:
        self.work, self.budget, self.ledger = work, budget, ledger
        self.base_path = resolve_base(base)
        self._fonts: dict[str, FontSetup] = {}

    @cached_property
    def loaded(self):
        return ckpt.load_checkpoint(self.base_path)

    @cached_property
    def source(self) -> FontFile:
        return base_source_font(self.loaded.data_info, _say)

    @cached_property
    def refiner(self) -> GlyphRefiner | None:
        path = refiner_for_base(self.base_path)
        return GlyphRefiner(path) if path is not None else None

    def font(self, name: str) -> FontSetup:
        if name not in self._fonts:
            spec = corpus_font(name).spec
            font = open_font_spec(spec)
            cap = self.budget.cap
            # benchmarks/font_quality.py's held-out characters: what `zi2zi finetune --holdout 300` holds out.
            held = held_out_chars(font, self.source, base_holdout=base_holdout(self.loaded), n=self.budget.holdout,
                                  seed=0)[: cap(self.budget.holdout)]
            held_set = set(held)
            # As benchmarks/few_shot.py: the first N glyphs of GB2312 level 1 the font has.
            train = [c for c in resolve_charset("gb2312-1") if c not in held_set and font.covers(c)]
            every = [c for c in resolve_charset("gb2312")
                     if c not in held_set and font.covers(c) and self.source.covers(c)]
            self._fonts[name] = FontSetup(name, spec, font, held, train[: cap(self.budget.train_glyphs)],
                                          every[: cap(len(every))])
        return self._fonts[name]

    def _dataset(self, f: FontSetup, kind: str, chars: list[str], *, holdout: list[str], val_fraction: float) -> Path:
        """A dataset of ``chars`` rendered as the base renders, shared by every cell that needs it."""
        out = self.work / "data" / slug(f.name) / f"{kind}-{digest(chars)}"
        if not layout.is_dataset(out):
            render_dataset(source=self.source, targets=[f.spec], style_names=[f.name], chars=chars, out=out,
                           settings=self.loaded.render, holdout_chars=holdout, val_fraction=val_fraction, seed=0,
                           workers=1, overwrite=True)
        return out

    def eval_data(self, f: FontSetup) -> Path:
        """The held-out characters alone: what every run of the font is measured on."""
        return self._dataset(f, "eval", f.held, holdout=f.held, val_fraction=0.0)

    def scratch_data(self, f: FontSetup) -> Path:
        return self._dataset(f, "scratch", f.every, holdout=[], val_fraction=SCRATCH_VAL_FRACTION)

    # ---- recipes -------------------------------------------------------------------------------

    def _common(self, cell: Cell, f: FontSetup) -> dict[str, Any]:
        return {"harness": HARNESS_VERSION, "zi2zi": __version__, "place": cell.place, "font": cell.font,
                "setting": cell.setting, "sigma": cell.sigma, "seed": cell.seed,
                "held_out": {"n": len(f.held), "digest": digest(f.held)}, "limit_chars": self.budget.limit_chars}

    def finetune_recipe(self, cell: Cell) -> dict[str, Any]:
        f = self.font(cell.font)
        recipe = recipe_for(len(f.train), steps=self.budget.finetune_steps, discriminator="fresh")
        d = discriminator_for(self.loaded.config.model.discriminator, cell.setting, cell.sigma, recipe.steps)
        return {**self._common(cell, f), "steps": recipe.steps, "discriminator": asdict(d),
                "base": {"name": self.base_path.stem, "step": self.loaded.step},
                "refine": True, "refiner": self.refiner.fingerprint if self.refiner else None,
                "finetune": recipe.to_dict(), "train_glyphs": {"n": len(f.train), "digest": digest(f.train)}}

    def scratch_config(self, cell: Cell) -> Config:
        steps = self.budget.scratch_steps
        # fp32 on every machine, as the fine-tuning runs; four checkpoints for the held-out learning
        # curve, twenty validations for the val curve.
        cfg = scratch_config(cell.seed, steps, amp="none", checkpoint_every=max(1, steps // 4), keep_last=5,
                             eval_every=max(1, steps // 20))
        cfg.model.discriminator = discriminator_for(cfg.model.discriminator, cell.setting, cell.sigma, steps)
        return cfg.validate()

    def scratch_recipe(self, cell: Cell) -> dict[str, Any]:
        f = self.font(cell.font)
        return {**self._common(cell, f), "steps": self.budget.scratch_steps, "preset": SCRATCH_PRESET,
                "config": self.scratch_config(cell).to_dict(), "refine": False,
                "glyphs": {"n": len(f.every), "digest": digest(f.every), "val_fraction": SCRATCH_VAL_FRACTION}}

    def refiner_tuning(self, cell: Cell) -> RefinerTuning:
        tuning = RefinerTuning()
        if cell.setting == OFF:
            return tuning
        d = discriminator_for(AdversarialTerm().discriminator, cell.setting, cell.sigma, tuning.steps)
        return RefinerTuning(adversarial=AdversarialTerm(weight=self.budget.refiner_weight, discriminator=d))

    def generator_recipe(self, cell: Cell) -> dict[str, Any]:
        """What defines a refiner-place cell's generator (shared by every setting of its font and seed)."""
        f = self.font(cell.font)
        recipe = recipe_for(len(f.train), steps=self.budget.finetune_steps)
        return {"harness": HARNESS_VERSION, "zi2zi": __version__, "font": cell.font, "seed": cell.seed,
                "steps": recipe.steps, "base": {"name": self.base_path.stem, "step": self.loaded.step},
                "finetune": recipe.to_dict(), "train_glyphs": {"n": len(f.train), "digest": digest(f.train)},
                "limit_chars": self.budget.limit_chars}

    def refiner_recipe(self, cell: Cell) -> dict[str, Any]:
        f = self.font(cell.font)
        if self.refiner is None:
            raise SystemExit(f"blur ablation: the base {self.base_path.stem} has no refiner; the refiner place needs one")
        return {**self._common(cell, f), "generator": self.generator_recipe(cell), "refine": True,
                "refiner": self.refiner.fingerprint, "tuning": asdict(self.refiner_tuning(cell))}

    def recipe(self, cell: Cell) -> dict[str, Any]:
        make = {"finetune": self.finetune_recipe, "scratch": self.scratch_recipe, "refiner": self.refiner_recipe}
        return json.loads(json.dumps(make[cell.place](cell)))  # as it reads back from recipe.json

    def state(self, cell: Cell) -> str:
        return store.state(self.work / cell.key, self.ledger / cell.key, self.recipe(cell))

    def stored(self, cell: Cell) -> dict[str, Any] | None:
        return store.stored_results(self.ledger / cell.key, self.recipe(cell))

    # ---- running -------------------------------------------------------------------------------

    def run(self, cell: Cell) -> dict[str, Any]:
        """The cell's results: stored ones when its recipe is unchanged, else trained and measured."""
        folder, ledger = self.work / cell.key, self.ledger / cell.key
        recipe = self.recipe(cell)
        now = store.state(folder, ledger, recipe)
        if now == "done":
            return store.stored_results(ledger, recipe)  # type: ignore[return-value]
        resume = now == "unfinished" and cell.place == "scratch"
        print(f"[ablation] {cell.key}: {'resuming' if resume else 'recipe changed, redoing' if now == 'changed' else 'training'}",
              flush=True)
        store.begin(folder, recipe, keep=resume)
        f = self.font(cell.font)
        family = f"zi2zi blur {cell.place} {cell.label} {cell.seed}"
        if cell.place == "refiner":
            trained = self._refiner(cell, folder)
            figures = measure.measure_refined(
                trained["checkpoint"], folder / REFINER_FILE, real=f.font, chars=f.held, style=trained["style"],
                folder=folder, render=self.loaded.render, classifier=self.classifier(f), line_chars=f.line_chars,
                family=family)
            files = [folder / measure.LINE_FONT]
        else:
            trained = self._finetune(cell, folder) if cell.place == "finetune" else self._scratch(cell, folder, resume)
            figures = measure.measure(trained["checkpoint"], run_dir=folder / "run", evald=self.eval_data(f),
                                      real=f.font, chars=f.held, style=trained["style"], refine=recipe["refine"],
                                      folder=folder, grid_chars=f.grid_chars, line_chars=f.line_chars, family=family)
            files = [folder / measure.SAMPLES, folder / measure.LINE_FONT]
        extra = {k: trained[k] for k in ("generator", "generator_seconds") if k in trained}
        results = store.finish(ledger, recipe, {
            "machine": machine(), "steps": trained["steps"], "sittings": trained["sittings"],
            "train_seconds": round(sum(s["seconds"] for s in trained["sittings"]), 1), **extra, **figures},
            files=files)
        h = results["held_out"]["overall"]
        print(f"[ablation] {cell.key}: held-out L1 {h['l1']:.4f} SSIM {h['ssim']:.4f}, "
              f"{results['train_seconds'] / 60:.1f} min training", flush=True)
        return results

    def _timed(self, folder: Path, fn) -> tuple[Any, list[dict[str, Any]]]:
        """Run ``fn`` and record the sitting's wall time, finished or not (a kill records nothing)."""
        started, finished = time.perf_counter(), False
        try:
            out = fn()
            finished = getattr(out, "stopped", "completed") == "completed"
            return out, store.add_sitting(folder, time.perf_counter() - started, machine(), finished)
        except BaseException:
            store.add_sitting(folder, time.perf_counter() - started, machine(), False)
            raise

    def _finetune(self, cell: Cell, folder: Path) -> dict[str, Any]:
        f = self.font(cell.font)
        recipe = recipe_for(len(f.train), steps=self.budget.finetune_steps, discriminator="fresh")
        d = discriminator_for(self.loaded.config.model.discriminator, cell.setting, cell.sigma, recipe.steps)
        summary, sittings = self._timed(folder, lambda: finetune(
            self.base_path, folder / "run", target=f.spec, chars="text:" + "".join(f.train), holdout=0,
            steps=self.budget.finetune_steps, discriminator="fresh", discriminator_config=d, style_name=f.name,
            # fp32 everywhere: bf16 is the fine-tuning default on some CPUs, but it is measured only
            # without a discriminator, and every run of the ablation must compute alike.
            seed=cell.seed, overwrite=True, progress=False, echo=_say, refine=True, amp="none"))
        if summary.step < summary.recipe.steps or summary.checkpoint is None or summary.refiner is None:
            raise SystemExit(f"blur ablation: {cell.key} stopped at step {summary.step} of {summary.recipe.steps} "
                             "(or made no refiner); nothing stored for it, run again to redo it")
        return {"checkpoint": summary.checkpoint, "style": summary.style, "steps": summary.step, "sittings": sittings}

    def classifier(self, f: FontSetup):
        """The glyph classifier of ``f``'s held-out characters (trained once, cached in the work folder)."""
        from zi2zi.fonts.corpus import classifier_fonts
        from zi2zi.metrics.classifier import get_classifier

        fonts = [open_font_spec(spec) for spec in classifier_fonts()]
        return get_classifier(f.held, fonts, cache_dir=self.work / "classifier", render=self.loaded.render)

    def generator(self, cell: Cell) -> dict[str, Any]:
        """The refiner place's generator for ``cell``'s font and seed: fine-tuned once (no
        discriminator, no refining stage), then reused by every setting."""
        f = self.font(cell.font)
        folder = self.work / "refiner" / slug(cell.font) / f"generator-seed{cell.seed}"
        recipe = json.loads(json.dumps(self.generator_recipe(cell)))
        done = store.read_json(folder / GENERATOR_DONE)
        if isinstance(done, dict) and done.get("recipe") == recipe and Path(done["checkpoint"]).is_file():
            return done
        print(f"[ablation] refiner/{slug(cell.font)}/generator-seed{cell.seed}: fine-tuning the generator", flush=True)
        started = time.perf_counter()
        summary = finetune(self.base_path, folder / "run", target=f.spec, chars="text:" + "".join(f.train), holdout=0,
                           steps=self.budget.finetune_steps, style_name=f.name, seed=cell.seed, overwrite=True,
                           progress=False, echo=_say, refine=False, amp="none")  # fp32, as every run here
        if summary.step < summary.recipe.steps or summary.checkpoint is None:
            raise SystemExit(f"blur ablation: the generator for {cell.key} stopped at step {summary.step}; run again")
        done = {"recipe": recipe, "run": str(folder / "run"), "checkpoint": str(summary.checkpoint),
                "style": summary.style, "steps": summary.step,
                "seconds": round(time.perf_counter() - started, 1), "machine": machine()}
        write_json(folder / GENERATOR_DONE, done)
        return done

    def _refiner(self, cell: Cell, folder: Path) -> dict[str, Any]:
        from zi2zi.finetune.refining import refining_pairs
        from zi2zi.generation import GlyphGenerator
        from zi2zi.refine.tune import tune_refiner

        made = self.generator(cell)
        checkpoint = Path(made["checkpoint"])
        generator = GlyphGenerator(checkpoint, device="cpu", refine=False, amp="none")
        record = FINETUNE_KIND.read_marker(Path(made["run"]))
        assert self.refiner is not None  # refiner_recipe refused a base without one
        pairs, _ = refining_pairs(record, generator, self.refiner.size)
        tuning = self.refiner_tuning(cell)
        path, sittings = self._timed(folder, lambda: tune_refiner(
            self.refiner, generator, generator.style(made["style"]), pairs=pairs, out=folder / REFINER_FILE,
            tuning=tuning, seed=cell.seed))
        # The generator's fingerprint: settings are compared only on runs that share it (a lost work
        # folder retrains the generator, which then differs).
        return {"checkpoint": checkpoint, "style": made["style"], "steps": tuning.steps, "sittings": sittings,
                "generator": generator.fingerprint, "generator_seconds": made["seconds"]}

    def _scratch(self, cell: Cell, folder: Path, resume: bool) -> dict[str, Any]:
        f = self.font(cell.font)
        data, run = self.scratch_data(f), folder / "run"
        resume = resume and is_run(run) and ckpt.latest_resumable(run) is not None
        summary, sittings = self._timed(folder, lambda: train(TrainOptions(
            data=data, out=run, config=self.scratch_config(cell), resume=resume, overwrite=not resume,
            progress=False, echo=_say, resume_hint="run the ablation again to resume it")))
        if summary.stopped != "completed" or summary.last_checkpoint is None:
            raise SystemExit(f"blur ablation: {cell.key} stopped at step {summary.step}; run again to resume it")
        # The last checkpoint, not the best by validation: every setting gets the same budget.
        return {"checkpoint": summary.last_checkpoint, "style": f.name, "steps": summary.step, "sittings": sittings}
