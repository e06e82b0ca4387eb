"""Does bf16 training cost quality? Fine-tuning in fp32 and in bf16, seeds apart, measured alike.

For each evaluation font (never seen by the base) and each seed: ``zi2zi finetune`` from the
shipped base on its default 200 glyphs with ``--amp none`` (fp32) and ``--amp bf16``, everything
else the command's defaults except the refining stage, which is left out: it trains the refiner on
the target glyphs alone, in fp32 either way, so it would add the same minutes to both and nothing
to tell them apart. Each generator is measured on the same held-out characters (the base's own
held-out set): held-out L1, SSIM and Frechet distance at 64 px (``zi2zi.metrics.evaluate``), and
the exported font (held-out glyphs generated, traced to TTF, rendered back) with the measures of
``zi2zi.metrics.font_quality`` and the glyph classifier. Wall time of the generator's training is
recorded per run; nothing else runs beside it when the figures are taken.

Each finished cell (its figures, machine and recipe) is stored as a small JSON file in a committed
ledger (``--ledger``, default ``benchmarks/reports/bf16-quality/cells``), so the report rebuilds
from it on any machine and a cell is run again only when its recipe changed (the base, the
training characters, the fine-tune's recipe, the held-out count); the runs themselves stay in
``--work``.

bf16 counts as equal when, for every measure, the difference of the two precisions' means over
seeds lies within the spread of the fp32 seeds (their max - min); the report says per measure.

    python -m benchmarks.bf16_quality                              # 3 fonts x 3 seeds x 2 precisions
    python -m benchmarks.bf16_quality --fonts "AR PL UKai CN" --seeds 1 --holdout 100
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.common import machine
from benchmarks.font_quality import _slug, content_accuracy
from zi2zi import checkpoints as ckpt
from zi2zi.bases import resolve_base
from zi2zi.config import RenderSettings
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
from zi2zi.training.rundir import read_run_info

PRECISIONS = ("none", "bf16")
HELD_OUT = ["l1", "ssim", "frechet"]
EXPORTED = ["identified", "shape_iou", "edge_f", "contours_off", "content_accuracy"]
LOWER_IS_BETTER = {"l1", "frechet", "contours_off", "train_s"}
LEDGER = Path("benchmarks/reports/bf16-quality/cells")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="base-64")
    p.add_argument("--fonts", nargs="+", default=[f.name for f in EVALUATION], help="evaluation font names")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--holdout", type=int, default=300, help="held-out characters measured")
    p.add_argument("--work", default="bf16-quality-work", help="the runs (not committed)")
    p.add_argument("--ledger", type=Path, default=LEDGER, help="each finished cell's figures (committed)")
    p.add_argument("--report", default="benchmarks/reports/bf16-quality.md")
    return p.parse_args()


def run_cell(base_path: Path, name: str, seed: int, amp: str, holdout: int, folder: Path, classifier_cache: Path) -> dict:
    spec = corpus_font(name).spec
    real = open_font_spec(spec)
    t0 = time.perf_counter()
    summary = finetune(base_path, folder / "run", target=spec, holdout=holdout, style_name=name, seed=seed, amp=amp,
                       refine=False, overwrite=True, progress=False)
    train_s = time.perf_counter() - t0
    if summary.step < summary.recipe.steps or summary.checkpoint is None:
        raise SystemExit(f"bf16-quality: the fine-tune of {name} stopped early; run again")
    held = evaluate(summary.checkpoint, summary.data_dir, "holdout", cache_dir=classifier_cache)
    overall = held["results"]["model"]["overall"]
    manifest = read_manifest(summary.data_dir)
    chars = list(manifest["split"]["holdout"])
    src = manifest["source"]["font"]
    source = open_font(src["path"], src.get("face", 0))
    render = RenderSettings(**manifest["render"])
    # Drawn in fp32 for both precisions: the cell compares how the generator was trained.
    model = GlyphGenerator(summary.run_dir, device="cpu", refine=False, amp="none")
    glyphs = folder / "glyphs"
    if glyphs.exists():  # this benchmark's own folder from an earlier sitting
        shutil.rmtree(glyphs)
    generate_to_folder(model, style=model.style(summary.style), source=source, chars=chars, out=glyphs)
    ttf = folder / "font.ttf"
    export_font(glyphs, ttf, family=f"zi2zi {name} {amp} {seed}", overwrite=True)
    font = open_font(str(ttf), 0)
    figures = font_quality(font, real, chars).summary()
    clf = get_classifier(chars, [open_font_spec(s) for s in classifier_fonts()], cache_dir=classifier_cache,
                         render=RenderSettings(size=render.size))
    figures["content_accuracy"] = content_accuracy(clf, font, chars, render)
    return {"font": name, "seed": seed, "amp": amp, "train_s": round(train_s, 1), "steps": summary.step,
            "precision_recorded": _recorded_precision(summary.run_dir), "machine": machine(),
            **{k: overall.get(k) for k in HELD_OUT}, **{k: figures.get(k) for k in EXPORTED}}


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


def write_report(path: Path, cells: list[dict], fonts: list[str], seeds: int, holdout: int) -> None:
    rows, equal = summarise(cells, fonts)
    m = cells[0]["machine"] if cells else machine()
    cpus = sorted({c["machine"]["cpu"] for c in cells}) or [m["cpu"]]
    # Wall times compare only between runs on the same CPU with the same torch thread count (a
    # sitting may run this beside other work with one thread per process).
    timing = []
    for cpu, threads in sorted({(c["machine"]["cpu"], c["machine"]["threads"]) for c in cells}):
        speed = {amp: [c["train_s"] for c in cells
                       if c["amp"] == amp and (c["machine"]["cpu"], c["machine"]["threads"]) == (cpu, threads)]
                 for amp in PRECISIONS}
        if all(speed.values()):
            fp32, bf16 = np.median(speed["none"]), np.median(speed["bf16"])
            timing.append(f"{cpu}, {threads} thread(s), {len(speed['none'])} + {len(speed['bf16'])} runs: "
                          f"fp32 {fp32:.1f} s, bf16 {bf16:.1f} s (**{fp32 / bf16:.2f}x**)")
    verdict = ("bf16 is equal to fp32 within the fp32 seeds' spread on every measure and font"
               if equal and all(equal.values()) else
               "bf16 differs from fp32 by more than the fp32 seeds' spread on: "
               + ", ".join(k for k, ok in equal.items() if not ok))
    lines = [
        "# bf16 against fp32 fine-tuning (`benchmarks/bf16_quality.py`)",
        "",
        f"Measured on {' and '.join(cpus)}, {m['cores']} cores, torch {m['torch']}; {len(fonts)} evaluation fonts x {seeds} seeds "
        f"x fp32 (`--amp none`) and bf16 (`--amp bf16`), the fine-tuning command's defaults without the refining stage "
        f"(it is fp32 either way), {holdout} held-out characters. Recorded precision of the runs: "
        + ", ".join(sorted({f"{c['amp']} -> {c['precision_recorded']}" for c in cells})) + ".",
        "",
        f"**Verdict: {verdict}.** Wall time of the fine-tuning command (its dataset, 600 steps and evaluations), "
        "median over runs: " + "; ".join(timing) + ".",
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
    write_text(path, "\n".join(lines))


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def main() -> None:
    args = parse_args()
    if not cpu_has_bf16():
        raise SystemExit("bf16-quality: this CPU has neither AVX-512 BF16 nor AMX; bf16 would be emulated here")
    base_path = resolve_base(args.base)
    work = Path(args.work)
    recipe = {"base": base_path.stem, "base_step": ckpt.read_metadata(base_path).get("step"), "holdout": args.holdout,
              "refine": False, "charset": DEFAULT_CHARSET, "finetune": recipe_for(DEFAULT_TRAIN_CHARS).to_dict()}
    cells = []
    for seed in range(args.seeds):  # seed by seed: a sitting cut short still compares like with like
        for name in args.fonts:
            for amp in PRECISIONS:
                folder = work / _slug(name) / f"seed{seed}-{amp}"
                stored_path = args.ledger / _slug(name) / f"seed{seed}-{amp}.json"
                stored = read_json_object(stored_path, what="bf16-quality cell") if stored_path.is_file() else None
                if stored is None or stored.get("recipe") != recipe:
                    print(f"[bf16-quality] {name} seed {seed} {amp}", flush=True)
                    stored = {**run_cell(base_path, name, seed, amp, args.holdout, folder, work / "classifier"),
                              "recipe": recipe}
                    write_json(stored_path, stored)
                cells.append(stored)
    write_report(Path(args.report), cells, args.fonts, args.seeds, args.holdout)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
