"""``python -m benchmarks.blur_ablation`` (``make ablation``): plan, train what is missing, report."""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

from benchmarks.blur_ablation import analysis
from benchmarks.blur_ablation.report import write_report
from benchmarks.blur_ablation.runs import LEDGER, Budget, Context
from benchmarks.blur_ablation.settings import (
    PLACES,
    REFINER_ADVERSARIAL_WEIGHT,
    SETTINGS,
    SIGMA,
    SWEEP_SIGMAS,
    Cell,
    main_cells,
    sweep_cells,
)
from zi2zi.fonts.corpus import EVALUATION

DEFAULT_SEEDS = {"finetune": [0, 1, 2], "scratch": [0, 1], "refiner": [0, 1, 2]}  # runs of minutes / of half an hour
# Minutes per run assumed by --dry-run before a place has any stored run.
GUESS_MINUTES = {"finetune": 7.0, "refiner": 4.0}
SCRATCH_SECONDS_PER_STEP = 0.5
STOP_FILE = "STOP"  # WORK/STOP: finish the run in progress, then stop


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.blur_ablation",
                                description="The discriminator blur measured where a discriminator takes part.")
    p.add_argument("--places", nargs="+", choices=PLACES, default=list(PLACES))
    p.add_argument("--fonts", nargs="+", default=[f.name for f in EVALUATION], help="evaluation fonts of the fine-tunes")
    p.add_argument("--scratch-font", default=EVALUATION[0].name, help="the one font trained from scratch")
    p.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS),
                   help="blur settings ('none' is always run: everything is compared with it)")
    p.add_argument("--seeds", nargs="+", type=int,
                   help="seeds of every place (default: 0 1 2 for the fine-tunes of the base and the refiner, 0 1 scratch)")
    p.add_argument("--steps", type=int, default=3000, help="step budget of the from-scratch runs (the claims want >= 2000)")
    p.add_argument("--finetune-steps", type=int, help="override the fine-tuning recipe's step budget (smoke runs)")
    p.add_argument("--sigmas", nargs="*", type=float, default=list(SWEEP_SIGMAS),
                   help="sigmas swept for each place's winner after the main cells (none given: no sweep)")
    p.add_argument("--refiner-weight", type=float, default=REFINER_ADVERSARIAL_WEIGHT,
                   help="the refiner place's adversarial weight beside its cross-entropy (another than the default "
                        "keeps its runs in WORK/ledger, as a smoke run)")
    p.add_argument("--train-glyphs", type=int, default=200, help="N, the fine-tunes' training glyphs")
    p.add_argument("--holdout", type=int, default=300, help="held-out characters measured per font")
    p.add_argument("--limit-chars", type=int, default=0, help="at most this many characters anywhere (smoke runs)")
    p.add_argument("--base", default="base-64")
    p.add_argument("--work", default="ablation-work", help="where every run trains (resumable)")
    p.add_argument("--ledger", type=Path,
                   help=f"where finished runs' results are kept (default: {LEDGER}, committed beside the report; "
                        "WORK/ledger for smoke runs with --limit-chars or --finetune-steps)")
    p.add_argument("--report", default="benchmarks/reports/blur-ablation.md")
    p.add_argument("--report-only", action="store_true", help="rebuild the report from stored runs, train nothing")
    p.add_argument("--dry-run", action="store_true", help="print the plan and an estimate, train nothing")
    return p.parse_args(argv)


class Plan:
    """The cells of this invocation, main first, each place's sweep once its main cells are stored."""

    def __init__(self, args: argparse.Namespace, ctx: Context) -> None:
        self.args, self.ctx = args, ctx
        settings = ["none"] + [s for s in args.settings if s != "none"]
        self.seeds = {p: args.seeds if args.seeds is not None else DEFAULT_SEEDS[p] for p in args.places}
        self.fonts = {"finetune": list(args.fonts), "scratch": [args.scratch_font], "refiner": list(args.fonts)}
        self.main = main_cells(args.places, self.fonts, settings, self.seeds)

    def stored(self, cells: list[Cell]) -> list[analysis.Run]:
        return [(c, r) for c in cells if (r := self.ctx.stored(c)) is not None]

    def sweep(self, place: str) -> tuple[list[Cell], str, int]:
        """The place's sweep cells (none until its main cells are all stored), what the report says
        of the sweep, and how many runs it has or will have."""
        sigmas = [s for s in self.args.sigmas if s != SIGMA]
        count = len(sigmas) * len(self.fonts.get(place, [])) * len(self.seeds.get(place, []))
        if not sigmas or place not in self.args.places:
            return [], "No sigma sweep was asked for (--sigmas).", 0
        main = [c for c in self.main if c.place == place]
        runs = self.stored(main)
        if len(runs) < len(main):
            return [], (f"The sweep ({count} runs) follows once every main run of this place is stored "
                        f"({len(runs)} of {len(main)} are)."), count
        winner, why = analysis.winner(runs, place)
        cells = sweep_cells(place, winner, self.fonts[place], self.seeds[place], sigmas)
        return cells, f"Sigma {', '.join(f'{s:g}' for s in sorted({*sigmas, SIGMA}))} for `{winner}`: {why}.", count

    def all_stored(self) -> tuple[list[analysis.Run], int, dict[str, str], dict[str, tuple[int, int]]]:
        """The stored runs, how many are planned, each place's sweep note and (stored, planned) main runs."""
        runs = self.stored(self.main)
        planned, notes, progress = len(self.main), {}, {}
        for place in self.args.places:
            main = [c for c in self.main if c.place == place]
            progress[place] = (len(self.stored(main)), len(main))
            cells, notes[place], count = self.sweep(place)
            runs += self.stored(cells)
            planned += count
        return runs, planned, notes, progress


def minutes_per_run(plan: Plan, place: str) -> tuple[float, str]:
    done = [r for c, r in plan.stored([c for c in plan.main if c.place == place])]
    if done:
        # A refiner-place generator is fine-tuned once for all the settings of its font and seed.
        shared = sum(r.get("generator_seconds", 0.0) for r in done) / len(plan.args.settings + ["off"])
        seconds = sum(r["train_seconds"] + r["measure_seconds"] for r in done) + shared
        return seconds / len(done) / 60, "measured here"
    if place == "scratch":
        return plan.args.steps * SCRATCH_SECONDS_PER_STEP / 60 + 1.0, "a guess"
    return GUESS_MINUTES[place], "a guess"


def dry_run(plan: Plan) -> None:
    total = 0.0
    for place in plan.args.places:
        main = [c for c in plan.main if c.place == place]
        states = [plan.ctx.state(c) for c in main]
        minutes, how = minutes_per_run(plan, place)
        todo = sum(s != "done" for s in states)
        print(f"{place}: {len(main)} main runs ({todo} to do), about {minutes:.1f} min each ({how})")
        for cell, state in zip(main, states):
            print(f"  {cell.key}: {state}")
        cells, note, count = plan.sweep(place)
        sweep_todo = sum(plan.ctx.state(c) != "done" for c in cells) if cells else count
        print(f"  sweep: {count} runs ({sweep_todo} to do). {note}")
        total += (todo + sweep_todo) * minutes
    print(f"about {total / 60:.1f} h of runs to do (2 cores; a busy machine takes longer)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    budget = Budget(train_glyphs=args.train_glyphs, holdout=args.holdout, limit_chars=args.limit_chars,
                    finetune_steps=args.finetune_steps, scratch_steps=args.steps, refiner_weight=args.refiner_weight)
    if args.steps < 2000 and "scratch" in args.places and not (args.dry_run or args.report_only):
        print(f"note: --steps {args.steps} is below the 2000 the report's from-scratch claims need (a smoke run?)",
              file=sys.stderr)
    if args.refiner_weight != REFINER_ADVERSARIAL_WEIGHT and args.places != ["refiner"]:
        print("blur ablation: --refiner-weight is for the refiner place alone; add --places refiner", file=sys.stderr)
        return 2
    smoke = (args.limit_chars > 0 or args.finetune_steps is not None
             or args.refiner_weight != REFINER_ADVERSARIAL_WEIGHT)
    ledger = args.ledger or (Path(args.work) / "ledger" if smoke else LEDGER)
    ctx = Context(Path(args.work), budget, base=args.base, ledger=ledger)
    plan = Plan(args, ctx)
    if args.dry_run:
        dry_run(plan)
        return 0
    started = time.perf_counter()
    if not args.report_only:
        stop = Path(args.work) / STOP_FILE
        # Lazily: a place's sweep is planned only once its main cells have run (it needs their winner).
        sweeps = (c for place in args.places for c in plan.sweep(place)[0])
        for cell in itertools.chain(plan.main, sweeps):
            if stop.exists():  # asked to stop between runs, so that no run's wall time holds a pause
                print(f"[ablation] {stop} is there: stopping before {cell.key}; remove it and run again to go on",
                      flush=True)
                break
            ctx.run(cell)
    # The report covers every place, whichever this invocation trained, so a sitting on one place
    # never drops another's section.
    whole = {"places": list(PLACES), "seeds": None, "settings": list(SETTINGS)}
    everything = Plan(argparse.Namespace(**{**vars(args), **whole}), ctx)
    runs, planned, notes, progress = everything.all_stored()
    report = write_report(ctx, runs, Path(args.report), places=list(PLACES), planned=planned, sweep_notes=notes,
                          progress=progress)
    print(f"[ablation] wrote {report} from {len(runs)} stored runs ({(time.perf_counter() - started) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
