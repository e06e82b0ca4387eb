"""zi2zi demo: the whole pipeline on free fonts, bounded in time, with an HTML report."""

from __future__ import annotations

import argparse

from zi2zi.demo.settings import DemoSettings

_DEFAULTS = DemoSettings()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="end to end: render, train, generate held-out characters, export a TTF, report",
        description=(
            "Make a Kai font from AR PL UKai (a font no base model has seen; `make fonts` installs the demo "
            "fonts): fine-tune the shipped base on its first --glyphs characters (or, without a base, train "
            "the cpu-small preset from scratch from AR PL UMing for --steps steps), generate the held-out "
            "characters, export them as a TrueType font and write report.html."
        ),
        epilog="example: zi2zi demo --from-scratch --steps 300 --out quick-demo",
    )
    p.add_argument("--steps", type=int, default=_DEFAULTS.steps,
                   help=f"training steps from scratch (default {_DEFAULTS.steps}; fine-tuning sets its own)")
    p.add_argument("--minutes", type=float, default=_DEFAULTS.minutes,
                   help="training from scratch stops after this many minutes even if steps remain (default: "
                        "no limit; the step budget gives the same model on a busy machine, only later)")
    p.add_argument("--out", default="demo-out", metavar="DIR", help="output folder (default demo-out)")
    p.add_argument("--characters", type=int, default=_DEFAULTS.characters,
                   help=f"first N characters of {_DEFAULTS.charset} (default {_DEFAULTS.characters})")
    p.add_argument("--holdout", type=int, default=_DEFAULTS.holdout, help="held-out characters")
    p.add_argument("--base", default=_DEFAULTS.base, metavar="NAME|CKPT",
                   help=f"base model to fine-tune (default {_DEFAULTS.base}, when installed)")
    p.add_argument("--from-scratch", action="store_true", help="train from random weights instead of a base")
    p.add_argument("--glyphs", type=int, default=_DEFAULTS.glyphs,
                   help=f"training glyphs when fine-tuning a base (default {_DEFAULTS.glyphs})")
    p.add_argument("--no-classifier", action="store_true", help="skip content accuracy (saves ~2 min)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier demo in --out")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.demo import run_demo  # torch and matplotlib load only when the demo runs

    settings = DemoSettings(steps=args.steps, minutes=args.minutes, characters=args.characters, holdout=args.holdout,
                            classifier=not args.no_classifier, base=None if args.from_scratch else args.base,
                            glyphs=args.glyphs)
    run_demo(args.out, settings, overwrite=args.overwrite)
    return 0
