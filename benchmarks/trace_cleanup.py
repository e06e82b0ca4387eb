"""Can cleaning up the refined glyphs before tracing fix the exported font's broken strokes?

Reads the refined 256 px glyph folders that ``benchmarks/font_quality.py`` left in its ``--work``
folder (one per evaluation font it has run), and exports each again after one clean-up of the
images or one change of the tracer's options: dropping larger specks and pinholes, a Gaussian blur
of the grey image (smoother iso-lines), connected ink or paper patches under an area removed, a
looser curve fit, the traced grey level moved. Every variant is measured on the exported font
rendered back, as the font-quality benchmark measures (:mod:`zi2zi.metrics.font_quality`), with
the glyphs whose contour count is off split into too many contours (strokes broken, specks) and
too few (strokes merged, counters closed). A picture shows real | refined for the first glyphs
whose contour count is off, with their counts.

    python -m benchmarks.font_quality            # first: fine-tunes and generates the glyphs
    python -m benchmarks.trace_cleanup
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import machine
from benchmarks.font_quality import _slug
from zi2zi.data.glyphfolder import read_glyph_folder
from zi2zi.export import export_font
from zi2zi.export.trace import TraceOptions
from zi2zi.fonts import FontFile, open_font
from zi2zi.fonts.corpus import EVALUATION, corpus_font
from zi2zi.fonts.font import open_font_spec
from zi2zi.images import read_grey, save_png
from zi2zi.metrics.font_quality import CONTOUR_RANGE, SIZE, font_quality, masks
from zi2zi.reporting import markdown_table
from zi2zi.storage.atomic import write_text

Cleanup = Callable[[np.ndarray], np.ndarray]  # (S, S) uint8 grey -> the same
PICTURE_CASES = 18
SMALL_SHIFT_POINTS = 3.0  # less than this is within the spread of three fine-tunes' seeds (bf16-quality.md)


def blur(sigma: float) -> Cleanup:
    import cv2

    return lambda grey: cv2.GaussianBlur(grey, (0, 0), sigma)


def drop_patches(min_area: int) -> Cleanup:
    """Ink patches (8-connected) and paper patches (4-connected) under ``min_area`` px flipped."""
    import cv2

    def clean(grey: np.ndarray) -> np.ndarray:
        out = grey.copy()
        for is_ink, connectivity, fill in ((True, 8, 255), (False, 4, 0)):
            mask = (out < 128) if is_ink else (out >= 128)
            n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=connectivity)
            small = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] < min_area]
            out[np.isin(labels, small)] = fill
        return out

    return clean


def chain(*steps: Cleanup) -> Cleanup:
    def clean(grey: np.ndarray) -> np.ndarray:
        for step in steps:
            grey = step(grey)
        return grey

    return clean


DEFAULT = TraceOptions()
VARIANTS: list[tuple[str, Cleanup | None, TraceOptions]] = [
    ("as exported (the defaults)", None, DEFAULT),
    ("specks and pinholes under 8 px across dropped", None, replace(DEFAULT, speckle=8.0)),
    ("Gaussian blur sigma 1 px", blur(1.0), DEFAULT),
    ("Gaussian blur sigma 2 px", blur(2.0), DEFAULT),
    ("patches under 80 px^2 dropped", drop_patches(80), DEFAULT),
    ("blur 1 px, then patches under 50 px^2 dropped", chain(blur(1.0), drop_patches(50)), DEFAULT),
    ("curve fit 4x looser (2 px)", None, replace(DEFAULT, curve_tolerance=2.0, line_tolerance=1.4)),
    ("traced at grey 100 (thinner)", None, replace(DEFAULT, level=100.0)),
    ("traced at grey 160 (bolder)", None, replace(DEFAULT, level=160.0)),
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("font-quality-work"), help="benchmarks/font_quality.py's --work")
    p.add_argument("--out", type=Path, default=Path("trace-cleanup-work"), help="the variants' folders and fonts")
    p.add_argument("--report", type=Path, default=Path("benchmarks/reports/trace-cleanup.md"))
    return p.parse_args()


def measure_variant(glyphs: Path, out: Path, real: FontFile, cleanup: Cleanup | None, options: TraceOptions) -> dict:
    """Export ``glyphs`` (a copy cleaned up by ``cleanup``, or the folder itself) with ``options``
    into ``out`` and measure the font against ``real``."""
    folder = glyphs
    if cleanup is not None:
        folder = out / "glyphs"
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(glyphs, folder)
        for path in read_glyph_folder(folder).files.values():
            save_png(path, cleanup(read_grey(path)))
    ttf = out / "font.ttf"
    out.mkdir(parents=True, exist_ok=True)
    export_font(folder, ttf, family="zi2zi trace clean-up", overwrite=True, options=options)
    chars = [chr(cp) for cp in read_glyph_folder(folder).files]
    quality = font_quality(open_font(str(ttf), 0), real, chars)
    lo, hi = CONTOUR_RANGE
    counts, real_counts = np.array(quality.contours), np.array(quality.real_contours)
    return {**quality.summary(), "too_many": float(np.mean(counts > hi * real_counts)),
            "too_few": float(np.mean(counts < lo * real_counts)), "quality": quality, "font": ttf}


def contour_cases(quality, real: FontFile, candidate: FontFile, path: Path) -> None:
    """real | refined masks of the first glyphs whose contour count is off, counts as a caption."""
    import cv2

    off = [i for i, bad in enumerate(quality.contours_off) if bad][:PICTURE_CASES]
    chars = [quality.chars[i] for i in off]
    real_masks, cand_masks = masks(real, chars), masks(candidate, chars)
    tiles = []
    for i, char in zip(off, chars):
        gap = np.zeros((SIZE, 4), bool)
        tile = (~np.concatenate([real_masks[char], gap, cand_masks[char]], axis=1)).astype(np.uint8) * 255
        tile = np.pad(tile, ((14, 4), (4, 4)), constant_values=255)
        cv2.putText(tile, f"refined {quality.contours[i]} / real {quality.real_contours[i]}", (4, 11),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35, 0, 1)
        tiles.append(np.pad(tile, 2, constant_values=160))
    if not tiles:
        return
    per_row = 6
    tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % per_row)
    rows = [np.concatenate(tiles[k: k + per_row], axis=1) for k in range(0, len(tiles), per_row)]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


def verdict(shifts: list[tuple[float, str, str]]) -> str:
    """One paragraph on how far the clean-ups moved the share of glyphs with contours off."""
    best, worst = min(shifts), max(shifts)
    text = (f"**The best clean-up lowers contours off by {-best[0]:.1f} points** ({best[2]} on {best[1]}); the worst "
            f"raises it by {worst[0]:.1f} ({worst[2]} on {worst[1]}).")
    if -best[0] < SMALL_SHIFT_POINTS:
        text += (" The contours are off because of the glyphs' shapes (strokes that touch where the real font's "
                 "stand apart or the reverse, counters closed or opened), not because of specks or the tracer.")
    return text + " The picture shows the first such glyphs of the first font, with both counts."


def main() -> None:
    args = parse_args()
    fonts = [f.name for f in EVALUATION if (args.work / _slug(f.name) / "glyphs-refined").is_dir()]
    if not fonts:
        raise SystemExit(f"trace-cleanup: {args.work} has no refined glyphs; run `python -m benchmarks.font_quality` "
                         "first (or pass its --work)")
    picture = args.report.with_suffix("") / "contours-off.png"
    rows, shifts = [], []  # shifts: each variant's contours off minus the defaults', in points
    for n, name in enumerate(fonts):
        real = open_font_spec(corpus_font(name).spec)
        for k, (label, cleanup, options) in enumerate(VARIANTS):
            print(f"[trace-cleanup] {name}: {label}", flush=True)
            r = measure_variant(args.work / _slug(name) / "glyphs-refined", args.out / _slug(name) / str(k), real,
                                cleanup, options)
            if k == 0:
                default_off = r["contours_off"]
            else:
                shifts.append((100 * (r["contours_off"] - default_off), name, label))
            rows.append([name, label, r["characters"], *[f"{r[key]:.3f}" for key in
                         ("identified", "shape_iou", "edge_f", "contours_off", "too_many", "too_few")]])
            if n == 0 and k == 0:
                contour_cases(r["quality"], real, open_font(str(r["font"]), 0), picture)
    m = machine()
    lines = [
        "# Cleaning up refined glyphs before tracing (`benchmarks/trace_cleanup.py`)",
        "",
        f"Measured on {m['cpu']}, torch {m['torch']}: the refined held-out glyphs that `benchmarks/font_quality.py` "
        "generated (its fine-tune with the defaults, N = 200), exported again after each clean-up and measured on "
        "the font rendered back. Contours off = too many + too few (outside "
        f"{CONTOUR_RANGE[0]}-{CONTOUR_RANGE[1]}x the real glyph's count).",
        "",
        verdict(shifts),
        "",
        markdown_table(["font", "variant", "characters", "identified", "shape IoU", "edge F", "contours off",
                        "too many", "too few"], rows),
        "",
        f"![real | refined, glyphs whose contour count is off ({fonts[0]})]({picture.parent.name}/{picture.name})",
        "",
    ]
    write_text(args.report, "\n".join(lines))
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
