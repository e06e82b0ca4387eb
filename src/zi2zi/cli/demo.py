"""zi2zi demo: the whole pipeline on free fonts, bounded in time, with an HTML report."""

from __future__ import annotations

import argparse

from zi2zi.demo_settings import DemoSettings

_DEFAULTS = DemoSettings()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="end to end: render, train, generate held-out characters, export a TTF, report",
        description=(
            "Render a dataset from the demo fonts (AR PL UMing -> AR PL UKai; `make fonts` installs "
            "them), train the cpu-small preset for a bounded number of steps and minutes, generate the held-out characters, "
            "export them as a TrueType font and write report.html."
        ),
        epilog="example: zi2zi demo --minutes 5 --out demo-out",
    )
    p.add_argument("--steps", type=int, default=_DEFAULTS.steps, help=f"training steps (default {_DEFAULTS.steps})")
    p.add_argument("--minutes", type=float, default=_DEFAULTS.minutes,
                   help=f"training stops after this many minutes even if steps remain (default {_DEFAULTS.minutes})")
    p.add_argument("--out", default="demo-out", metavar="DIR", help="output folder (default demo-out)")
    p.add_argument("--characters", type=int, default=_DEFAULTS.characters,
                   help=f"first N characters of {_DEFAULTS.charset} (default {_DEFAULTS.characters})")
    p.add_argument("--holdout", type=int, default=_DEFAULTS.holdout, help="held-out characters")
    p.add_argument("--no-classifier", action="store_true", help="skip content accuracy (saves ~2 min)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier demo in --out")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.demo import run_demo  # torch and matplotlib load only when the demo runs

    settings = DemoSettings(steps=args.steps, minutes=args.minutes, characters=args.characters, holdout=args.holdout,
                            classifier=not args.no_classifier)
    run_demo(args.out, settings, overwrite=args.overwrite)
    return 0
