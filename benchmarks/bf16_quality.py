"""Does bf16 training cost quality? Training in fp32 and in bf16, seeds apart, measured alike.

Two places where a user trains:

- ``finetune``: for each evaluation font (never seen by the base) and each seed, ``zi2zi finetune`` from the
shipped base on its default 200 glyphs with ``--amp none`` (fp32) and ``--amp bf16``, everything
else the command's defaults except the refining stage, which is left out: it trains the refiner on
the target glyphs alone, in fp32 either way, so it would add the same minutes to both and nothing
to tell them apart. Each generator is measured on the same held-out characters (the base's own
held-out set): held-out L1, SSIM and Frechet distance at 64 px (``zi2zi.metrics.evaluate``), and
the exported font (held-out glyphs generated, traced to TTF, rendered back) with the measures of
``zi2zi.metrics.font_quality`` and the glyph classifier. Wall time of the generator's training is
recorded per run; nothing else runs beside it when the figures are taken.
- ``scratch``: ``zi2zi train`` with the ``cpu-small`` preset from random weights on every GB2312
  glyph of one evaluation font (the blur ablation's from-scratch data: its held-out characters
  left out), ``--scratch-steps`` steps, the preset's defaults otherwise; its last checkpoint is
  measured as the fine-tunes are. An unfinished run starts over (it takes minutes, not hours).

Each finished cell (its figures, machine and recipe) is stored as a small JSON file in a committed
ledger (``--ledger``, default ``benchmarks/reports/bf16-quality/cells``), so the report rebuilds
from it on any machine and a cell is run again only when its recipe changed (the base, the
training characters, the fine-tune's or the preset's recipe, the held-out count); the runs themselves stay in
``--work``.

bf16 counts as equal when, for every measure, the difference of the two precisions' means over
seeds lies within the spread of the fp32 seeds (their max - min); the report says per measure.

    python -m benchmarks.bf16_quality                              # 3 fonts + 1 from scratch, x 3 seeds x 2 precisions
    python -m benchmarks.bf16_quality --fonts "AR PL UKai CN" --seeds 1 --holdout 100
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.blur_ablation import runs as ablation_runs
from benchmarks.common import machine
from benchmarks.font_quality import _slug, content_accuracy
from zi2zi import checkpoints as ckpt
from zi2zi.bases import resolve_base
from zi2zi.config import Config, RenderSettings
from zi2zi.data.layout import read_manifest
from zi2zi.device import cpu_has_bf16
from zi2zi.export import export_font
from zi2zi.finetune import finetune
from zi2zi.finetune.recipe import DEFAULT_CHARSET, DEFAULT_TRAIN_CHARS, recipe_for
from zi2zi.fonts import open_font
from zi2zi.fonts.corpus import EVALUATION, classifier_fonts, corpus_font
from zi2zi.fonts.font import open_font_spec
from zi2zi.generation import GlyphGenerator, generate_to_folder
from zi2zi.metrics.classifier import get_classifier
from zi2zi.metrics.evaluate import evaluate
from zi2zi.metrics.font_quality import font_quality
from zi2zi.reporting import markdown_table
from zi2zi.storage.atomic import write_json, write_text
from zi2zi.storage.reading import read_json_object
from zi2zi.training import TrainOptions, train
from zi2zi.training.rundir import read_run_info

PLACES = ("finetune", "scratch")
PRECISIONS = ("none", "bf16")
SCRATCH_PRESET = ablation_runs.SCRATCH_PRESET
HELD_OUT = ["l1", "ssim", "frechet"]
EXPORTED = ["identified", "shape_iou", "edge_f", "contours_off", "content_accuracy"]
LOWER_IS_BETTER = {"l1", "frechet", "contours_off", "train_s"}
LEDGER = Path("benchmarks/reports/bf16-quality/cells")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="base-64")
    p.add_argument("--places", nargs="+", choices=PLACES, default=list(PLACES))
    p.add_argument("--fonts", nargs="+", default=[f.name for f in EVALUATION], help="evaluation fonts fine-tuned")
    p.add_argument("--scratch-font", default=EVALUATION[0].name, help="the one evaluation font trained from scratch")
    p.add_argument("--scratch-steps", type=int, default=1500, help="steps of the from-scratch runs")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--holdout", type=int, default=300, help="held-out characters measured")
    p.add_argument("--work", default="bf16-quality-work", help="the runs (not committed)")
    p.add_argument("--ledger", type=Path, default=LEDGER, help="each finished cell's figures (committed)")
    p.add_argument("--report", default="benchmarks/reports/bf16-quality.md")
    p.add_argument("--report-only", action="store_true", help="rebuild the report from the stored cells; train nothing")
    return p.parse_args()


def finetune_cell(base_path: Path, name: str, seed: int, amp: str, holdout: int, folder: Path,
                  classifier_cache: Path) -> dict:
    t0 = time.perf_counter()
    summary = finetune(base_path, folder / "run", target=corpus_font(name).spec, holdout=holdout, style_name=name,
                       seed=seed, amp=amp, refine=False, overwrite=True, progress=False)
    train_s = time.perf_counter() - t0
    if summary.step < summary.recipe.steps or summary.checkpoint is None:
        raise SystemExit(f"bf16-quality: the fine-tune of {name} stopped early; run again")
    manifest = read_manifest(summary.data_dir)
    src = manifest["source"]["font"]
    figures = measure(summary.checkpoint, summary.data_dir, style=summary.style, name=name,
                      chars=list(manifest["split"]["holdout"]), source=open_font(src["path"], src.get("face", 0)),
                      folder=folder, classifier_cache=classifier_cache, family=f"zi2zi {name} {amp} {seed}")
    return {"font": name, "seed": seed, "amp": amp, "train_s": round(train_s, 1), "steps": summary.step,
            "precision_recorded": _recorded_precision(summary.run_dir), "machine": machine(), **figures}


def scratch_config(seed: int, amp: str, steps: int) -> Config:
    # One checkpoint and one validation, at the end: what is measured is the last checkpoint.
    return ablation_runs.scratch_config(seed, steps, amp=amp, checkpoint_every=steps, keep_last=1, eval_every=steps)


def scratch_cell(ctx: ablation_runs.Context, name: str, seed: int, amp: str, steps: int, folder: Path,
                 classifier_cache: Path) -> dict:
    f = ctx.font(name)
    data, evald = ctx.scratch_data(f), ctx.eval_data(f)  # rendered before the clock starts
    t0 = time.perf_counter()
    summary = train(TrainOptions(data=data, out=folder / "run", config=scratch_config(seed, amp, steps),
                                 overwrite=True, progress=False))
    train_s = time.perf_counter() - t0
    if summary.stopped != "completed" or summary.last_checkpoint is None:
        raise SystemExit(f"bf16-quality: the from-scratch run of {name} stopped at step {summary.step}; run again")
    figures = measure(summary.last_checkpoint, evald, style=name, name=name, chars=f.held, source=ctx.source,
                      folder=folder, classifier_cache=classifier_cache, family=f"zi2zi scratch {name} {amp} {seed}")
    return {"font": name, "seed": seed, "amp": amp, "train_s": round(train_s, 1), "steps": summary.step,
            "precision_recorded": _recorded_precision(folder / "run"), "machine": machine(), **figures}


def measure(checkpoint: Path, evald: Path, *, style: str, name: str, chars: list[str], source, folder: Path,
            classifier_cache: Path, family: str) -> dict:
    """Held-out figures at 64 px and those of the exported font rendered back, for one checkpoint."""
    held = evaluate(checkpoint, evald, "holdout", cache_dir=classifier_cache)
    overall = held["results"]["model"]["overall"]
    # Drawn in fp32 for both precisions: the cell compares how the generator was trained.
    model = GlyphGenerator(checkpoint, device="cpu", refine=False, amp="none")
    glyphs = folder / "glyphs"
    if glyphs.exists():  # this benchmark's own folder from an earlier sitting
        shutil.rmtree(glyphs)
    generate_to_folder(model, style=model.style(style), source=source, chars=chars, out=glyphs)
    ttf = folder / "font.ttf"
    export_font(glyphs, ttf, family=family, overwrite=True)
    font = open_font(str(ttf), 0)
    real = open_font_spec(corpus_font(name).spec)
    figures = font_quality(font, real, chars).summary()
    render = model.render_settings
    clf = get_classifier(chars, [open_font_spec(s) for s in classifier_fonts()], cache_dir=classifier_cache,
                         render=RenderSettings(size=render.size))
    figures["content_accuracy"] = content_accuracy(clf, font, chars, render)
    return {**{k: overall.get(k) for k in HELD_OUT}, **{k: figures.get(k) for k in EXPORTED}}


def _recorded_precision(run_dir: Path) -> str | None:
    """The precision the trainer recorded in the run (what it actually used)."""
    return read_run_info(run_dir).get("precision")


def summarise(cells: list[dict], fonts: list[str]) -> tuple[list[list], dict[str, bool]]:
    """Rows per font and measure (fp32 mean, bf16 mean, difference, fp32 seeds' spread) and, per
    measure, whether bf16 stays within the spread on every font."""
    rows, equal = [], {}
    for key in [*HELD_OUT, *EXPORTED, "train_s"]:
        for name in fonts:
            values = {amp: [c[key] for c in cells if c["font"] == name and c["amp"] == amp and c[key] is not None]
                      for amp in PRECISIONS}
            if not all(values.values()):
                continue
            fp32, bf16 = np.mean(values["none"]), np.mean(values["bf16"])
            spread = float(np.ptp(values["none"])) if len(values["none"]) > 1 else float("nan")
            within = bool(abs(bf16 - fp32) <= spread) if np.isfinite(spread) else False
            if key != "train_s":
                equal[key] = equal.get(key, True) and within
            rows.append([key, name, f"{fp32:.4g}", f"{bf16:.4g}", f"{bf16 - fp32:+.3g}",
                         f"{spread:.3g}" if np.isfinite(spread) else "-", "yes" if within else "no"])
    return rows, equal


def _timing(cells: list[dict]) -> list[str]:
    """Median training time per precision, per (CPU, thread count): wall times compare only within
    one (a sitting may run this beside other work with one thread per process)."""
    timing = []
    for cpu, threads in sorted({(c["machine"]["cpu"], c["machine"]["threads"]) for c in cells}):
        speed = {amp: [c["train_s"] for c in cells
                       if c["amp"] == amp and (c["machine"]["cpu"], c["machine"]["threads"]) == (cpu, threads)]
                 for amp in PRECISIONS}
        if all(speed.values()):
            fp32, bf16 = np.median(speed["none"]), np.median(speed["bf16"])
            timing.append(f"{cpu}, {threads} thread(s), {len(speed['none'])} + {len(speed['bf16'])} runs: "
                          f"fp32 {fp32:.1f} s, bf16 {bf16:.1f} s (**{fp32 / bf16:.2f}x**)")
    return timing


def _verdict(equal: dict[str, bool]) -> str:
    if not equal:
        return "not measured yet"
    if all(equal.values()):
        return "bf16 is equal to fp32 within the fp32 seeds' spread on every measure"
    return "bf16 differs from fp32 by more than the fp32 seeds' spread on: " + ", ".join(k for k, ok in equal.items() if not ok)


def _section(title: str, what: str, timed: str, cells: list[dict], fonts: list[str]) -> list[str]:
    rows, equal = summarise(cells, fonts)
    stored = ", ".join(f"{amp} {sum(c['amp'] == amp for c in cells)}" for amp in PRECISIONS)
    return [
        f"## {title}",
        "",
        what + f" Runs stored: {stored}. Recorded precision of the runs: "
        + ", ".join(sorted({f"{c['amp']} -> {c['precision_recorded']}" for c in cells})) + ".",
        "",
        f"**Verdict: {_verdict(equal)}.** Wall time of {timed}, median over runs: " + "; ".join(_timing(cells)) + ".",
        "",
        "Per font, means over seeds; spread = max - min of the fp32 seeds; lower is better for "
        + ", ".join(sorted(LOWER_IS_BETTER)) + ".",
        "",
        markdown_table(["measure", "font", "fp32", "bf16", "bf16 - fp32", "fp32 spread", "within"], rows),
        "",
        "Every run:",
        "",
        markdown_table(["font", "seed", "precision", "cpu", "threads", "train s", *HELD_OUT, *EXPORTED],
                       [[c["font"], c["seed"], c["amp"], c["machine"]["cpu"], c["machine"]["threads"], c["train_s"],
                         *[_fmt(c[k]) for k in HELD_OUT + EXPORTED]]
                        for c in cells]),
        "",
    ]


def write_report(path: Path, cells: dict[str, list[dict]], args: argparse.Namespace) -> None:
    everything = [c for place in cells.values() for c in place]
    m = everything[0]["machine"] if everything else machine()
    cpus = sorted({c["machine"]["cpu"] for c in everything}) or [m["cpu"]]
    lines = [
        "# bf16 against fp32 training (`benchmarks/bf16_quality.py`)",
        "",
        f"Measured on {' and '.join(cpus)}, {m['cores']} cores, torch {m['torch']}; {args.seeds} seeds x fp32 "
        f"(`--amp none`, `train.amp=none`) and bf16, {args.holdout} held-out characters (unseen by the base too), "
        "the same measures for both: held-out L1, SSIM and Frechet distance at 64 px, and the exported font "
        "(held-out glyphs drawn in fp32, traced to TTF, rendered back against the real font).",
        "",
    ]
    if cells.get("finetune"):
        lines += _section(
            "Fine-tuning the shipped base", f"{len(args.fonts)} evaluation fonts, the fine-tuning command's defaults "
            "without the refining stage (it is fp32 either way).",
            "the fine-tuning command (its dataset, 600 steps and evaluations)", cells["finetune"], args.fonts)
    if cells.get("scratch"):
        lines += _section(
            "Training from scratch", f"The `{SCRATCH_PRESET}` preset from random weights on every GB2312 glyph of "
            f"{args.scratch_font} but the held-out ones, {args.scratch_steps} steps (batch 32, the preset's cosine "
            "schedule over them), its defaults otherwise; the last checkpoint measured.",
            f"`zi2zi train` ({args.scratch_steps} steps and one validation)", cells["scratch"], [args.scratch_font])
    write_text(path, "\n".join(lines))


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def main() -> None:
    args = parse_args()
    if not cpu_has_bf16() and not args.report_only:  # a report from stored cells needs no bf16
        raise SystemExit("bf16-quality: this CPU has neither AVX-512 BF16 nor AMX; bf16 would be emulated here")
    base_path = resolve_base(args.base)
    work = Path(args.work)
    classifier_cache = work / "classifier"
    common = {"base": base_path.stem, "base_step": ckpt.read_metadata(base_path).get("step"), "holdout": args.holdout}
    recipes = {"finetune": {**common, "refine": False, "charset": DEFAULT_CHARSET,
                            "finetune": recipe_for(DEFAULT_TRAIN_CHARS).to_dict()}}
    ctx = ablation_runs.Context(work, ablation_runs.Budget(holdout=args.holdout), base=args.base)
    if "scratch" in args.places:
        f = ctx.font(args.scratch_font)
        recipes["scratch"] = {**common, "preset": SCRATCH_PRESET, "steps": args.scratch_steps,
                              "glyphs": {"n": len(f.every), "digest": ablation_runs.digest(f.every)},
                              "held_out": ablation_runs.digest(f.held)}
    cells: dict[str, list[dict]] = {place: [] for place in args.places}
    for seed in range(args.seeds):  # seed by seed: a sitting cut short still compares like with like
        for place in args.places:
            for name in (args.fonts if place == "finetune" else [args.scratch_font]):
                for amp in PRECISIONS:
                    where = Path(_slug(name)) if place == "finetune" else Path("scratch") / _slug(name)
                    folder, stored_path = work / where / f"seed{seed}-{amp}", args.ledger / where / f"seed{seed}-{amp}.json"
                    stored = read_json_object(stored_path, what="bf16-quality cell") if stored_path.is_file() else None
                    recipe = recipes[place] if place == "finetune" else {
                        **recipes[place], "config": scratch_config(seed, amp, args.scratch_steps).to_dict()}
                    recipe = json.loads(json.dumps(recipe))  # as it reads back from the ledger
                    if stored is None or stored.get("recipe") != recipe:
                        if args.report_only:
                            continue
                        print(f"[bf16-quality] {place} {name} seed {seed} {amp}", flush=True)
                        if place == "finetune":
                            cell = finetune_cell(base_path, name, seed, amp, args.holdout, folder, classifier_cache)
                        else:
                            cell = scratch_cell(ctx, name, seed, amp, args.scratch_steps, folder, classifier_cache)
                        stored = {**cell, "recipe": recipe}
                        write_json(stored_path, stored)
                    cells[place].append(stored)
    write_report(Path(args.report), cells, args)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
