"""zi2zi demo: the whole pipeline on free fonts, bounded in time, with an HTML report; with
--handwriting, the handwriting path with a synthetic hand and phone."""

from __future__ import annotations

import argparse

from zi2zi.demo.settings import COMPLETE_CHARSET, DEMO_OUT, HANDWRITING_OUT, TEMPLATE_SIZE, DemoSettings
from zi2zi.errors import Zi2ziError

_DEFAULTS = DemoSettings()
# Options of one demo only (dest names): given to the other, they are refused, not ignored.
FONT_ONLY = ("minutes", "characters", "holdout", "from_scratch", "glyphs", "no_classifier")
HANDWRITING_ONLY = ("charset", "hand_font", "reference_font", "size", "seed", "complete_charset", "device")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="end to end: render, train, generate held-out characters, export a TTF, report "
             "(--handwriting: template, scan, export, completion)",
        description=(
            "Make a Kai font from AR PL UKai (a font no base model has seen; `make fonts` installs the demo\n"
            "fonts): fine-tune the shipped base on its first --glyphs characters (or, without a base, train\n"
            "the cpu-small preset from scratch from AR PL UMing for --steps steps), generate the held-out\n"
            "characters, export them as a TrueType font and write report.html.\n\n"
            "With --handwriting: a synthetic hand (LXGW WenKai, else AR PL UKai) writes the template's\n"
            "sheets, a synthetic phone photographs them, `scan` reads them and `export` makes the font; then\n"
            "the installed base (or --base) is fine-tuned on the scanned glyphs to complete the font with the\n"
            "characters of --complete-charset the hand did not write (without a base this is skipped, and\n"
            "the report says so)."
        ),
        epilog="examples: zi2zi demo --from-scratch --steps 300 --out quick-demo\n"
               "          zi2zi demo --handwriting --overwrite",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--handwriting", action="store_true", help="run the handwriting demo instead")
    p.add_argument("--out", metavar="DIR",
                   help=f"output folder (default {DEMO_OUT}; with --handwriting {HANDWRITING_OUT})")
    p.add_argument("--base", metavar="NAME|CKPT",
                   help=f"base model to fine-tune (default {_DEFAULTS.base} when installed; with --handwriting the "
                        "installed base)")
    p.add_argument("--steps", type=int,
                   help=f"training steps from scratch (default {_DEFAULTS.steps}; fine-tuning sets its own); with "
                        "--handwriting, the completion's fine-tuning steps (default: by the number of glyphs)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier demo in --out")
    font = p.add_argument_group("the font demo")
    font.add_argument("--minutes", type=float,
                      help="training from scratch stops after this many minutes even if steps remain (default: "
                           "no limit; the step budget gives the same model on a busy machine, only later)")
    font.add_argument("--characters", type=int,
                      help=f"first N characters of {_DEFAULTS.charset} (default {_DEFAULTS.characters})")
    font.add_argument("--holdout", type=int, help=f"held-out characters (default {_DEFAULTS.holdout})")
    font.add_argument("--from-scratch", action="store_true", help="train from random weights instead of a base")
    font.add_argument("--glyphs", type=int,
                      help=f"training glyphs when fine-tuning a base (default {_DEFAULTS.glyphs})")
    font.add_argument("--no-classifier", action="store_true", help="skip content accuracy (saves ~2 min)")
    hand = p.add_argument_group("the handwriting demo (--handwriting)")
    hand.add_argument("--charset", metavar="SPEC", help="template charset (default handwriting-300)")
    hand.add_argument("--hand-font", metavar="FONT",
                      help="font that plays the hand (default LXGW WenKai, else AR PL UKai)")
    hand.add_argument("--reference-font", metavar="FONT", help="font for the printed reference characters")
    hand.add_argument("--size", type=int, help=f"px of the scanned glyphs (default {TEMPLATE_SIZE})")
    hand.add_argument("--seed", type=int, help="seed of the synthetic hand and photos (default 0)")
    hand.add_argument("--complete-charset", metavar="SPEC",
                      help=f"characters the completed font covers (default {COMPLETE_CHARSET})")
    hand.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.set_defaults(run=run)


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    return ["--" + n.replace("_", "-") for n in names if getattr(args, n) not in (None, False)]


def run(args: argparse.Namespace) -> int:
    other = _given(args, FONT_ONLY if args.handwriting else HANDWRITING_ONLY)
    if other:
        mode = "the font demo, not --handwriting" if args.handwriting else "--handwriting"
        raise Zi2ziError(f"{', '.join(other)} belongs to {mode}; leave it out or switch demos")
    if args.handwriting:
        from zi2zi.demo import run_handwriting_demo  # torch and OpenCV load only when the demo runs

        given = {k: v for k in HANDWRITING_ONLY if (v := getattr(args, k)) is not None}
        run_handwriting_demo(args.out or HANDWRITING_OUT, overwrite=args.overwrite, base=args.base, steps=args.steps,
                             **given)
        return 0
    from zi2zi.demo import run_demo  # torch and matplotlib load only when the demo runs

    chosen = {k: v for k in ("steps", "minutes", "characters", "holdout", "glyphs") if (v := getattr(args, k)) is not None}
    settings = DemoSettings(**chosen, classifier=not args.no_classifier,
                            base=None if args.from_scratch else (args.base or _DEFAULTS.base))
    run_demo(args.out or DEMO_OUT, settings, overwrite=args.overwrite)
    return 0
