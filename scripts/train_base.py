#!/usr/bin/env python3
"""Rebuild a shipped zi2zi base model from scratch: render the corpus, train, package.

    python scripts/train_base.py --work WORK                 # render (once), then train or resume
    python scripts/train_base.py --work WORK --package NAME  # fp16 weights + model card into the package

The recipe is the ``base-64`` preset (src/zi2zi/config.py) on every corpus font of
``zi2zi.fonts.corpus`` (install them with scripts/install-corpus-fonts.sh), with Noto Serif CJK SC
Regular as the source. Training resumes exactly, so a run may span several sittings: run the same
command again. The evaluation fonts are refused as training styles.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zi2zi.checkpoints import CHECKPOINT_DIR
from zi2zi.config import RenderSettings, load_config
from zi2zi.data import render_dataset
from zi2zi.fonts import resolve_charset
from zi2zi.fonts.corpus import BASE_SOURCE, CORPUS, is_evaluation_font
from zi2zi.training import TrainOptions, train

# GB2312 for simplified Chinese, JIS X 0208 kanji for the Japanese styles, Big5 level 1 for the
# traditional forms; each style trains on the part of it that its font covers.
CHARSETS = ("gb2312", "jis0208", "big5-1")
HOLDOUT = 500  # characters no style ever trains on: the few-shot report's held-out set


def base_characters() -> list[str]:
    chars: list[str] = []
    for spec in CHARSETS:
        chars += resolve_charset(spec)
    return list(dict.fromkeys(chars))


def render(work: Path, size: int) -> Path:
    data = work / "data"
    if (data / "manifest.json").is_file():
        return data
    targets = [font.spec for font in CORPUS]
    leaked = [t for t in targets if is_evaluation_font(t.split("#")[0])]
    if leaked:
        sys.exit(f"train_base: evaluation fonts must stay unseen, refusing {leaked}")
    report = render_dataset(
        source=BASE_SOURCE.spec, targets=targets, style_names=[f.name for f in CORPUS],
        chars=base_characters(), out=data, settings=RenderSettings(size=size), holdout=HOLDOUT, seed=0,
    )
    print(f"rendered {report.pairs} pairs of {report.characters} characters in {report.seconds:.0f} s")
    return data


def run_log(run: Path) -> list[dict]:
    """The run's metrics.jsonl records, every sitting's."""
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def training_seconds(run: Path, log: list[dict], until_step: int | None = None) -> float:
    """Time spent in training steps up to ``until_step`` (default: all), summed over the run's
    logged intervals (all sittings)."""
    cfg = json.loads((run / "config.json").read_text(encoding="utf-8"))["train"]
    seconds, last_step = 0.0, 0
    for rec in log:
        if until_step is not None and rec.get("step", 0) > until_step:
            continue
        if rec.get("kind") == "train" and rec.get("img_per_s"):
            steps = max(0, rec["step"] - last_step) if rec["step"] > last_step else cfg["log_every"]
            seconds += steps * cfg["batch_size"] / rec["img_per_s"]
            last_step = rec["step"]
    return seconds


def package(run: Path, data: Path, name: str, preset: str) -> Path:
    from zi2zi.bases import package_base
    from zi2zi.checkpoints import read_metadata, resolve_checkpoint
    from zi2zi.data.layout import read_manifest
    from zi2zi.metrics.evaluate import evaluate

    checkpoint = resolve_checkpoint(run)  # best.safetensors: the lowest validation L1 of the run
    step = int(read_metadata(checkpoint).get("step", 0))
    log = run_log(run)
    last = max((rec.get("step", 0) for rec in log), default=step)
    selection = (f"the run's checkpoint with the lowest validation L1, step {step} of {last} "
                 f"({training_seconds(run, log) / 3600:.1f} h for all {last})") if step != last else ""
    result = evaluate(checkpoint, data, "holdout", classifier=False)["results"]
    metrics = {k: {"model": result["model"]["overall"][k], "baseline": result["baseline"]["overall"][k]}
               for k in result["model"]["overall"]}
    fonts = [{"name": f.name, "file": f.file, "package": f.package, "licence": f.licence, "style": f.style}
             for f in CORPUS]
    return package_base(checkpoint, name, manifest=read_manifest(data), recipe=f"scripts/train_base.py --preset {preset}",
                        fonts=fonts, wall_seconds=training_seconds(run, log, step), metrics=metrics,
                        selection=selection)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True, type=Path, help="folder for the dataset and the run (outside the repo)")
    ap.add_argument("--preset", default="base-64")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--package", metavar="NAME", help="package the finished run as base NAME instead of training")
    args = ap.parse_args()
    cfg = load_config(args.preset, overrides=args.overrides)
    run = args.work / "run"
    if args.package:
        print(f"wrote {package(run, args.work / 'data', args.package, args.preset)}")
        return
    data = render(args.work, cfg.model.image_size)
    summary = train(TrainOptions(data=data, out=run, config=cfg, resume=(run / CHECKPOINT_DIR).is_dir()))
    print(f"finished at step {summary.step}: {summary.checkpoint}")


if __name__ == "__main__":
    main()
