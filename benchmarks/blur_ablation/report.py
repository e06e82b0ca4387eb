"""The report: tables, verdicts and pictures, written from stored runs alone (nothing trains here).

Every figure and every verdict in it is computed by :mod:`~benchmarks.blur_ablation.analysis`
from the stored results; the sentences around them say what the computation does, never what it
found.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.blur_ablation import analysis as an
from benchmarks.blur_ablation.measure import LINE_FONT, SAMPLES
from benchmarks.blur_ablation.runs import Context
from benchmarks.blur_ablation.settings import KERNEL, OFF, SETTINGS, SIGMA, Cell, slug
from benchmarks.blur_ablation.stats import LEVEL, RESAMPLES, Interval
from zi2zi.fonts import Renderer
from zi2zi.generation.sheet import glyph_row, labelled_rows
from zi2zi.generation.textline import font_lines
from zi2zi.reporting import markdown_table, plot_loss_curves
from zi2zi.storage import atomic_path, write_json, write_text

EARLIER = "blur-ablation-earlier.md"  # the first answer: 350 steps from scratch, beside this report
PLACE_TITLES = {"finetune": "Fine-tuning the base with a fresh discriminator",
                "scratch": "Training from scratch on a whole font",
                "refiner": "Fine-tuning the refiner with an adversarial term"}
COMPARED = ["l1", "ssim", "content_accuracy", "identified", "shape_iou", "edge_f", "contours_off", "grey",
            "l1_half"]


def fmt_interval(iv: Interval | None, digits: int = 4) -> str:
    if iv is None:
        return "-"
    return f"{iv.mean:+.{digits}f} [{iv.low:+.{digits}f}, {iv.high:+.{digits}f}]"


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _save(image: Image.Image, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        image.save(tmp, format="PNG")
    return out


def _first(runs: Sequence[an.Run], place: str, font: str, label: str) -> tuple[Cell, dict[str, Any]] | None:
    """The run of the lowest seed: the one pictures show."""
    found = sorted(((c, r) for c, r in runs if c.place == place and c.font == font and c.label == label),
                   key=lambda cr: cr[0].seed)
    return found[0] if found else None


# ---- pictures ------------------------------------------------------------------------------------


def sample_grid(ctx: Context, runs: Sequence[an.Run], place: str, font: str, labels: list[str], out: Path) -> Path | None:
    """Rows: the source glyph, the real glyph, then each setting's generator (lowest seed) on the
    same held-out characters, at 64 px."""
    f = ctx.font(font)
    render = ctx.loaded.render
    src, real = Renderer(ctx.source, render), Renderer(f.font, render)
    blank = np.full((render.size, render.size), 255, np.uint8)
    grid = f.grid_chars

    def row(r: Renderer) -> Image.Image:
        return glyph_row([g if (g := r.render(c)) is not None else blank for c in grid], cell=render.size)

    rows = [("source", row(src)), ("real", row(real))]
    for label in labels:
        found = _first(runs, place, font, label)
        if found is None or found[1].get("grid_chars") != "".join(grid):
            continue
        cell, _ = found
        strip = np.asarray(Image.open(ctx.ledger / cell.key / SAMPLES).convert("L"))
        rows.append((f"{label} (seed {cell.seed})", glyph_row(np.hsplit(strip, len(grid)), cell=render.size)))
    return _save(labelled_rows(rows), out) if len(rows) > 2 else None


def exported_lines(ctx: Context, runs: Sequence[an.Run], place: str, font: str, labels: list[str], out: Path) -> Path | None:
    """The held-out characters set at 150 px in the real font and in each setting's exported font."""
    f = ctx.font(font)
    lines = [("real font", str(f.font.path), f.font.face_index)]
    for label in labels:
        found = _first(runs, place, font, label)
        if found is not None and (ctx.ledger / found[0].key / LINE_FONT).is_file():
            lines.append((f"{label} (seed {found[0].seed})", str(ctx.ledger / found[0].key / LINE_FONT), 0))
    if len(lines) < 2:
        return None
    return _save(font_lines(lines, f.line_chars, px=150), out)


def curves(runs: Sequence[an.Run], place: str, font: str, labels: list[str], out: Path) -> Path | None:
    chosen = {label: found[1]["curves"]["rows"] for label in labels if (found := _first(runs, place, font, label))}
    if not chosen:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return plot_loss_curves(chosen, out, title=f"{place}, {font}, lowest seed of each setting")


# ---- tables --------------------------------------------------------------------------------------


def comparison_table(runs: Sequence[an.Run], place: str, labels: list[str]) -> tuple[str, dict[str, Any]]:
    header = ["setting", "runs", *[an.BY_NAME[m].label for m in COMPARED], "Frechet (mean ± sd over runs)",
              "beats none"]
    rows, summary = [], {}
    for label in labels:
        n = sum(1 for c, _ in runs if c.place == place and c.label == label)
        frechet = an.set_level(runs, place, label, "frechet")
        fr = "-" if frechet is None else f"{frechet[0]:.2f} ± {frechet[1]:.2f}"
        if label == "none":
            rows.append([label, n, *["(reference)"] * len(COMPARED), fr, "-"])
            continue
        intervals = an.compare(runs, place, label)
        beats, better, worse = an.beats_none(intervals)
        verdict = "yes" if beats else "no" + (f" (worse: {', '.join(worse)})" if worse else "")
        rows.append([label, n, *[fmt_interval(intervals[m]) for m in COMPARED], fr, verdict])
        summary[label] = {"intervals": {k: v.to_dict() if v else None for k, v in intervals.items()},
                          "beats_none": beats, "better": better, "worse": worse}
    return markdown_table(header, rows), summary


def means_table(runs: Sequence[an.Run], place: str, labels: list[str]) -> str:
    header = ["setting", *[an.BY_NAME[m].label for m in COMPARED], "late D loss", "training min / run"]
    rows = []
    for label in labels:
        mine = [r for c, r in runs if c.place == place and c.label == label]
        late = [r["curves"]["late_d_loss"] for r in mine if r["curves"].get("late_d_loss") is not None]
        rows.append([label, *[_fmt(an.mean_of(runs, place, label, an.BY_NAME[m])) for m in COMPARED],
                     _fmt(float(np.mean(late)) if late else None, 3),
                     _fmt(float(np.mean([r["train_seconds"] for r in mine])) / 60 if mine else None, 1)])
    return markdown_table(header, rows)


def claims_table(results: list[an.ClaimResult]) -> str:
    rows = []
    for res in results:
        evidence = "; ".join(f"{an.BY_NAME[m].label} {fmt_interval(iv)} ({said})" for m, said, iv in res.evidence)
        rows.append([res.claim.text, res.claim.seed_row, res.setting, f"**{res.verdict}**", evidence])
    return markdown_table(["claim", "seed's table", "setting", "verdict", "evidence (difference to none [95 % interval])"],
                          rows)


def _minutes(runs: Sequence[an.Run], place: str, label: str) -> str:
    mine = [r["train_seconds"] for c, r in runs if c.place == place and c.label == label and "train_seconds" in r]
    return _fmt(float(np.mean(mine)) / 60 if mine else None, 1)


def default_lines(runs: Sequence[an.Run], place: str, labels: list[str]) -> list[str]:
    """What the place's default should be, from the comparisons: a setting that beats no blur, or
    the cheaper choice (no blur: D runs no blur at all) when none does. In the refiner place the
    adversarial term itself must first beat ``off`` (no discriminator), its default."""
    blurs = [x for x in labels if x not in ("none", OFF)]
    beating = []
    for label in blurs:
        beats, better, _ = an.beats_none(an.compare(runs, place, label))
        if beats:
            beating.append((label, better))
    if not beating:
        blur_line = (f"No blur setting beats no blur beyond its interval in this place, so the cheaper choice "
                     f"stands: `blur=none` (one blur less per D pass). Settings compared: "
                     f"{', '.join(f'`{x}`' for x in blurs)}.")
        best = "none"
    else:
        best, why = an.winner(runs, place)
        listed = "; ".join(f"`{label}` (better on {', '.join(b)})" for label, b in beating)
        blur_line = f"Beat no blur beyond the interval: {listed}. The blur follows the winner, `{best}`: {why}."
    if OFF not in labels:
        return [blur_line]
    # The term with its best blur against none at all; "better" is the term's side here.
    beats, better, worse = an.beats_none(an.compare(runs, place, best, reference=OFF))
    term = f"the adversarial term with `{best}`"
    if beats:
        verdict = (f"Against no discriminator (`{OFF}`), {term} is better on {', '.join(better)} and worse on "
                   "nothing beyond the interval: it pays.")
    else:
        verdict = (f"Against no discriminator (`{OFF}`), {term} is better on {', '.join(better) or 'nothing'} and "
                   f"worse on {', '.join(worse) or 'nothing'} beyond the interval: it does not pay, so the refiner's "
                   f"default stays `{OFF}` (no discriminator; {_minutes(runs, place, OFF)} min of tuning a run "
                   f"against {_minutes(runs, place, best)}).")
    return [verdict, "If the term is used: " + blur_line[0].lower() + blur_line[1:]]


def flattening_table(runs: Sequence[an.Run], place: str, labels: list[str]) -> str:
    rows = []
    for label in labels:
        mine = sorted(((c, r) for c, r in runs if c.place == place and c.label == label), key=lambda cr: cr[0].seed)
        shares = [an.flattening(r["curves"]["rows"]) for _, r in mine]
        curve = [r["learning_curve"] for _, r in mine]
        steps = [p["step"] for p in curve[0]] if curve else []
        l1 = [np.mean([c[i]["l1"] for c in curve if i < len(c)]) for i in range(len(steps))]
        rows.append([label, ", ".join("-" if s is None else f"{s:.0%}" for s in shares),
                     " / ".join(f"{s}: {v:.4f}" for s, v in zip(steps, l1))])
    return markdown_table(["setting", "share of the val-L1 gain made in the last quarter (per seed)",
                           "held-out L1 at each checkpoint (mean over seeds)"], rows)


def runs_table(runs: Sequence[an.Run]) -> str:
    rows = []
    for cell, r in runs:
        m, h = r["machine"], r["held_out"]["overall"]
        rows.append([cell.key, r["steps"], f"{r['train_seconds'] / 60:.1f}", f"{r['measure_seconds']:.0f}",
                     f"{m.get('cpu')}, {m.get('cores')} cores, torch {m.get('torch')}", _fmt(h.get("l1")),
                     _fmt(h.get("ssim")), _fmt(r["font"]["summary"].get("identified"), 3)])
    return markdown_table(["run", "steps", "training min", "measuring s", "machine", "held-out L1", "SSIM",
                           "identified"], rows)


# ---- the page ------------------------------------------------------------------------------------


def place_section(ctx: Context, runs: Sequence[an.Run], place: str, assets: Path, summary: dict[str, Any],
                  sweep_note: str | None, progress: tuple[int, int] | None = None) -> list[str]:
    main = [(c, r) for c, r in runs if c.place == place and c.phase == "main"]
    labels = an.main_labels(runs, place)
    lines = [f"## {PLACE_TITLES[place]}", ""]
    if not main:
        return lines + ["No run of this place is stored yet.", ""]
    fonts = sorted({c.font for c, _ in main})
    seeds = sorted({c.seed for c, _ in main})
    first = main[0][1]
    rec = first["recipe"]
    if place == "finetune":
        lines += [f"Base `{rec['base']['name']}` (step {rec['base']['step']}), a fresh discriminator with the base's "
                  f"architecture and the setting's blur, {rec['steps']} steps (the recipe's budget for "
                  f"{rec['train_glyphs']['n']} glyphs: lr {rec['finetune']['lr']:g}, batch {rec['finetune']['batch_size']}, "
                  f"encoder {'frozen' if rec['finetune']['freeze_encoder'] else 'trained'}), then the product's "
                  f"refining stage (refine on); fonts: {', '.join(fonts)}; seeds {seeds}. A run's training time "
                  "includes rendering its glyphs and the refining stage.", ""]
    elif place == "refiner":
        gen, tuning = rec["generator"], rec["tuning"]
        term = next((r["recipe"]["tuning"]["adversarial"] for c, r in main if c.setting != OFF), None)
        d = term["discriminator"] if term else None
        lines += [f"Per font and seed one generator: base `{gen['base']['name']}` fine-tuned on "
                  f"{gen['train_glyphs']['n']} glyphs without a discriminator, as `zi2zi finetune` does by default "
                  f"({gen['steps']} steps). Then the shipped refiner fine-tuned on that generator's glyphs as the refining stage "
                  f"does ({tuning['steps']} steps, batch {tuning['batch_size']}, {tuning['crop']} px crops, lr "
                  f"{tuning['lr']:g}), with an adversarial term"
                  + (f" (weight {term['weight']:g} beside the cross-entropy; the seed's PatchGAN at the crop's size, "
                     f"ndf {d['ndf']}, {d['n_layers']} layers, judging (source, glyph) crops, lr {term['lr']:g})"
                     if term else "")
                  + f" whose discriminator takes the setting's blur; `{OFF}` has no adversarial term (the product's "
                  f"default). Fonts: {', '.join(fonts)}; seeds {seeds}. Held-out L1, SSIM and content accuracy are "
                  "those of the refined glyphs area-averaged to 64 px (the generator is the same for every setting); "
                  "a run's training time is the refiner's fine-tuning alone.", ""]
    else:
        lines += [f"`{rec['preset']}` from random weights, {rec['steps']} steps, on {rec['glyphs']['n']} glyphs of "
                  f"{', '.join(fonts)} ({rec['glyphs']['val_fraction']:.0%} of them for the validation curve), the "
                  f"last checkpoint measured; no refiner (none is made for a model trained from scratch); seeds "
                  f"{seeds}.", ""]
    if progress and progress[0] < progress[1]:
        # A verdict from part of the seeds reads like a final one unless the page says otherwise.
        lines += [f"**Provisional**: {progress[0]} of the {progress[1]} planned main runs of this place are stored; "
                  "every verdict and default below may change as the rest arrive.", ""]
    table, summary[place] = comparison_table(runs, place, labels)
    lines += ["### Against no blur (paired per character: setting minus none, mean [95 % interval])", "", table, "",
              "Lower is better for L1, contours off and grey pixels; higher for the rest. Frechet distance is "
              "measured on a whole set, so it has a mean and spread over runs only.", "",
              "### Means (every character of every run)", "", means_table(runs, place, labels), "",
              "### The seed's claims", "", claims_table(an.judge_claims(runs, place)), "",
              "### Default for this place", "", *default_lines(runs, place, labels), ""]
    sweep = sorted({c.label for c, _ in runs if c.place == place and c.phase == "sweep"})
    if sweep_note:
        lines += ["### Sigma sweep", "", sweep_note, ""]
        if sweep and "none" in labels:
            sweep_table, summary[f"{place}-sweep"] = comparison_table(runs, place, sweep)
            lines += [sweep_table, ""]
    if place == "scratch":
        lines += ["### Has the budget flattened the curves?", "", flattening_table(runs, place, labels), "",
                  "The first column is the share of the whole drop in validation L1 (the trainer's validation "
                  "pairs) made in the last quarter of the steps; the learning rate decays along a cosine "
                  "schedule, which flattens the end of every curve by itself.", ""]
    for font in fonts:
        s = slug(font)
        grid = sample_grid(ctx, runs, place, font, labels + sweep, assets / f"{place}-{s}-samples.png")
        if grid:
            lines += [f"![{font}: samples]({assets.name}/{grid.name})", ""]
    font = fonts[0]
    line = exported_lines(ctx, runs, place, font, labels, assets / f"{place}-{slug(font)}-font.png")
    if line:
        lines += [f"The exported fonts of {font} at 150 px, held-out characters:", "",
                  f"![{font}: exported fonts]({assets.name}/{line.name})", ""]
    plot = None if place == "refiner" else curves(runs, place, font, labels, assets / f"{place}-{slug(font)}-curves.png")
    if plot:
        lines += [f"![{font}: curves]({assets.name}/{plot.name})", ""]
    return lines


def verdict_summary(runs: Sequence[an.Run], places: list[str],
                    progress: dict[str, tuple[int, int]] | None = None) -> str:
    judged = {p: {(r.claim.text, r.setting): r for r in an.judge_claims(runs, p)} for p in places}
    keys = []
    for claim in an.CLAIMS:
        keys += [(claim.text, s) for s in claim.settings]
    rows = []
    for key in keys:
        row = [key[0], key[1]]
        for p in places:
            res = judged[p].get(key)
            row.append("-" if res is None else f"**{res.verdict}**: {deciding_evidence(res)}")
        rows.append(row)
    def title(place: str) -> str:
        stored, planned = (progress or {}).get(place, (0, 0))
        return PLACE_TITLES[place] + (f" (provisional: {stored} of {planned} runs)" if 0 < stored < planned else "")

    return markdown_table(["claim", "setting", *[title(p) for p in places]], rows)


def deciding_evidence(res: an.ClaimResult) -> str:
    """The measures that decided a verdict with their intervals (all of them when none did)."""
    shown = [e for e in res.evidence if e[1] != "not separable"] or res.evidence
    return "; ".join(f"{an.BY_NAME[m].label} {fmt_interval(iv)}" for m, _, iv in shown)


def write_report(ctx: Context, runs: Sequence[an.Run], report: Path, *, places: list[str], planned: int,
                 sweep_notes: dict[str, str], progress: dict[str, tuple[int, int]] | None = None) -> Path:
    assets = report.with_suffix("")
    assets.mkdir(parents=True, exist_ok=True)
    machines = sorted({f"{r['machine'].get('cpu')} ({r['machine'].get('cores')} cores, torch "
                       f"{r['machine'].get('torch')})" for _, r in runs})
    hours = sum(r["train_seconds"] + r["measure_seconds"] for _, r in runs) / 3600
    summary: dict[str, Any] = {}
    lines = [
        "# The discriminator blur, measured where a discriminator takes part",
        "",
        "Produced by `python -m benchmarks.blur_ablation` (`make ablation`) from the runs stored beside it "
        "(`blur-ablation/runs/`); do not edit by hand.",
        "",
        "## Earlier run",
        "",
        f"The first answer, 350 steps from scratch at 64 px with 2 seeds, where no setting separated from no blur, "
        f"is kept in [{EARLIER}]({EARLIER}). This report measures at the budgets the product uses.",
        "",
        "## Setup",
        "",
        f"Settings: {', '.join(f'`{s}`' for s in SETTINGS)}: the seed's places for D's Gaussian blur (kernel {KERNEL}, "
        f"sigma {SIGMA:g}, `model.discriminator.blur`), `input-fade` the input blur fading linearly to 0 over the "
        "whole run (`blur_fade_steps` = the run's steps, StyleGAN3's schedule); in the refiner place also `off`, no "
        "adversarial term at all. Every run is measured on the same "
        "held-out characters of its font (the base's own held-out set, as benchmarks/font_quality.py: unseen in "
        "content and style by every model here): held-out L1, SSIM and content accuracy of the generator's 64 px "
        "glyphs (zi2zi.metrics.evaluate), their grey-pixel share (softness), the same L1 and SSIM at the "
        "checkpoint nearest half the budget, and the exported font rendered back against the real font "
        "(zi2zi.metrics.font_quality: identified, shape IoU, edge F, contours off). In the refiner place the "
        "generator is shared by every setting, so L1, SSIM and content accuracy are the refined glyphs' at 64 px and "
        "there are no grey-pixel or half-budget figures (claims that need them are not judged there).",
        "",
        f"Statistics: each setting against `none` on the same character, font and seed; the mean difference with a "
        f"{LEVEL:.0%} percentile bootstrap interval ({RESAMPLES} resamples of characters and seeds, fonts as strata, "
        "numpy seed 0). A setting beats `none` when the interval excludes 0 in the good direction on at least one "
        "headline measure (all but grey pixels and the half-budget figures) and in the bad direction on none. A "
        "claim is supported when one of its measures shows the claimed effect beyond its interval and none the "
        "opposite; contradicted for the reverse; mixed when its measures disagree.",
        "",
        f"Runs stored: {len(runs)} of {planned} planned; {hours:.1f} h of training and measuring. Machines: "
        + ("; ".join(machines) or "-") + ".",
        "",
        "## Verdicts, claim by claim",
        "",
        "Each cell: the verdict, then the measures that decided it (all of the claim's measures when none "
        "did), as the difference to `none` [95 % interval]; the place sections below give every measure.",
        "",
        verdict_summary(runs, places, progress),
        "",
    ]
    for place in places:
        lines += place_section(ctx, runs, place, assets, summary, sweep_notes.get(place), (progress or {}).get(place))
    lines += ["## Every run", "", runs_table(runs), ""]
    write_json(assets / "summary.json", summary)
    write_text(report, "\n".join(lines))
    return report
