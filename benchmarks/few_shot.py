"""The few-shot report: a new font from N glyphs, fine-tuned from a shipped base, against scratch.

For each evaluation font (never seen by any base) and each N, three models are trained and all are
measured on the same held-out characters (taken from the base's own held-out set, so unseen in
content as well as style):

- ``finetune``: ``zi2zi finetune --base BASE`` on the first N glyphs of GB2312 level 1 the font has,
  with the step budget the recipe gives for N;
- ``scratch``: the same architecture from random weights on the same N glyphs, same steps;
- ``full``: from random weights on every GB2312 glyph the font has (held-out ones excepted) for
  ``--full-steps`` steps (one per font). It stands for 30 minutes of training: 4000 steps at batch 32
  is what 30 minutes buys on two idle cores (the step runs at about 76 images/s there). The budget is
  steps so that a busy machine gives the same model; the report gives the wall time it took.

The N-glyph cells of every font run first, then the long ``full`` runs, so that the timed fine-tunes
are done before the hours of baselines. Writes ``benchmarks/reports/few-shot.md`` and sample grids
beside it. Every cell is stored in ``--work`` as it finishes, so the report can be built over several
sittings; run it again to go on.

    python -m benchmarks.few_shot                                  # the committed configuration
    python -m benchmarks.few_shot --fonts "AR PL UKai CN" --sizes 200 --holdout 100 --full-steps 0
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.common import machine
from zi2zi import checkpoints as ckpt
from zi2zi.config import Config, RenderSettings, with_runtime_defaults
from zi2zi.data import GlyphDataset, render_dataset
from zi2zi.finetune import finetune, recipe_for
from zi2zi.finetune.recipe import DISCRIMINATORS
from zi2zi.fonts import FontFile, resolve_charset
from zi2zi.fonts.corpus import EVALUATION, corpus_font
from zi2zi.fonts.font import open_font_spec
from zi2zi.generation import GlyphGenerator, base_source_font, generated_glyphs
from zi2zi.metrics.evaluate import evaluate
from zi2zi.reporting import comparison_grid, markdown_table
from zi2zi.storage.atomic import write_json
from zi2zi.training import TrainOptions, train
from zi2zi.training.rundir import is_run, latest_resumable

HEADLINE = ["l1", "ssim", "ink_iou", "content_accuracy", "frechet"]
KINDS = ("finetune", "scratch")
GRID_CHARS = 20
TARGET_N, TARGET_MINUTES, TARGET_ACCURACY = 200, 5.0, 0.97


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="base-64")
    p.add_argument("--fonts", nargs="+", default=[f.name for f in EVALUATION], help="evaluation font names")
    p.add_argument("--sizes", nargs="+", type=int, default=[50, 200, 1000], help="training glyph counts N")
    p.add_argument("--holdout", type=int, default=500, help="held-out characters per font")
    p.add_argument("--full-steps", type=int, default=4000, help="step budget of the all-glyphs run (0: skip it)")
    p.add_argument("--steps", type=int, help="override every step budget (smoke runs only)")
    p.add_argument("--discriminator", choices=DISCRIMINATORS, help="override the recipe's discriminator")
    p.add_argument("--work", default="few-shot-work")
    p.add_argument("--report", default="benchmarks/reports/few-shot.md")
    return p.parse_args()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()


def held_out_chars(base_meta: dict, font, source, n: int) -> str:
    pool = [c for c in base_meta.get("base", {}).get("holdout", "") if font.covers(c) and source.covers(c)]
    return "".join(pool[:n])


def training_chars(font, held: str, n: int) -> str:
    held_set = set(held)
    return "".join([c for c in resolve_charset("gb2312-1") if c not in held_set and font.covers(c)][:n])


def eval_dataset(work: Path, name: str, font_spec: str, source, render: RenderSettings, held: str) -> Path:
    """Every model of a font is measured on this one dataset: only held-out characters."""
    out = work / _slug(name) / "eval-data"
    if not (out / "manifest.json").is_file():
        render_dataset(
            source=source,
            targets=[font_spec],
            style_names=[name],
            chars=list(held),
            out=out,
            settings=render,
            holdout_chars=list(held),
            val_fraction=0.0,
            workers=1,
        )
    return out


def measure(checkpoint: Path | None, data: Path, seconds: float, steps: int, budget: int) -> dict:
    # A run stopped early (Ctrl-C, a signal) returns normally; its model must not become a cell.
    if steps < budget or checkpoint is None:
        raise SystemExit(
            f"few-shot: a run stopped at step {steps} of {budget}; nothing stored for it, run again to go on"
        )
    res = evaluate(checkpoint, data, "holdout")
    out = {
        "model": res["results"]["model"]["overall"],
        "baseline": res["results"]["baseline"]["overall"],
        "real": res["results"].get("real", {}).get("overall", {}),
        "classifier": res["classifier"],
        "seconds": round(seconds, 1),
        "steps": steps,
        "checkpoint": str(checkpoint),
    }
    return out


def cell(path: Path, make, recipe: dict | None = None) -> dict:
    """The stored result at ``path``, or ``make()``'s, stored. ``recipe``: the settings the cell
    depends on (the fine-tuning recipe, a step budget); a cell measured under others is measured
    again rather than reported as this one's."""
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        if recipe is None or stored.get("recipe") == recipe:
            return stored
        print(f"[few-shot] {path.name}: measured with another recipe, measuring again", flush=True)
    result = make()
    if recipe is not None:
        result["recipe"] = recipe
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, result)  # atomic: a sitting cut short leaves no half-written cell
    return result


def run_finetune(base_path: Path, run: Path, spec: str, chars: str, name: str, args, evald: Path, *,
                 refine: bool = True) -> dict:
    t0 = time.perf_counter()
    s = finetune(
        base_path,
        run,
        target=spec,
        chars="text:" + chars,
        holdout=0,
        steps=args.steps,
        discriminator=args.discriminator,
        style_name=name,
        overwrite=True,
        progress=False,
        refine=refine,
    )
    return measure(s.checkpoint, evald, time.perf_counter() - t0, s.step, s.recipe.steps)


def run_scratch(base_config: Config, data: Path, run: Path, recipe, n_chars: int, evald: Path) -> dict:
    cfg = with_runtime_defaults(base_config)
    cfg.train.max_steps, cfg.train.batch_size = recipe.steps, min(recipe.batch_size, n_chars)
    cfg.train.eval_every = cfg.train.sample_every = 0
    cfg.train.checkpoint_every = recipe.steps
    t0 = time.perf_counter()
    s = train(TrainOptions(data=data, out=run, config=cfg, overwrite=True, progress=False))
    return measure(s.last_checkpoint, evald, time.perf_counter() - t0, s.step, recipe.steps)


@dataclass
class FontSetup:
    """One evaluation font, ready to train on: its held-out characters and the dataset they form."""

    name: str
    spec: str
    font: FontFile
    source: FontFile
    held: str
    evald: Path
    folder: Path


def setup_font(args, name: str, loaded, meta: dict, work: Path) -> FontSetup:
    source = base_source_font(loaded.data_info, print)
    spec = corpus_font(name).spec
    font = open_font_spec(spec)
    held = held_out_chars(meta, font, source, args.holdout)
    evald = eval_dataset(work, name, spec, source, loaded.render, held)
    return FontSetup(name, spec, font, source, held, evald, work / _slug(name))


def run_cells(args, f: FontSetup, loaded, base_path: Path) -> dict:
    cells = {}
    for n in args.sizes:
        chars = training_chars(f.font, f.held, n)
        recipe = recipe_for(len(chars), steps=args.steps, discriminator=args.discriminator)
        fine = partial(run_finetune, base_path, f.folder / f"ft-{n}", f.spec, chars, f.name, args, f.evald)
        # The same N glyphs the fine-tuning saw, from random weights.
        scratch = partial(
            run_scratch,
            loaded.config,
            f.folder / f"ft-{n}" / "data",
            f.folder / f"scratch-{n}",
            recipe,
            len(chars),
            f.evald,
        )
        cells[f"finetune-{n}"] = cell(f.folder / f"finetune-{n}.json", fine, recipe.to_dict())
        # Scratch depends on the recipe's budget only, not on how the base is fine-tuned.
        budget = {"steps": recipe.steps, "batch_size": recipe.batch_size}
        cells[f"scratch-{n}"] = cell(f.folder / f"scratch-{n}.json", scratch, budget)
        print(
            f"[few-shot] {f.name} N={n}: fine-tuned SSIM {cells[f'finetune-{n}']['model']['ssim']:.3f}, "
            f"scratch {cells[f'scratch-{n}']['model']['ssim']:.3f}",
            flush=True,
        )
    return cells


def run_full(args, f: FontSetup, loaded) -> dict:
    def full() -> dict:
        data = f.folder / "full-data"
        if not (data / "manifest.json").is_file():
            held = set(f.held)
            every = [c for c in resolve_charset("gb2312") if f.font.covers(c) and c not in held]
            render_dataset(
                source=f.source,
                targets=[f.spec],
                style_names=[f.name],
                chars=every,
                out=data,
                settings=loaded.render,
                val_fraction=0.02,
            )
        cfg = with_runtime_defaults(loaded.config)
        cfg.train.max_steps, cfg.train.max_minutes = args.full_steps, 0
        cfg.train.checkpoint_every = args.full_steps // 4
        cfg.train.schedule = "constant"
        run = f.folder / "full"
        # A run cut short by the end of a sitting goes on from its last checkpoint; the reported time is
        # then that of the last sitting only, which the report says.
        resume = latest_resumable(run) is not None if is_run(run) else False
        t0 = time.perf_counter()
        s = train(TrainOptions(data=data, out=run, config=cfg, resume=resume, overwrite=not resume, progress=False))
        result = measure(s.last_checkpoint, f.evald, time.perf_counter() - t0, s.step, args.full_steps)
        result["resumed"] = resume
        return result

    result = cell(f.folder / "full.json", full, {"steps": args.full_steps})
    print(f"[few-shot] {f.name} full: SSIM {result['model']['ssim']:.3f}", flush=True)
    return result


def write_grid(f: FontSetup, results: dict, args) -> None:
    name = f.name
    data = GlyphDataset(f.evald, "holdout")
    pick = np.linspace(0, len(data) - 1, min(GRID_CHARS, len(data))).astype(int)
    chars = [chr(int(cp)) for cp in data.codepoints[pick]]
    columns = [data.sources[pick]]
    for key in [
        f"finetune-{args.sizes[1] if len(args.sizes) > 1 else args.sizes[0]}",
        f"scratch-{args.sizes[1] if len(args.sizes) > 1 else args.sizes[0]}",
        "full",
    ]:
        if key in results["cells"]:
            model = GlyphGenerator(results["cells"][key]["checkpoint"], device="cpu")
            style = next(s for s in model.styles if s.name == name)
            # The font-making chain's glyph stage (where a refiner acts), in one batch as before.
            [(_, images)] = generated_glyphs(model, style=style, source=f.source, chars=chars, batch_size=len(chars))
            columns.append(images)
    columns.append(data.targets[pick])
    out = Path(args.report).with_suffix("") / f"{_slug(name)}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    comparison_grid(columns, per_row=5).save(out)


def target_lines(all_results: dict) -> list[str]:
    """The targets for a fine-tune from TARGET_N glyphs, checked against the measured cells."""
    rows = []
    for name, res in all_results.items():
        ft, full = res["cells"].get(f"finetune-{TARGET_N}"), res["cells"].get("full")
        if ft is None:
            continue
        minutes, acc, ssim = ft["seconds"] / 60, ft["model"]["content_accuracy"], ft["model"]["ssim"]
        full_ssim = full["model"]["ssim"] if full else None
        rows.append(
            [
                name,
                f"{minutes:.1f} ({'met' if minutes <= TARGET_MINUTES else 'not met'})",
                f"{acc:.1%} ({'met' if acc >= TARGET_ACCURACY else 'not met'})",
                f"{ssim:.3f} vs {_fmt(full_ssim)}"
                + ("" if full_ssim is None else f" ({'met' if ssim >= full_ssim else 'not met'})"),
            ]
        )
    return [
        f"## Targets: {TARGET_N} glyphs",
        "",
        f"At most {TARGET_MINUTES} minutes of fine-tuning on 2 cores, content accuracy at least "
        f"{TARGET_ACCURACY:.0%}, SSIM at least that of `full`.",
        "",
        markdown_table(["font", "minutes", "content accuracy", "SSIM vs full"], rows),
        "",
    ]


def comparison_lines(all_results: dict, sizes: list[int]) -> list[str]:
    """Fine-tuned against scratch with the same glyphs and steps, per N over the fonts."""
    rows = []
    for n in sizes:
        pairs = [
            (r["cells"][f"finetune-{n}"]["model"], r["cells"][f"scratch-{n}"]["model"])
            for r in all_results.values()
            if f"finetune-{n}" in r["cells"] and f"scratch-{n}" in r["cells"]
        ]
        if not pairs:
            continue
        ssim = [ft["ssim"] - sc["ssim"] for ft, sc in pairs]
        frechet = [ft["frechet"] - sc["frechet"] for ft, sc in pairs]
        rows.append(
            [
                n,
                f"{sum(d > 0 for d in ssim)} of {len(pairs)}",
                f"{np.mean(ssim):+.3f}",
                f"{sum(d < 0 for d in frechet)} of {len(pairs)}",
                f"{np.mean(frechet):+.1f}",
                f"{min(ft['content_accuracy'] for ft, _ in pairs):.1%} / {min(sc['content_accuracy'] for _, sc in pairs):.1%}",
            ]
        )
    if not rows:
        return []
    return [
        "## Fine-tuned against scratch (same glyphs, same steps)",
        "",
        "Differences are fine-tuned minus scratch, averaged over the fonts: higher SSIM and lower "
        "Frechet distance are better.",
        "",
        markdown_table(
            [
                "N",
                "SSIM ahead",
                "mean SSIM difference",
                "Frechet ahead",
                "mean Frechet difference",
                "lowest content accuracy (fine-tuned / scratch)",
            ],
            rows,
        ),
        "",
    ]


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def write_report(args, all_results: dict, base_path: Path) -> None:
    meta = ckpt.read_metadata(base_path)
    m = machine()
    n_mid = args.sizes[1] if len(args.sizes) > 1 else args.sizes[0]
    lines = [
        "# Few-shot: a new font from N glyphs",
        "",
        f"Base `{base_path.stem}` ({meta['config']['model']['image_size']} px, {meta.get('step')} steps). "
        f"Measured on {m['cpu']}, {m['cores']} cores, torch {m['torch']}; `python -m benchmarks.few_shot`.",
        "Every figure is on held-out characters that neither the base nor the new style ever trained on. "
        "`finetune`: from the base with the recipe's step budget for N (zi2zi.finetune.recipe); `scratch`: "
        "random weights, same glyphs and steps; `full`: random weights, every GB2312 glyph of the font, "
        f"{args.full_steps} steps (what 30 minutes buys on two idle cores). `source` is the trivial baseline "
        "(the source glyph as the prediction). Minutes are wall clock for rendering and training, "
        "evaluation excluded.",
        "",
    ]
    if TARGET_N in args.sizes:
        lines += target_lines(all_results)
    lines += comparison_lines(all_results, args.sizes)
    for name, res in all_results.items():
        rows = []
        for key, r in res["cells"].items():
            minutes = f"{r['seconds'] / 60:.1f}" + (" (last sitting)" if r.get("resumed") else "")
            rows.append([key, r["steps"], minutes] + [_fmt(r["model"].get(k)) for k in HEADLINE])
        any_cell = next(iter(res["cells"].values()), None)
        if any_cell:
            rows.append(["source (baseline)", "-", "-"] + [_fmt(any_cell["baseline"].get(k)) for k in HEADLINE])
            rows.append(["real glyphs", "-", "-", "-", "-", "-", _fmt(any_cell["real"].get("content_accuracy")), "-"])
        lines += [
            f"## {name} ({res['held']} held-out characters)",
            "",
            markdown_table(["model", "steps", "minutes"] + HEADLINE, rows),
            "",
            f"![{name}](few-shot/{_slug(name)}.png)",
            "",
            f"Columns: source | fine-tuned (N={n_mid}) | scratch (N={n_mid}) | full | real.",
            "",
        ]
        clf = any_cell["classifier"] if any_cell else None
        if clf:
            lines.append(f"Classifier: reads an unseen font ({clf['holdout_font']}) at {clf['holdout_accuracy']:.1%}.")
            lines.append("")
    Path(args.report).write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    args = parse_args()
    from zi2zi.bases import resolve_base

    base_path = resolve_base(args.base)
    work = Path(args.work)
    meta = ckpt.read_metadata(base_path)
    loaded = ckpt.load_checkpoint(base_path)
    fonts = [setup_font(args, name, loaded, meta, work) for name in args.fonts]
    all_results: dict[str, dict] = {
        f.name: {"held": len(f.held), "cells": run_cells(args, f, loaded, base_path)} for f in fonts
    }
    if args.full_steps > 0:
        for f in fonts:
            all_results[f.name]["cells"]["full"] = run_full(args, f, loaded)
    for f in fonts:
        write_grid(f, all_results[f.name], args)
    write_report(args, all_results, base_path)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
