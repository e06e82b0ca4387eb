"""How far the glyph classifier can be trusted: accuracy on a font it never saw, and its cost.

Trains the classifier of ``zi2zi.metrics.classifier`` on the first N GB2312 characters drawn from
every font but one, then prints the accuracy on the held-out font's real glyphs and the time taken.
Needs real CJK fonts (not available in CI, hence a benchmark and not a test)::

    python -m benchmarks.bench_classifier                       # fonts found by fontconfig
    python -m benchmarks.bench_classifier --font a.ttf --font b.ttc#1 --holdout 0 -n 500

Each --font is ``PATH`` or ``PATH#FACE``. Without --font, the fonts named in DEFAULT_FAMILIES are
looked up with ``fc-match``; those not installed are skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import time

import torch

from zi2zi.config import ClassifierConfig, RenderSettings
from zi2zi.fonts import FontFile, filter_by_fonts, open_font_spec, resolve_charset
from zi2zi.metrics.classifier import train_classifier

# Ming, Kai, two Hei and a modern Kai: the Debian packages fonts-arphic-uming/ukai,
# fonts-wqy-zenhei/microhei and fonts-lxgw-wenkai.
DEFAULT_FAMILIES = ["AR PL UMing CN", "AR PL UKai CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "LXGW WenKai"]


def fontconfig_fonts(families: list[str]) -> list[FontFile]:
    if shutil.which("fc-match") is None:
        sys.exit("fc-match not found: pass the fonts with --font PATH[#FACE]")
    fonts = []
    for family in families:
        out = subprocess.run(
            ["fc-match", "--format=%{file}\t%{index}\t%{family}", family],
            capture_output=True, text=True, check=False,
        ).stdout
        parts = out.split("\t")
        if len(parts) == 3 and family.casefold() in [f.casefold() for f in parts[2].split(",")]:
            fonts.append(open_font_spec(f"{parts[0]}#{parts[1]}"))
        else:
            print(f"skipping {family!r}: not installed", file=sys.stderr)
    return fonts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--font", action="append", default=[], help="PATH or PATH#FACE (repeat); default: fontconfig")
    p.add_argument("-n", "--chars", type=int, default=1000, help="first N GB2312 characters all fonts cover")
    p.add_argument("--holdout", type=int, action="append", help="index of the held-out font (repeat); default: each")
    p.add_argument("--epochs", type=int, default=ClassifierConfig.epochs)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    p.add_argument("--json", action="store_true", help="print one JSON line per run")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    fonts = [open_font_spec(s) for s in args.font] if args.font else fontconfig_fonts(DEFAULT_FAMILIES)
    if len(fonts) < 2:
        sys.exit("need at least two fonts")
    chars = filter_by_fonts(resolve_charset("gb2312"), covered_by=fonts)[: args.chars]
    cfg = dataclasses.replace(ClassifierConfig(), epochs=args.epochs)
    print(f"{len(chars)} characters, fonts: {', '.join(f.name for f in fonts)}; torch threads {torch.get_num_threads()}")
    for h in args.holdout if args.holdout is not None else range(len(fonts)):
        started = time.perf_counter()
        model = train_classifier(chars, fonts, holdout=h, render=RenderSettings(size=64, mode="em"), cfg=cfg)
        info = model.info
        if args.json:
            print(json.dumps(info, ensure_ascii=False))
        else:
            print(
                f"held out {info['holdout_font']:<28} accuracy {info['holdout_accuracy']:.4f} "
                f"({info['holdout_glyphs']} glyphs); train clean {info['train_accuracy_clean']:.4f}; "
                f"{time.perf_counter() - started:.1f} s (render {info['render_seconds']:.1f} s)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
