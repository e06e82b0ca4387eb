"""From stored runs to answers: each setting against no blur per measure, the seed's claims with
their verdicts, and each place's winner. Pure functions of the stored numbers (no model, no torch),
so the report says only what the figures say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.blur_ablation.settings import Cell
from benchmarks.blur_ablation.stats import Interval, claim_outcome, claim_verdict, outcome, paired_bootstrap

Run = tuple[Cell, dict[str, Any]]


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    section: str  # where the per-character values are in a run's results
    key: str
    higher_is_better: bool
    headline: bool  # decides whether a setting beats no blur


MEASURES: tuple[Measure, ...] = (
    Measure("l1", "held-out L1", "held_out", "l1", False, True),
    Measure("ssim", "held-out SSIM", "held_out", "ssim", True, True),
    Measure("content_accuracy", "content accuracy", "held_out", "content_accuracy", True, True),
    Measure("identified", "identified (font)", "font", "identified", True, True),
    Measure("shape_iou", "shape IoU (font)", "font", "shape_iou", True, True),
    Measure("edge_f", "edge F (font)", "font", "edge_f", True, True),
    Measure("contours_off", "contours off (font)", "font", "contours_off", False, True),
    Measure("grey", "grey pixels (G, 64 px)", "generator_glyphs", "grey", False, False),
    Measure("l1_half", "held-out L1 at half budget", "half_budget", "l1", False, False),
    Measure("ssim_half", "held-out SSIM at half budget", "half_budget", "ssim", True, False),
)
BY_NAME = {m.name: m for m in MEASURES}
HEADLINE = [m.name for m in MEASURES if m.headline]


@dataclass(frozen=True)
class Claim:
    """One claim of the seed's table: blurring at ``settings`` makes each measure ``direction``
    ("better" or "worse") than no blur."""

    text: str
    seed_row: str  # the seed table's place it comes from
    settings: tuple[str, ...]
    measures: tuple[tuple[str, str], ...]


CLAIMS: tuple[Claim, ...] = (
    Claim("D relies less on local texture: cleaner, more legible glyphs", "1. input, upside",
          ("input", "input-fade"), (("content_accuracy", "better"), ("contours_off", "better"))),
    Claim("G learns the overall structure", "1. input, upside",
          ("input", "input-fade"), (("shape_iou", "better"), ("identified", "better"))),
    Claim("D loses some power to tell fine detail apart", "1. input, downside",
          ("input", "input-fade"), (("edge_f", "worse"),)),
    Claim("the output blur slows learning (G may need longer)", "3. output, downside",
          ("output",), (("l1_half", "worse"), ("ssim_half", "worse"), ("l1", "worse"))),
    Claim("the layer blur makes G's output blurry", "2. layers, downside",
          ("layers",), (("ssim", "worse"), ("edge_f", "worse"), ("grey", "worse"))),
)


def per_char(results: dict[str, Any], measure: Measure) -> dict[str, float] | None:
    section = results.get(measure.section)
    if not section:
        return None
    table = section.get("per_char") or {}
    values = table.get(measure.key)
    if values is None:
        return None
    return {c: float(v) for c, v in zip(table["char"], values) if v is not None and np.isfinite(v)}


def label_of(cell: Cell) -> str:
    return cell.label


def paired_groups(runs: Sequence[Run], place: str, label: str, measure: Measure, reference: str = "none"
                  ) -> list[np.ndarray]:
    """Per font, a (seeds, characters) array of ``label`` minus ``reference`` on the same character
    and seed: the seeds both have, the characters every one of those runs measured. Runs made from
    different generators (the refiner place records which) are not paired."""
    mine = {(c.font, c.seed): r for c, r in runs if c.place == place and c.label == label}
    ref = {(c.font, c.seed): r for c, r in runs if c.place == place and c.label == reference and c.phase == "main"}
    groups = []
    for font in sorted({f for f, _ in mine}):
        pairs = []
        for seed in sorted(s for f, s in mine if f == font):
            run, other = mine[(font, seed)], ref.get((font, seed))
            if other is None or run.get("generator") != other.get("generator"):
                continue
            a, b = per_char(run, measure), per_char(other, measure)
            if a is not None and b is not None:
                pairs.append((a, b))
        if not pairs:
            continue
        common = set.intersection(*(set(a) & set(b) for a, b in pairs))
        chars = sorted(common, key=ord)
        if chars:
            groups.append(np.array([[a[c] - b[c] for c in chars] for a, b in pairs]))
    return groups


def compare(runs: Sequence[Run], place: str, label: str, reference: str = "none") -> dict[str, Interval | None]:
    """Every measure of ``label`` against ``reference`` (no blur) in ``place``: mean difference and interval."""
    return {m.name: paired_bootstrap(paired_groups(runs, place, label, m, reference)) for m in MEASURES}


def measured(runs: Sequence[Run], place: str, name: str) -> bool:
    """Whether ``place``'s runs have per-character values of measure ``name`` at all."""
    return any(per_char(r, BY_NAME[name]) for c, r in runs if c.place == place)


def outcomes(intervals: dict[str, Interval | None]) -> dict[str, str]:
    return {name: outcome(iv, BY_NAME[name].higher_is_better) for name, iv in intervals.items()}


def beats_none(intervals: dict[str, Interval | None]) -> tuple[bool, list[str], list[str]]:
    """(beats, better, worse): better than no blur beyond the interval on at least one headline
    measure and worse on none."""
    seen = outcomes(intervals)
    better = [m for m in HEADLINE if seen[m] == "better"]
    worse = [m for m in HEADLINE if seen[m] == "worse"]
    return bool(better) and not worse, better, worse


def main_labels(runs: Sequence[Run], place: str) -> list[str]:
    from benchmarks.blur_ablation.settings import OFF, SETTINGS

    present = {c.label for c, _ in runs if c.place == place and c.phase == "main"}
    return [s for s in (*SETTINGS, OFF) if s in present]


def winner(runs: Sequence[Run], place: str) -> tuple[str, str]:
    """The setting of ``place`` to sweep sigma for, and why: among those that beat no blur, the one
    better on most headline measures (then the larger SSIM gain); "input", the seed's
    recommendation, when none does."""
    from benchmarks.blur_ablation.settings import OFF

    best: tuple[int, float, str] | None = None
    for label in main_labels(runs, place):
        if label in ("none", OFF):  # OFF has no discriminator, so no blur to sweep
            continue
        intervals = compare(runs, place, label)
        beats, better, _ = beats_none(intervals)
        if beats:
            ssim = intervals["ssim"].mean if intervals["ssim"] is not None else 0.0
            key = (len(better), ssim, label)
            best = key if best is None or key[:2] > best[:2] else best
    if best is None:
        return "input", ("no setting beats no blur beyond its interval here, so the sweep is for `input`, "
                         "the seed's recommendation")
    return best[2], f"`{best[2]}` beats no blur on {best[0]} headline measure(s), the most of any setting"


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    setting: str
    verdict: str
    evidence: list[tuple[str, str, Interval | None]]  # (measure, outcome for the claim, interval)


def judge_claims(runs: Sequence[Run], place: str) -> list[ClaimResult]:
    out = []
    present = set(main_labels(runs, place))
    if "none" not in present:
        return out
    for claim in CLAIMS:
        if not all(measured(runs, place, name) for name, _ in claim.measures):
            continue  # e.g. the refiner place has no half-budget checkpoints: not judged on the rest
        for setting in claim.settings:
            if setting not in present:
                continue
            intervals = compare(runs, place, setting)
            evidence = []
            for name, direction in claim.measures:
                iv = intervals[name]
                evidence.append((name, claim_outcome(outcome(iv, BY_NAME[name].higher_is_better), direction), iv))
            out.append(ClaimResult(claim, setting, claim_verdict([e[1] for e in evidence]), evidence))
    return out


def set_level(runs: Sequence[Run], place: str, label: str, key: str) -> tuple[float, float, int] | None:
    """Mean and sample standard deviation over runs of a figure measured on a whole set (e.g. the
    Frechet distance), and the number of runs."""
    values = [r["held_out"]["overall"].get(key) for c, r in runs if c.place == place and c.label == label]
    values = [float(v) for v in values if v is not None]
    if not values:
        return None
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0, len(values)


def mean_of(runs: Sequence[Run], place: str, label: str, measure: Measure) -> float | None:
    """The measure's mean over every character of every run of ``label`` (not paired)."""
    values = [v for c, r in runs if c.place == place and c.label == label
              for v in (per_char(r, measure) or {}).values()]
    return float(np.mean(values)) if values else None


def flattening(rows: list[dict[str, Any]]) -> float | None:
    """Share of a run's validation-L1 improvement made in its last quarter of steps: near 0 when
    the curve has flattened by then (None without validation)."""
    val = [(r["step"], r["val_l1"]) for r in rows if r.get("kind") == "eval" and "val_l1" in r]
    if len(val) < 4:
        return None
    steps = np.array([s for s, _ in val], dtype=float)
    l1 = np.array([v for _, v in val])
    at = float(np.interp(0.75 * steps[-1], steps, l1))
    total = l1[0] - l1[-1]
    return float((at - l1[-1]) / total) if total > 0 else None
