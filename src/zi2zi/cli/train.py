"""zi2zi train: train, resume or fine-tune a model on a rendered dataset."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zi2zi.config import PRESETS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train (or resume, or fine-tune) a zi2zi model on a rendered dataset",
        description=(
            "Train G and D on a dataset from `zi2zi render`. The run directory gets config.json,\n"
            "run.json, metrics.jsonl, samples/ and checkpoints/ (step-*.safetensors, best.safetensors).\n"
            "Under torchrun (`torchrun --nproc_per_node N -m zi2zi train ...`) it trains with DDP."
        ),
        epilog=(
            "examples: zi2zi train --data data/kai64 --out runs/kai --preset cpu-small\n"
            "          zi2zi train --data data/kai64 --out runs/kai --resume --max-steps 6000\n"
            "          zi2zi train --data data/mine64 --out runs/mine --init-from runs/kai "
            "--new-style Mine --only-new-styles --set train.freeze_encoder=true"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, metavar="DIR", help="dataset folder from `zi2zi render`")
    p.add_argument("--out", required=True, metavar="RUN", help="run directory")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="starting config (default: classic; on --resume the run's own config)")
    p.add_argument("--config", metavar="FILE", help="YAML/TOML file refining the preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value, e.g. --set train.lr=2e-4 (repeatable)")
    p.add_argument("--max-steps", type=int, metavar="N", help="same as --set train.max_steps=N")
    p.add_argument("--max-minutes", type=float, metavar="M",
                   help="stop cleanly (with a checkpoint) after M minutes of this session")
    p.add_argument("--device", metavar="D", help="auto | cpu | cuda | cuda:N | mps (default: train.device)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    p.add_argument("--overwrite", action="store_true", help="delete the run in --out and start over")
    p.add_argument("--init-from", metavar="CKPT", help="start from a trained checkpoint (file or run directory)")
    p.add_argument("--new-style", metavar="NAME",
                   help="with --init-from: add the dataset's one style as a new style named NAME")
    p.add_argument("--only-new-styles", action="store_true",
                   help="with --init-from: train only the styles this run adds (sets train.train_styles)")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config as JSON and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _overrides(args: argparse.Namespace) -> list[str]:
    items = list(args.overrides)
    if args.max_steps is not None:
        items.append(f"train.max_steps={args.max_steps}")
    if args.max_minutes is not None:
        items.append(f"train.max_minutes={args.max_minutes}")
    if args.device is not None:
        items.append(f"train.device={args.device}")
    return items


def _options(args: argparse.Namespace):  # -> TrainOptions (imported lazily: torch)
    from zi2zi.config import is_chosen
    from zi2zi.training.options import TrainOptions
    from zi2zi.training.rundir import start_config

    overrides = _overrides(args)
    config = start_config(Path(args.out), resume=args.resume, preset=args.preset, config_file=args.config,
                          overrides=overrides)
    return TrainOptions(
        data=args.data, out=args.out, config=config, resume=args.resume, overwrite=args.overwrite,
        init_from=args.init_from, new_style=args.new_style, only_new_styles=args.only_new_styles,
        # A size the user did not choose is only the preset's default: the dataset's is taken.
        image_size_from_data=not is_chosen("model.image_size", config_file=args.config, overrides=args.overrides),
        progress=not args.no_progress,
    ).check()


def _dry_run(args: argparse.Namespace) -> int:
    """The same refusals and the same resolved config as a real start, touching nothing."""
    from zi2zi.data import read_manifest
    from zi2zi.device import resolve_device
    from zi2zi.training import rundir
    from zi2zi.training.plan import plan_run

    options = _options(args)
    resolve_device(options.config.train.device)  # a device a real run would refuse (--device tpu)
    out = Path(args.out)
    resume_from = rundir.check(out, resume=args.resume, overwrite=args.overwrite,
                               notify=lambda note: print(note, file=sys.stderr))
    plan = plan_run(
        options.config, read_manifest(args.data), data_dir=Path(args.data), run_dir=out,
        resume_from=resume_from, init_from=args.init_from, new_style=args.new_style,
        only_new_styles=args.only_new_styles, image_size_from_data=options.image_size_from_data,
    )
    print(plan.config.to_json())
    for note in plan.notes:
        print(f"zi2zi train: {note}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.dry_run:
        return _dry_run(args)
    from zi2zi.training.distributed import env_dist_info
    from zi2zi.training.trainer import train

    summary = train(_options(args))
    if env_dist_info().is_main:
        best = f", best val L1 {summary.best_val_l1:.4f}" if summary.best_val_l1 is not None else ""
        print(json.dumps({
            "run_dir": str(summary.run_dir), "step": summary.step, "epoch": summary.epoch,
            "stopped": summary.stopped, "checkpoint": str(summary.checkpoint) if summary.checkpoint else None,
            "best_val_l1": summary.best_val_l1, "img_per_s": round(summary.images_per_second, 3),
        }))
        print(f"zi2zi train: {summary.stopped} at step {summary.step}{best}; checkpoint {summary.checkpoint}",
              file=sys.stderr)
    return 130 if summary.stopped == "interrupted" else 0
