"""Measuring one trained run, character by character, and keeping only what the report needs.

Two views of the same held-out characters (never trained on, unseen by the base too):

- the generator's own 64 px glyphs, what the discriminator shaped: held-out L1, SSIM and ink IoU per
  glyph, content accuracy per glyph (the glyph classifier), the share of grey pixels per glyph (how
  soft it is), and the Frechet distance of the set (zi2zi.metrics.evaluate); the same at the
  run's earlier checkpoints, for how fast it learnt;
- the font a user would get from the run (the product's path: for a fine-tune with the run's
  refiner, zi2zi.fontmaking.font_from_model), rendered back and measured against the real font per
  character: identification, shape IoU, edge F, contours off (zi2zi.metrics.font_quality).

A run of the refiner place shares its generator with the other settings, so what it changes is
the refined glyph: its held-out L1, SSIM and content accuracy are those of the refined glyphs
area-averaged to the generator's size (:func:`refined_figures`), beside the same font measures.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont
from PIL import Image

from zi2zi import checkpoints as ckpt
from zi2zi.config import RenderSettings
from zi2zi.data import GlyphDataset
from zi2zi.data.layout import glyph_filename
from zi2zi.fontmaking import font_from_model
from zi2zi.fonts import FontFile, Renderer, open_font
from zi2zi.generation import GlyphGenerator
from zi2zi.images import read_grey, resize_glyph
from zi2zi.metrics.evaluate import evaluate
from zi2zi.metrics.font_quality import font_quality
from zi2zi.metrics.pixel import l1, ssim
from zi2zi.reporting import read_metrics
from zi2zi.storage import atomic_path
from zi2zi.training.rundir import CONFIG_FILE

SAMPLES, FONT, GLYPHS = "samples.png", "font.ttf", "glyphs"
LINE_FONT = "line.ttf"  # the exported font cut to the report's line of characters: kilobytes, committed
CURVE_KEYS = ("kind", "step", "g_loss", "d_loss", "g_gan", "l1", "val_l1", "val_ssim", "d_blur_sigma")


def grey_fraction(images: np.ndarray) -> list[float]:
    """Per glyph, the share of pixels that are neither paper nor ink (uint8 (B, S, S)): a soft,
    blurred glyph has many, a crisp one only its edges."""
    x = images.astype(np.float64) / 255.0
    return ((x > 0.1) & (x < 0.9)).mean(axis=(1, 2)).tolist()


def _by_char(chars: list[str], **columns: list[float] | None) -> dict[str, Any]:
    return {"char": list(chars), **{k: list(v) for k, v in columns.items() if v is not None}}


def held_out_figures(checkpoint: Path, evald: Path, *, classifier: bool) -> dict[str, Any]:
    """Held-out figures of one checkpoint, overall and per glyph."""
    ev = evaluate(checkpoint, evald, "holdout", classifier=classifier, per_glyph=True)
    model = ev["results"]["model"]
    per = model["per_glyph"]
    keep = ("l1", "ssim", "ink_iou", "content_accuracy")
    return {
        "step": ev["step"],
        "overall": model["overall"],
        "baseline": ev["results"]["baseline"]["overall"],
        "real": ev["results"].get("real", {}).get("overall", {}),
        "classifier": ev["classifier"],
        "per_char": _by_char(per["char"], **{k: per.get(k) for k in keep}),
    }


def learning_curve(run_dir: Path, final: Path, evald: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Held-out L1 and SSIM at every kept checkpoint before ``final``, and the per-glyph figures
    of the one nearest half the budget (None when the run kept none before the end)."""
    final_step = int(ckpt.read_metadata(final)["step"])
    # The checkpoints of the schedule only: a run stopped and resumed also saved one where it stopped.
    every = int(json.loads((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))["train"]["checkpoint_every"])
    earlier = [p for p in ckpt.list_checkpoints(run_dir)
               if (step := int(ckpt.read_metadata(p)["step"])) < final_step and every > 0 and step % every == 0]
    curve, figures = [], {}
    for path in earlier:
        f = held_out_figures(path, evald, classifier=False)
        figures[path] = f
        curve.append({"step": f["step"], "l1": f["overall"]["l1"], "ssim": f["overall"]["ssim"]})
    if not earlier:
        return curve, None
    half = min(earlier, key=lambda p: abs(2 * int(ckpt.read_metadata(p)["step"]) - final_step))
    f = figures[half]
    return curve, {"step": f["step"], "per_char": f["per_char"]}


def _save_strip(images: np.ndarray, out: Path) -> None:
    with atomic_path(out) as tmp:
        Image.fromarray(np.hstack(list(images))).save(tmp, format="PNG")


def generator_glyphs(checkpoint: Path, evald: Path, style: str, grid_chars: list[str], folder: Path) -> dict[str, Any]:
    """The generator's 64 px glyphs of the held-out characters: grey share per glyph, and the grid
    characters kept as one strip (``samples.png``) so the report needs no model."""
    model = GlyphGenerator(checkpoint, device="cpu", refine=False, amp="none")  # fp32, as every run trains
    data = GlyphDataset(evald, "holdout")
    images = model.generate(data.sources, model.style(style))
    chars = data.characters
    index = {c: i for i, c in enumerate(chars)}
    _save_strip(images[[index[c] for c in grid_chars]], folder / SAMPLES)
    return {"per_char": _by_char(chars, grey=grey_fraction(images)), "real_grey": float(np.mean(grey_fraction(data.targets)))}


def subset_font(font: Path, chars: str, out: Path) -> None:
    """``font`` with only the glyphs of ``chars``, atomically at ``out``."""
    options = Options()
    options.name_IDs = ["*"]
    with TTFont(font) as tt, atomic_path(out) as tmp:
        subsetter = Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(tt)
        tt.save(tmp)


def exported_font(checkpoint: Path, *, style: str, chars: list[str], real: FontFile, folder: Path, refine: bool,
                  family: str, line_chars: str, refiner: Path | None = None) -> dict[str, Any]:
    """The run's glyphs of ``chars`` exported as a font (``font.ttf``) the product's way and
    measured on the font file against ``real``; ``line_chars`` of it kept as ``line.ttf``.
    ``refiner``: refine through this file rather than the run's own refiner."""
    # fp32, as every run trains
    model = GlyphGenerator(checkpoint, device="cpu", refine=refine, refiner=refiner, amp="none")
    if refine and model.refiner is None:
        raise SystemExit(f"blur ablation: {checkpoint} has no refiner, but the recipe refines")
    glyphs = folder / GLYPHS
    if glyphs.exists():  # this cell's own folder from an interrupted measurement
        shutil.rmtree(glyphs)
    made = font_from_model(model, style=model.style(style), chars=chars, glyphs=glyphs, out=folder / FONT,
                           family=family, overwrite=True, echo=lambda m: print(f"  {m}", file=sys.stderr))
    if made.font is None:
        raise SystemExit(f"blur ablation: {checkpoint} generated none of the held-out characters")
    quality = font_quality(open_font(made.font), real, chars)
    subset_font(made.font, line_chars, folder / LINE_FONT)
    return {
        "summary": quality.summary(),
        "missing": quality.missing,
        "glyph_size": model.output_render.size,
        "per_char": _by_char(quality.chars, identified=[float(x) for x in quality.identified],
                             shape_iou=quality.shape_iou, edge_f=quality.edge_f,
                             contours_off=[float(x) for x in quality.contours_off]),
    }


def refined_figures(glyphs: Path, real: FontFile, chars: list[str], render: RenderSettings, classifier) -> dict[str, Any]:
    """The refined glyphs of ``glyphs`` (a glyph folder) area-averaged to the generator's size,
    against the real glyph rendered as the datasets render it: L1, SSIM and content accuracy (the
    glyph ``classifier``) per character."""
    renderer = Renderer(real, render)
    kept, pred, target = [], [], []
    for c in chars:
        truth, path = renderer.render(c), glyphs / glyph_filename(c)
        if truth is None or not path.is_file():
            continue
        kept.append(c)
        pred.append(resize_glyph(read_grey(path), render.size))
        target.append(truth)
    if not kept:
        raise SystemExit(f"blur ablation: {glyphs} holds none of the held-out characters")

    def unit(images: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(images)).float().div(255.0).unsqueeze(1)

    p, t = unit(pred), unit(target)
    l1s, ssims = l1(p, t).tolist(), ssim(p, t).tolist()
    labels = classifier.class_indices([ord(c) for c in kept])
    correct = (classifier.predict(p) == labels).double().tolist()
    overall = {"l1": float(np.mean(l1s)), "ssim": float(np.mean(ssims)), "content_accuracy": float(np.mean(correct))}
    return {"overall": overall, "classifier": classifier.info,
            "per_char": _by_char(kept, l1=l1s, ssim=ssims, content_accuracy=correct)}


def measure_refined(checkpoint: Path, refiner: Path, *, real: FontFile, chars: list[str], style: str, folder: Path,
                    render: RenderSettings, classifier, line_chars: str, family: str) -> dict[str, Any]:
    """Everything measured of one run of the refiner place: the font through ``refiner`` and its
    refined glyphs at the generator's size."""
    started = time.perf_counter()
    font = exported_font(checkpoint, style=style, chars=chars, real=real, folder=folder, refine=True, family=family,
                         line_chars=line_chars, refiner=refiner)
    held = refined_figures(folder / GLYPHS, real, chars, render, classifier)
    return {"held_out": held, "font": font, "curves": {"rows": [], "late_d_loss": None},
            "measure_seconds": round(time.perf_counter() - started, 1)}


def training_curves(run_dir: Path) -> dict[str, Any]:
    """The run's logged losses and validation figures (what the report plots), and D's mean loss
    over the last quarter of training (BCE real + fake: 1.386 when D cannot tell)."""
    rows = [{k: r[k] for k in CURVE_KEYS if k in r} for r in read_metrics(run_dir)
            if r.get("kind") in ("train", "eval", "baseline")]
    train = [r for r in rows if r["kind"] == "train" and "d_loss" in r]
    late = train[int(len(train) * 0.75):]
    return {"rows": rows, "late_d_loss": float(np.mean([r["d_loss"] for r in late])) if late else None}


def slim(run_dir: Path, final: Path) -> None:
    """A measured run is never resumed: its training states and earlier checkpoints go (a
    fine-tune keeps about 100 MB of them); the final weights stay, to measure again or look at."""
    for path in ckpt.list_checkpoints(run_dir):
        ckpt.state_path(path).unlink(missing_ok=True)
        if path != final:
            path.unlink(missing_ok=True)
    (run_dir / ckpt.CHECKPOINT_DIR / ckpt.BEST).unlink(missing_ok=True)


def measure(checkpoint: Path, *, run_dir: Path, evald: Path, real: FontFile, chars: list[str], style: str,
            refine: bool, folder: Path, grid_chars: list[str], line_chars: str, family: str) -> dict[str, Any]:
    """Everything measured of one finished run (see the module docstring), with its time."""
    started = time.perf_counter()
    held = held_out_figures(checkpoint, evald, classifier=True)
    curve, half = learning_curve(run_dir, checkpoint, evald)
    glyphs = generator_glyphs(checkpoint, evald, style, grid_chars, folder)
    font = exported_font(checkpoint, style=style, chars=chars, real=real, folder=folder, refine=refine, family=family,
                          line_chars=line_chars)
    curves = training_curves(run_dir)
    slim(run_dir, checkpoint)
    return {
        "checkpoint": str(checkpoint.relative_to(folder)),
        "held_out": held,
        "generator_glyphs": glyphs,
        "learning_curve": curve + [{"step": held["step"], "l1": held["overall"]["l1"], "ssim": held["overall"]["ssim"]}],
        "half_budget": half,
        "font": font,
        "curves": curves,
        "grid_chars": "".join(grid_chars),
        "measure_seconds": round(time.perf_counter() - started, 1),
    }
