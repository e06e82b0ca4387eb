"""The blur experiment: where (if anywhere) should the discriminator's Gaussian blur go?

Trains the ``cpu-small`` preset with ``d_blur`` = none, input, layers, output, and input with a
fade, on the same data, seeds and step budget, evaluates each on held-out characters, and writes
``benchmarks/reports/blur-ablation.md`` with every metric (mean and spread over seeds), sample
grids, loss curves, and what the numbers say about each of the seed's three verdicts.

    python -m benchmarks.blur_ablation                 # the committed configuration (~50 min on 2 cores)
    python -m benchmarks.blur_ablation --steps 60 --seeds 1 --report /tmp/quick.md   # a smoke run

Runs already finished in --work are reused (delete the folder or pass --fresh to redo them).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import DEMO_FONT_FILES, machine
from zi2zi.config import RenderSettings, load_config
from zi2zi.data import GlyphDataset, layout, render_dataset
from zi2zi.fonts import resolve_charset
from zi2zi.fonts.corpus import classifier_fonts
from zi2zi.fonts.system import find_font
from zi2zi.generation import GlyphGenerator
from zi2zi.metrics.evaluate import evaluate
from zi2zi.reporting import markdown_table, plot_loss_curves, read_metrics
from zi2zi.training import TrainOptions, train

VARIANTS = {
    "none": ["model.discriminator.blur=none"],
    "input": ["model.discriminator.blur=input"],
    "layers": ["model.discriminator.blur=layers"],
    "output": ["model.discriminator.blur=output"],
    "input-fade": ["model.discriminator.blur=input"],  # + fade steps, set from --steps
}
HEADLINE = ["l1", "rmse", "ssim", "psnr", "ink_iou", "content_accuracy", "frechet"]
SAMPLE_CHARS = 12


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=350, help="training steps per run (same for all)")
    p.add_argument("--seeds", type=int, default=2, help="seeds per variant")
    p.add_argument("--characters", type=int, default=1000, help="first N characters of gb2312-1")
    p.add_argument("--holdout", type=int, default=100)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--work", default="ablation-work", help="dataset, runs and per-run results")
    p.add_argument("--report", default="benchmarks/reports/blur-ablation.md")
    p.add_argument("--fresh", action="store_true", help="discard earlier runs in --work")
    return p.parse_args()


def grey_fraction(images: np.ndarray) -> float:
    """Share of pixels that are neither paper nor ink: a blurriness measure (real glyphs ~ edges only)."""
    x = images.astype(np.float64) / 255.0
    return float(((x > 0.1) & (x < 0.9)).mean())


def run_one(args, data_dir: Path, work: Path, variant: str, seed: int, fonts: list[Path]) -> dict:
    result_path = work / "results" / f"{variant}-seed{seed}.json"
    if result_path.is_file():
        return json.loads(result_path.read_text())
    overrides = VARIANTS[variant] + [f"train.max_steps={args.steps}", f"train.seed={seed}",
                                     f"train.eval_every={max(1, args.steps // 6)}",
                                     f"train.checkpoint_every={args.steps}", "train.sample_every=0"]
    if variant == "input-fade":
        overrides.append(f"model.discriminator.blur_fade_steps={args.steps // 2}")
    config = load_config("cpu-small", overrides=overrides)
    run_dir = work / "runs" / f"{variant}-seed{seed}"
    started = time.perf_counter()
    summary = train(TrainOptions(data=data_dir, out=run_dir, overwrite=True, image_size_from_data=True,
                                 progress=False,
                                 config=config))
    train_seconds = time.perf_counter() - started
    # The last checkpoint, not the best-by-validation one: every variant gets the same budget.
    checkpoint = summary.last_checkpoint
    held = evaluate(checkpoint, data_dir, "holdout", classifier=True, classifier_fonts=fonts)
    model = GlyphGenerator(checkpoint, device="cpu")
    data = GlyphDataset(data_dir, "holdout")
    generated = model.generate(data.sources, [model.styles[0]] * len(data))
    metrics = read_metrics(run_dir)
    train_rows = [r for r in metrics if r.get("kind") == "train"]
    late = train_rows[int(len(train_rows) * 0.75):]
    result = {
        "variant": variant,
        "seed": seed,
        "steps": summary.step,
        "train_seconds": round(train_seconds, 1),
        "img_per_s": round(summary.images_per_second, 1),
        "holdout": held["results"]["model"]["overall"],
        "baseline": held["results"]["baseline"]["overall"],
        "real": held["results"].get("real", {}).get("overall", {}),
        "classifier": held["classifier"],
        "grey_fraction": grey_fraction(generated),
        "grey_fraction_real": grey_fraction(data.targets),
        "late_d_loss": float(np.mean([r["d_loss"] for r in late])) if late else None,
        "late_g_gan": float(np.mean([r["g_gan"] for r in late])) if late else None,
        "val_curve": [(r["step"], r["val_l1"]) for r in metrics if r.get("kind") == "eval"],
        "checkpoint": str(checkpoint),
    }
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.write_text(json.dumps(result, indent=1))
    print(f"[ablation] {variant} seed {seed}: held-out L1 {result['holdout']['l1']:.4f} "
          f"SSIM {result['holdout']['ssim']:.4f} ({train_seconds:.0f} s)", flush=True)
    return result


def mean_spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 with one seed)."""
    arr = np.array([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], float)
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def fmt(mean: float, spread: float, digits: int = 4) -> str:
    return f"{mean:.{digits}f} ± {spread:.{digits}f}"


def _values(results: dict, variant: str, metric: str) -> list[float]:
    """Per-seed values of a held-out metric, or of a per-run figure such as ``grey_fraction``."""
    return [r["holdout"][metric] if metric in r["holdout"] else r[metric] for r in results[variant]]


def compare(results: dict, a: str, b: str, metric: str, higher_is_better: bool) -> tuple[str, float, float]:
    """Variant ``a`` against ``b`` on one figure: better / worse beyond the noise band, or within it.

    The noise band is twice the larger of the two sample standard deviations over seeds. With two
    seeds that is a rough test, and the report says so.
    """
    ma, sa = mean_spread(_values(results, a, metric))
    mb, sb = mean_spread(_values(results, b, metric))
    diff = ma - mb
    noise = 2 * max(sa, sb)
    if min(len(results[a]), len(results[b])) < 2:
        return "undecided (one seed, no spread)", diff, noise
    if abs(diff) <= noise:
        return "within noise", diff, noise
    gain = diff if higher_is_better else -diff
    return ("better" if gain > 0 else "worse"), diff, noise


def _said(results: dict, a: str, b: str, metric: str, higher_is_better: bool, digits: int = 4) -> str:
    verdict, diff, noise = compare(results, a, b, metric, higher_is_better)
    return f"{metric} {verdict} ({diff:+.{digits}f}, noise band ±{noise:.{digits}f})"


def sample_grid(results: dict, data_dir: Path, out: Path) -> Path:
    """Rows: source, target, then each variant (seed 0) on the same held-out characters."""
    data = GlyphDataset(data_dir, "holdout")
    pick = np.arange(min(SAMPLE_CHARS, len(data)))
    rows = [("source", data.source_batch(pick)), ("target", data.targets[pick])]
    for variant, runs in results.items():
        model = GlyphGenerator(runs[0]["checkpoint"], device="cpu")
        rows.append((variant, model.generate(data.source_batch(pick), [model.styles[0]] * len(pick))))
    cell, label_w = 64, 90
    sheet = Image.new("L", (label_w + cell * len(pick), cell * len(rows)), 255)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(sheet)
    for r, (label, images) in enumerate(rows):
        draw.text((4, r * cell + cell // 2 - 6), label, fill=0)
        for c, image in enumerate(images):
            sheet.paste(Image.fromarray(image).resize((cell, cell)), (label_w + c * cell, r * cell))
    sheet.save(out)
    return out


def write_report(args, results: dict, data_dir: Path, report: Path, total_seconds: float) -> None:
    assets = report.with_suffix("")  # benchmarks/reports/blur-ablation/
    assets.mkdir(parents=True, exist_ok=True)
    any_run = next(iter(results.values()))[0]
    higher = {"l1": False, "rmse": False, "ssim": True, "psnr": True, "ink_iou": True,
              "content_accuracy": True, "frechet": False}
    metrics = [m for m in HEADLINE if m in any_run["holdout"]]

    header = ["d_blur", *metrics, "grey px", "late D loss", "s/run"]
    rows = []
    for variant, runs in results.items():
        row = [variant]
        for m in metrics:
            row.append(fmt(*mean_spread([r["holdout"].get(m) for r in runs]), digits=2 if m == "frechet" else 4))
        row.append(fmt(*mean_spread([r["grey_fraction"] for r in runs]), digits=3))
        row.append(fmt(*mean_spread([r["late_d_loss"] for r in runs]), digits=3))
        row.append(f"{np.mean([r['train_seconds'] for r in runs]):.0f}")
        rows.append(row)
    base = any_run["baseline"]
    rows.append(["baseline (source glyph)", *[f"{base[m]:.4f}" if base.get(m) is not None else "" for m in metrics],
                 "", "", ""])
    if any_run["real"]:
        rows.append(["real targets", *[f"{any_run['real'].get(m, float('nan')):.4f}" if m in any_run["real"] else ""
                                       for m in metrics], f"{any_run['grey_fraction_real']:.3f}", "", ""])

    curve_rows = []
    for variant, runs in results.items():
        steps = [s for s, _ in runs[0]["val_curve"]]
        means = [np.mean([r["val_curve"][i][1] for r in runs if i < len(r["val_curve"])]) for i in range(len(steps))]
        curve_rows.append([variant, *[f"{v:.4f}" for v in means]])
    curve_header = ["d_blur", *[f"step {s}" for s in steps]]

    plot_loss_curves({v: read_metrics(Path(runs[0]["checkpoint"]).parent.parent) for v, runs in results.items()},
                     assets / "loss-curves.png", title="seed 0 of each variant")
    sample_grid(results, data_dir, assets / "samples.png")

    verdicts = _verdicts(results, higher)
    clf = any_run["classifier"] or {}
    lines = [
        "# The discriminator blur experiment",
        "",
        "Produced by `python -m benchmarks.blur_ablation` (`make ablation`). Do not edit by hand.",
        "",
        f"Setup: `cpu-small` preset, {RenderSettings().mode} renderer at 64 px, AR PL UMing -> AR PL UKai, first "
        f"{args.characters} characters of GB2312 level 1, {args.holdout} of them held out (never trained on), "
        f"{args.steps} steps per run, seeds {list(range(args.seeds))}, the last checkpoint of each run "
        f"(same budget for all). Blur: kernel 5, sigma 1.0 (the seed's values); `input-fade` lets sigma "
        f"fall linearly to 0 over the first {args.steps // 2} steps. Machine: "
        + ", ".join(f"{k} {v}" for k, v in machine().items()) + ". "
        f"Training time summed over runs: {sum(r['train_seconds'] for runs in results.values() for r in runs) / 60:.1f} min; "
        f"this invocation (incl. rendering, classifier and evaluation; runs found in --work are reused): "
        f"{total_seconds / 60:.1f} min.",
        "",
        "## Held-out characters (mean ± sample std over seeds)",
        "",
        markdown_table(header, rows),
        "",
        "L1, RMSE: lower is better; SSIM, PSNR, ink IoU, content accuracy: higher is better; Frechet: lower is "
        "better. `grey px`: share of pixels between paper and ink (blurriness; real glyphs have only their edges). "
        "`late D loss`: mean discriminator loss over the last quarter of training (BCE, real + fake; 1.386 = D "
        "cannot tell). Content accuracy and Frechet distance use zi2zi's glyph classifier trained on "
        f"{', '.join(map(str, clf.get('train_fonts') or []))}; it reads "
        f"{(clf.get('holdout_accuracy') or 0):.1%} of the glyphs of a font it never saw ({clf.get('holdout_font')}).",
        "",
        "## Validation L1 during training (mean over seeds)",
        "",
        markdown_table(curve_header, curve_rows),
        "",
        "## Samples (held-out characters, seed 0)",
        "",
        f"![samples]({assets.name}/samples.png)",
        "",
        "## Loss curves (seed 0)",
        "",
        f"![loss curves]({assets.name}/loss-curves.png)",
        "",
        "## The seed's verdicts, claim by claim",
        "",
        *verdicts,
        "",
        "## Per run",
        "",
        markdown_table(["run", "held-out L1", "SSIM", "content acc.", "img/s"],
                       [[f"{r['variant']} seed {r['seed']}", r["holdout"]["l1"], r["holdout"]["ssim"],
                         r["holdout"].get("content_accuracy", float("nan")), r["img_per_s"]]
                        for runs in results.values() for r in runs]),
        "",
    ]
    report.write_text("\n".join(lines), encoding="utf-8")
    (assets / "results.json").write_text(json.dumps(results, indent=1))


# Held-out figures a default must not lose on; "clearly better" = better beyond the noise band on
# at least two of them and worse on none.
DECIDING = {"l1": False, "ssim": True, "content_accuracy": True}


def _verdicts(results: dict, higher: dict) -> list[str]:
    out = []
    deciding = [m for m in DECIDING if m in results[next(iter(results))][0]["holdout"]]
    if "input" in results and "none" in results:
        verdicts = [compare(results, "input", "none", m, DECIDING[m])[0] for m in deciding]
        summary = ("supported" if verdicts.count("better") >= 2 and "worse" not in verdicts
                   else "not supported at this budget" if "better" not in verdicts else "partly supported")
        out.append(
            "1. **Blur on D's input (\"recommended\": G learns overall structure).** Against no blur: "
            + "; ".join(_said(results, "input", "none", m, DECIDING[m]) for m in deciding)
            + f". Verdict: {summary}."
        )
    if "layers" in results and "none" in results:
        weak = compare(results, "layers", "none", "late_d_loss", True)[0]  # higher D loss = weaker D
        blurry = compare(results, "layers", "none", "grey_fraction", True)[0]  # more grey = blurrier
        out.append(
            "2. **Blur after every D layer (\"D may get too weak; G's output may turn blurry\").** "
            f"Weaker D: {_said(results, 'layers', 'none', 'late_d_loss', True, 3)} "
            f"({'yes' if weak == 'better' else 'not beyond noise' if weak == 'within noise' else 'no, stronger'}). "
            f"Blurrier G: {_said(results, 'layers', 'none', 'grey_fraction', True, 3)} "
            f"({'yes' if blurry == 'better' else 'not beyond noise' if blurry == 'within noise' else 'no, sharper'}). "
            "Quality against no blur: " + "; ".join(_said(results, "layers", "none", m, DECIDING[m]) for m in deciding) + "."
        )
    if "output" in results and "none" in results:
        n = min(len(r["val_curve"]) for runs in (results["output"], results["none"]) for r in runs)
        half = n // 2
        mid_o = mean_spread([r["val_curve"][half][1] for r in results["output"]])
        mid_n = mean_spread([r["val_curve"][half][1] for r in results["none"]])
        step = results["none"][0]["val_curve"][half][0]
        slower = mid_o[0] - mid_n[0] > 2 * max(mid_o[1], mid_n[1])
        out.append(
            "3. **Blur on D's output (\"changes the adversarial loss; G may need longer\").** Validation L1 at "
            f"step {step}: {fmt(*mid_o)} vs {fmt(*mid_n)} without blur "
            f"({'slower beyond noise' if slower else 'not slower beyond noise'}). At the end: "
            + "; ".join(_said(results, "output", "none", m, DECIDING[m]) for m in deciding) + "."
        )
    if "input-fade" in results and "input" in results:
        out.append("4. **Fading the input blur out (StyleGAN3's schedule)** against a constant input blur: "
                   + "; ".join(_said(results, "input-fade", "input", m, DECIDING[m]) for m in deciding) + ".")
    if "input" in results:
        lines = []
        clearly = []
        for variant in results:
            if variant == "input":
                continue
            verdicts = [compare(results, variant, "input", m, DECIDING[m])[0] for m in deciding]
            lines.append(f"`{variant}`: " + ", ".join(f"{m} {v}" for m, v in zip(deciding, verdicts)))
            if verdicts.count("better") >= 2 and "worse" not in verdicts:
                clearly.append(variant)
        out.append(
            "\n**Default.** Rule: another setting replaces `input` only if it is better beyond the noise band on at "
            f"least two of {', '.join(deciding)} (held-out) and worse on none. Against `input`: "
            + "; ".join(lines) + ". "
            + (f"Clearly better: {', '.join(clearly)}." if clearly else
               "No setting is clearly better, so the default stays `d_blur=input`.")
        )
    out.append("\nWith two seeds the spread is a rough estimate; 'within noise' means these runs cannot tell the "
               "settings apart, not that they are equal.")
    return out


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    work = Path(args.work)
    if args.fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    if not layout.is_dataset(data_dir):
        render_dataset(
            source=str(find_font(DEMO_FONT_FILES["source"])), targets=[str(find_font(DEMO_FONT_FILES["target"]))],
            chars=resolve_charset("gb2312-1")[: args.characters], out=data_dir, settings=RenderSettings(size=64),
            holdout=args.holdout, seed=0,
        )
    fonts = classifier_fonts()
    results = {v: [run_one(args, data_dir, work, v, seed, fonts) for seed in range(args.seeds)] for v in args.variants}
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    write_report(args, results, data_dir, report, time.perf_counter() - started)
    print(f"[ablation] report: {report}")


if __name__ == "__main__":
    main()
