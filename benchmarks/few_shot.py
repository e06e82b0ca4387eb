"""The few-shot report: a new font from N glyphs, fine-tuned from a shipped base, against scratch.

For each evaluation font (never seen by any base) and each N, three models are trained and all are
measured on the same held-out characters (taken from the base's own held-out set, so unseen in
content as well as style):

- ``finetune``: ``zi2zi finetune --base BASE`` on the first N glyphs of GB2312 level 1 the font has,
  with the step budget the recipe gives for N;
- ``scratch``: the same architecture from random weights on the same N glyphs, same steps;
- ``full``: from random weights on every GB2312 glyph the font has (held-out ones excepted) for
  ``--full-minutes`` minutes (one per font).

Writes ``benchmarks/reports/few-shot.md`` and sample grids beside it. Every cell is stored in
``--work`` as it finishes, so the report can be built over several sittings; run it again to go on.

    python benchmarks/few_shot.py                                  # the committed configuration
    python benchmarks/few_shot.py --fonts "AR PL UKai CN" --sizes 200 --holdout 100 --full-minutes 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

from zi2zi import checkpoints as ckpt  # noqa: E402
from zi2zi.config import Config, RenderSettings, with_runtime_defaults  # noqa: E402
from zi2zi.data import GlyphDataset, render_dataset  # noqa: E402
from zi2zi.data.build import open_font_spec  # noqa: E402
from zi2zi.finetune import finetune, recipe_for  # noqa: E402
from zi2zi.finetune.inputs import base_source_font  # noqa: E402
from zi2zi.fonts import resolve_charset  # noqa: E402
from zi2zi.fonts.corpus import EVALUATION, corpus_font  # noqa: E402
from zi2zi.inference import GlyphGenerator  # noqa: E402
from zi2zi.metrics.evaluate import evaluate  # noqa: E402
from zi2zi.reporting import comparison_grid, markdown_table  # noqa: E402
from zi2zi.training import TrainOptions, train  # noqa: E402

HEADLINE = ["l1", "ssim", "ink_iou", "content_accuracy", "frechet"]
KINDS = ("finetune", "scratch")
GRID_CHARS = 20


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="base-64")
    p.add_argument("--fonts", nargs="+", default=[f.name for f in EVALUATION], help="evaluation font names")
    p.add_argument("--sizes", nargs="+", type=int, default=[50, 200, 1000], help="training glyph counts N")
    p.add_argument("--holdout", type=int, default=500, help="held-out characters per font")
    p.add_argument("--full-minutes", type=float, default=30.0, help="budget of the all-glyphs run (0: skip it)")
    p.add_argument("--steps", type=int, help="override every step budget (smoke runs only)")
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
        render_dataset(source=source, targets=[font_spec], style_names=[name], chars=list(held), out=out,
                       settings=render, holdout_chars=list(held), val_fraction=0.0, workers=1)
    return out


def measure(checkpoint: Path, data: Path, seconds: float, steps: int) -> dict:
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


def cell(path: Path, make) -> dict:
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    result = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return result


def run_finetune(base_path: Path, run: Path, spec: str, chars: str, name: str, steps: int | None,
                 evald: Path) -> dict:
    t0 = time.perf_counter()
    s = finetune(base_path, run, target=spec, chars="text:" + chars, holdout=0, steps=steps, style_name=name,
                 overwrite=True, progress=False)
    return measure(s.checkpoint, evald, time.perf_counter() - t0, s.step)


def run_scratch(base_config: Config, data: Path, run: Path, recipe, n_chars: int, evald: Path) -> dict:
    cfg = with_runtime_defaults(base_config)
    cfg.train.max_steps, cfg.train.batch_size = recipe.steps, min(recipe.batch_size, n_chars)
    cfg.train.eval_every = cfg.train.sample_every = 0
    cfg.train.checkpoint_every = recipe.steps
    t0 = time.perf_counter()
    s = train(TrainOptions(data=data, out=run, config=cfg, overwrite=True, progress=False))
    return measure(s.last_checkpoint, evald, time.perf_counter() - t0, s.step)


def run_font(args, name: str, base_path: Path, work: Path) -> dict:
    meta = ckpt.read_metadata(base_path)
    loaded = ckpt.load_checkpoint(base_path)
    source = base_source_font(loaded.data_info, print)
    spec = corpus_font(name).spec
    font = open_font_spec(spec)
    held = held_out_chars(meta, font, source, args.holdout)
    evald = eval_dataset(work, name, spec, source, loaded.render, held)
    results: dict = {"held": len(held), "cells": {}}
    folder = work / _slug(name)
    for n in args.sizes:
        chars = training_chars(font, held, n)
        recipe = recipe_for(len(chars), steps=args.steps)
        fine = partial(run_finetune, base_path, folder / f"ft-{n}", spec, chars, name, args.steps, evald)
        # The same N glyphs the fine-tuning saw, from random weights.
        scratch = partial(run_scratch, loaded.config, folder / f"ft-{n}" / "data", folder / f"scratch-{n}",
                          recipe, len(chars), evald)
        results["cells"][f"finetune-{n}"] = cell(folder / f"finetune-{n}.json", fine)
        results["cells"][f"scratch-{n}"] = cell(folder / f"scratch-{n}.json", scratch)
        print(f"[few-shot] {name} N={n}: fine-tuned SSIM {results['cells'][f'finetune-{n}']['model']['ssim']:.3f}, "
              f"scratch {results['cells'][f'scratch-{n}']['model']['ssim']:.3f}", flush=True)
    if args.full_minutes > 0:
        def full() -> dict:
            data = folder / "full-data"
            if not (data / "manifest.json").is_file():
                every = [c for c in resolve_charset("gb2312") if font.covers(c) and c not in set(held)]
                render_dataset(source=source, targets=[spec], style_names=[name], chars=every, out=data,
                               settings=loaded.render, val_fraction=0.02)
            cfg = with_runtime_defaults(loaded.config)
            cfg.train.max_steps, cfg.train.max_minutes = 10**6, args.full_minutes
            cfg.train.schedule = "constant"
            t0 = time.perf_counter()
            s = train(TrainOptions(data=data, out=folder / "full", config=cfg, overwrite=True, progress=False))
            return measure(s.last_checkpoint, evald, time.perf_counter() - t0, s.step)

        results["cells"]["full"] = cell(folder / "full.json", full)
    write_grid(folder, name, evald, results, args)
    return results


def write_grid(folder: Path, name: str, evald: Path, results: dict, args) -> None:
    data = GlyphDataset(evald, "holdout")
    pick = np.linspace(0, len(data) - 1, min(GRID_CHARS, len(data))).astype(int)
    columns = [data.sources[pick]]
    for key in [f"finetune-{args.sizes[1] if len(args.sizes) > 1 else args.sizes[0]}",
                f"scratch-{args.sizes[1] if len(args.sizes) > 1 else args.sizes[0]}", "full"]:
        if key in results["cells"]:
            model = GlyphGenerator(results["cells"][key]["checkpoint"], device="cpu")
            style = next(s for s in model.styles if s.name == name)
            columns.append(model.generate(data.sources[pick], [style] * len(pick)))
    columns.append(data.targets[pick])
    out = Path(args.report).with_suffix("") / f"{_slug(name)}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    comparison_grid(columns, per_row=5).save(out)


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
        f"Measured on {m['cpu']}, {m['cores']} cores, torch {m['torch']}; `python benchmarks/few_shot.py`.",
        "Every figure is on held-out characters that neither the base nor the new style ever trained on. "
        "`finetune`: from the base with the recipe's step budget for N (zi2zi.finetune.recipe); `scratch`: "
        "random weights, same glyphs and steps; `full`: random weights, every GB2312 glyph of the font, "
        f"{args.full_minutes:g} minutes. `source` is the trivial baseline (the source glyph as the prediction).",
        "",
    ]
    for name, res in all_results.items():
        rows = []
        for key, r in res["cells"].items():
            rows.append([key, r["steps"], f"{r['seconds'] / 60:.1f}"] + [_fmt(r["model"].get(k)) for k in HEADLINE])
        any_cell = next(iter(res["cells"].values()), None)
        if any_cell:
            rows.append(["source (baseline)", "-", "-"] + [_fmt(any_cell["baseline"].get(k)) for k in HEADLINE])
            rows.append(["real glyphs", "-", "-", "-", "-", "-", _fmt(any_cell["real"].get("content_accuracy")), "-"])
        lines += [f"## {name} ({res['held']} held-out characters)", "",
                  markdown_table(["model", "steps", "minutes"] + HEADLINE, rows), "",
                  f"![{name}](few-shot/{_slug(name)}.png)", "",
                  f"Columns: source | fine-tuned (N={n_mid}) | scratch (N={n_mid}) | full | real.", ""]
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
    all_results = {name: run_font(args, name, base_path, work) for name in args.fonts}
    write_report(args, all_results, base_path)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
