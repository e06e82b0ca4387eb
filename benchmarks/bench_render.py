"""Rendering speed: source/target pairs per second for a whole charset, at 64 and 256 px.

Target (foundation issue): all 6763 GB2312 characters, one source and one target font, at 256 px,
in under 20 s on a 2-core machine. Writes PNGs and the manifest exactly as `zi2zi render` does.

    python -m benchmarks.bench_render [--charset gb2312] [--sizes 64 256] [--source F --target F]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.common import DEMO_FONT_FILES, machine
from zi2zi.config import RenderSettings
from zi2zi.data import render_dataset
from zi2zi.fonts import resolve_charset
from zi2zi.fonts.system import find_font


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charset", default="gb2312")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--source", default=None)
    parser.add_argument("--target", default=None)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    source = args.source or str(find_font(DEMO_FONT_FILES["source"]))
    target = args.target or str(find_font(DEMO_FONT_FILES["target"]))
    chars = resolve_charset(args.charset)
    results = []
    print(f"machine: {machine()}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            report = render_dataset(
                source=source, targets=[target], chars=chars, out=Path(tmp) / "ds",
                settings=RenderSettings(size=size), workers=args.workers or None,
            )
        rate = report.pairs / report.seconds
        results.append({"size": size, "pairs": report.pairs, "seconds": round(report.seconds, 2),
                        "pairs_per_s": round(rate, 1)})
        print(f"{size:4d} px: {report.pairs} pairs in {report.seconds:.1f} s = {rate:.0f} pairs/s"
              + ("  (target: < 20 s)" if size == 256 and args.charset == "gb2312" else ""))
    print(json.dumps({"benchmark": "render", "charset": args.charset, "results": results}))


if __name__ == "__main__":
    main()
