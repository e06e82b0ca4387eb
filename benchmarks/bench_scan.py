"""Handwriting intake speed and fidelity: a 300-cell set of synthetic phone photos -> a glyph folder.

Writes the default template (300 characters, A4, 15 mm squares: 3 pages), fills it with a
handwriting-like font, photographs each page synthetically at phone resolution (250-300 DPI on
the page, any rotation, perspective, uneven light, a shadow band, blur, noise, JPEG 50-70), then
times `zi2zi scan` on the JPEG files exactly as the command runs it (decode, markers, rectify,
cut, clean, write the glyph folder and the contact sheet). Reports pages/s and cells/s, and the
ink IoU and placement error of the recovered glyphs against the pasted ones. The last line is
JSON for report scripts.

    python -m benchmarks.bench_scan [--font LXGWWenKai-Regular.ttf] [--size 128] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from zi2zi.errors import FontError
from zi2zi.fonts import open_font
from zi2zi.fonts.system import find_font
from zi2zi.handwriting.charset import default_charset
from zi2zi.handwriting.draw import default_reference_font
from zi2zi.handwriting.intake import ScanSettings
from zi2zi.handwriting.layout import TemplateSettings, plan_template
from zi2zi.handwriting.scan import scan
from zi2zi.handwriting.synthetic import PhotoSettings, synthetic_photos

HAND_FONTS = [("LXGWWenKai-Regular.ttf", "fonts-lxgw-wenkai"), ("ukai.ttc", "fonts-arphic-ukai")]


def hand_font(spec: str | None):
    if spec:
        return open_font(spec)
    for name, package in HAND_FONTS:
        try:
            return open_font(find_font(name, package))
        except FontError:
            continue
    raise SystemExit("no handwriting-like font installed: install fonts-lxgw-wenkai (make fonts) or pass --font")


def placement(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean(), xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / mask.shape[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--font", help="font that plays the hand (default: LXGW WenKai, else AR PL UKai)")
    parser.add_argument("--size", type=int, default=128, help="glyph size in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="keep the photos and the glyph folder in this folder")
    args = parser.parse_args(argv)

    font = hand_font(args.font)
    try:
        reference = open_font(default_reference_font())
    except FontError:
        reference = None
    chars = [c for c in default_charset() if font.covers(c)]
    template = plan_template(chars, TemplateSettings())
    started = time.perf_counter()
    shots, truth = synthetic_photos(template, font, seed=args.seed, truth_size=args.size, reference=reference,
                                    photo=PhotoSettings(dpi=(250, 300)))
    make_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        paths = []
        for shot in shots:
            paths.append(work / f"photo-{shot.page + 1}.jpg")
            paths[-1].write_bytes(shot.jpeg)
        megapixels = float(np.mean([s.params["frame"][0] * s.params["frame"][1] / 1e6 for s in shots]))
        start = time.perf_counter()
        report = scan(paths, template, work / "glyphs", settings=ScanSettings(size=args.size), overwrite=True)
        seconds = time.perf_counter() - start
    ious, errors = [], []
    for char, cell in report.glyphs.items():
        got, want = cell.image < 128, truth[char] < 128
        ious.append(float((got & want).sum() / max(1, (got | want).sum())))
        errors.append(float(np.abs(placement(got) - placement(want)).max()))
    cells = sum(len(p.cells) for p in report.pages)
    print(f"hand: {font.name}; {len(shots)} photos of {megapixels:.1f} MP (made in {make_seconds:.1f} s), "
          f"{cells} cells, {len(report.glyphs)} glyphs recovered of {len(truth)} written")
    print(f"scan: {seconds:.2f} s = {len(shots) / seconds:.2f} pages/s, {cells / seconds:.0f} cells/s")
    print(f"fidelity: median ink IoU {np.median(ious):.4f} (5th percentile {np.percentile(ious, 5):.4f}), "
          f"placement error median {np.median(errors):.4f} em, worst {max(errors):.4f} em")
    print(json.dumps({
        "benchmark": "scan",
        "font": font.name,
        "photos": len(shots),
        "megapixels": round(megapixels, 1),
        "cells": cells,
        "glyphs": len(report.glyphs),
        "written": len(truth),
        "size": args.size,
        "seconds": round(seconds, 2),
        "pages_per_s": round(len(shots) / seconds, 2),
        "cells_per_s": round(cells / seconds, 1),
        "median_ink_iou": round(float(np.median(ious)), 4),
        "p5_ink_iou": round(float(np.percentile(ious, 5)), 4),
        "median_placement_error_em": round(float(np.median(errors)), 4),
        "max_placement_error_em": round(float(max(errors)), 4),
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
