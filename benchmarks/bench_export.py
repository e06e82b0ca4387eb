"""Export speed, fidelity and outline quality: real glyph bitmaps -> TTF / OTF, checked.

Renders N characters of a real CJK font with zi2zi's renderer (as `zi2zi generate` would leave
them, with a manifest holding the font's em box), exports them to TrueType, and reports glyphs/s
(tracing + building) with the number of worker processes, the median ink IoU of the exported
font re-rendered against the bitmaps, and the outline figures (points, straight segments, stair
steps, duplicate points, bytes per glyph) beside the original font's for the same characters;
the OTF export's bytes per glyph too. The last line is JSON for report scripts.

    python -m benchmarks.bench_export --n 300 --font LXGWWenKai-Regular.ttf [--size 256] [--workers N]
    python -m benchmarks.bench_export --glyphs demo-out/generated     # glyphs a model generated
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import Image

from zi2zi.config import RenderSettings
from zi2zi.data.layout import glyph_filename
from zi2zi.export import check_font, export_font
from zi2zi.export.outline_stats import outline_stats
from zi2zi.fonts import Renderer, open_font, resolve_charset
from zi2zi.fonts.system import find_font


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--font", help="CJK font to render the bitmaps from: a path, or a file name found among the "
                        "system fonts (default: the demo's AR PL UKai)")
    parser.add_argument("--glyphs", type=Path, help="export this glyph folder (e.g. from zi2zi generate) instead")
    parser.add_argument("--face", type=int, default=0, help="face index in a collection")
    parser.add_argument("--n", type=int, default=500, help="number of glyphs")
    parser.add_argument("--size", type=int, default=256, help="bitmap size in pixels")
    parser.add_argument("--workers", type=int, default=None, help="tracing processes (default: all cores)")
    parser.add_argument("--keep", type=Path, help="keep the bitmaps and the font in this folder")
    args = parser.parse_args(argv)

    if args.glyphs:
        return bench_folder(args.glyphs, args.workers)
    if args.font and not Path(args.font).is_file():
        args.font = str(find_font(args.font, _PACKAGES.get(args.font)))
    font_path, face = (Path(args.font), args.face) if args.font else (find_font("ukai.ttc", "fonts-arphic-ukai"), 0)
    font = open_font(font_path, face)
    chars = [c for c in resolve_charset("gb2312") if font.covers(c)][: args.n]
    settings = RenderSettings(size=args.size, mode="em", margin=0.0)

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        glyph_dir = work / "glyphs"
        glyph_dir.mkdir(parents=True, exist_ok=True)
        renderer = Renderer(font, settings)
        embox = font.embox(settings.size, settings.margin)
        written = 0
        for char in chars:
            image = renderer.render(char)
            if image is not None and font.advance(char) == font.units_per_em:  # full-width only
                Image.fromarray(image).save(glyph_dir / glyph_filename(char))
                written += 1
        manifest = {
            "render": {"size": settings.size, "mode": settings.mode, "margin": settings.margin},
            "embox": embox.to_dict(),
            "advance": font.units_per_em,
        }
        (glyph_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

        out = work / "bench.ttf"
        cpu_start = _cpu_seconds()
        start = time.perf_counter()
        result = export_font(glyph_dir, out, family="Zi2zi Bench", overwrite=True, workers=args.workers)
        wall = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_start
        check_start = time.perf_counter()
        report = check_font(out, glyph_dir, embox=result.embox)
        check_seconds = time.perf_counter() - check_start
        codepoints = result.codepoints
        exported = outline_stats(TTFont(out), codepoints)
        original = outline_stats(TTFont(font_path, fontNumber=face), codepoints)
        otf = work / "bench.otf"
        export_font(glyph_dir, otf, family="Zi2zi Bench", overwrite=True, workers=args.workers)
        otf_stats = outline_stats(TTFont(otf), codepoints)

    rate = result.glyphs / wall
    print(f"font: {font.name} ({font_path.name}#{font.face_index}), {written} glyphs at {args.size} px")
    print(
        f"export: {result.glyphs} glyphs in {wall:.2f} s = {rate:.1f} glyphs/s "
        f"(trace {result.trace_seconds:.2f} s on {result.workers} worker(s), build+save {result.build_seconds:.2f} s)"
    )
    # On a shared machine wall time depends on the neighbours; CPU time per glyph does not.
    print(f"cpu: {cpu:.2f} s in all processes = {1000 * cpu / result.glyphs:.1f} ms per glyph")
    print(f"check: {report.summary()} ({check_seconds:.2f} s)")
    print(f"{'outlines':<28}{'exported TTF':>14}{'original':>12}")
    for key, label in _FIGURES.items():
        print(f"{label:<28}{getattr(exported, key):>14.3f}{getattr(original, key):>12.3f}")
    print(f"OTF (subroutinised CFF): {otf_stats.bytes_per_glyph:.0f} bytes per glyph, {otf_stats.median_points:.0f} points")
    print(
        json.dumps(
            {
                "benchmark": "export",
                "font": font.name,
                "size": args.size,
                "glyphs": result.glyphs,
                "workers": result.workers,
                "seconds": round(wall, 3),
                "glyphs_per_s": round(rate, 2),
                "cpu_seconds": round(cpu, 3),
                "cpu_ms_per_glyph": round(1000 * cpu / result.glyphs, 2),
                "trace_seconds": round(result.trace_seconds, 3),
                "build_seconds": round(result.build_seconds, 3),
                "median_ink_iou": round(report.median, 5),
                "worst_ink_iou": [[f"U+{cp:04X}", round(iou, 4)] for cp, iou in report.worst(5)],
                "outlines": exported.to_dict(),
                "original_outlines": original.to_dict(),
                "otf_outlines": otf_stats.to_dict(),
            },
            ensure_ascii=False,
        )
    )
    return 0


_FIGURES = {
    "median_points": "median points per glyph",
    "line_share": "straight segment share",
    "stair_steps_per_glyph": "stair steps per glyph",
    "duplicate_point_glyphs": "glyphs with duplicate points",
    "bytes_per_glyph": "bytes per glyph",
}
# Debian packages of fonts the benchmark is usually run with, for find_font's message.
_PACKAGES = {"LXGWWenKai-Regular.ttf": "fonts-lxgw-wenkai", "ukai.ttc": "fonts-arphic-ukai"}


def _cpu_seconds() -> float:
    """User + system time of this process and of its finished children (the tracing workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_folder(glyph_dir: Path, workers: int | None) -> int:
    """Export an existing glyph folder (generated glyphs) and check it: fidelity on real outputs."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.ttf"
        start = time.perf_counter()
        result = export_font(glyph_dir, out, family="Zi2zi Bench", overwrite=True, workers=workers)
        wall = time.perf_counter() - start
        report = check_font(out, glyph_dir, embox=result.embox)
    size = json.loads((glyph_dir / "manifest.json").read_text(encoding="utf-8"))["render"]["size"]
    print(f"export of {glyph_dir}: {result.glyphs} glyphs at {size} px in {wall:.2f} s = {result.glyphs / wall:.1f} glyphs/s")
    print(f"check: {report.summary()}")
    print(json.dumps({"benchmark": "export-generated", "glyphs_dir": str(glyph_dir), "size": size,
                      "glyphs": result.glyphs, "glyphs_per_s": round(result.glyphs / wall, 2),
                      "median_ink_iou": round(report.median, 5),
                      "worst_ink_iou": [[f"U+{cp:04X}", round(iou, 4)] for cp, iou in report.worst(5)]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
