"""zi2zi evaluate: a checkpoint's metrics on a dataset split, beside the trivial baseline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from zi2zi.errors import Zi2ziError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure a checkpoint on a dataset split (model vs source-as-prediction baseline)",
        description=(
            "Run the generator on every pair of a dataset split and report L1, RMSE, PSNR, SSIM and "
            "ink IoU for the model and for the trivial baseline (the source glyph used as the "
            "prediction), overall and per style. Unless --no-classifier, also content accuracy and "
            "a Frechet distance from a glyph classifier trained on the dataset's fonts (cached in "
            "DATA/.cache; the first run trains it, ~2 min for 1000 characters on CPU), with the "
            "classifier's accuracy on a font it never saw."
        ),
        epilog="example: zi2zi evaluate --checkpoint runs/kai --split holdout",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help=".safetensors file or run directory")
    p.add_argument("--data", metavar="DIR", help="dataset directory (default: the one the run was trained on)")
    p.add_argument("--split", default="holdout", help="train, val, holdout (unseen characters) or all")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--no-classifier", action="store_true", help="pixel metrics only (no classifier training)")
    p.add_argument("--classifier-font", action="append", default=[], metavar="FONT",
                   help="another font (PATH or PATH#FACE) to train the classifier on; repeatable")
    p.add_argument("--no-corpus-fonts", action="store_true",
                   help="train the classifier on the dataset's fonts and --classifier-font only, not also "
                        "on the installed corpus fonts")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.set_defaults(run=run)


def recorded_data_dir(checkpoint: str | Path) -> Path | None:
    """The dataset a checkpoint was trained on: its metadata, else its run directory's run.json."""
    from zi2zi.checkpoints import CHECKPOINT_DIR, read_metadata, resolve_checkpoint
    from zi2zi.training.rundir import RUN_FILE

    path = resolve_checkpoint(checkpoint)
    recorded = (read_metadata(path).get("data_info") or {}).get("data_dir")
    if not recorded and path.parent.name == CHECKPOINT_DIR:
        run_file = path.parent.parent / RUN_FILE
        from zi2zi.training.rundir import read_run_info

        recorded = read_run_info(run_file.parent).get("data_dir")
    return Path(recorded) if recorded else None


def run(args: argparse.Namespace) -> int:
    from zi2zi.cli.checks import int_in_range
    from zi2zi.metrics.evaluate import evaluate

    int_in_range("--batch-size", args.batch_size, 1, 4096)
    data = Path(args.data) if args.data else recorded_data_dir(args.checkpoint)
    if data is None:
        raise Zi2ziError(
            f"{args.checkpoint} does not record which dataset it was trained on; pass --data DIR"
        )
    log = None if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    result = evaluate(
        args.checkpoint, data, args.split, batch_size=args.batch_size, device=args.device,
        classifier=not args.no_classifier, classifier_fonts=_classifier_fonts(args), log=log,
    )
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
    else:
        print(format_table(result))
    return 0


def _classifier_fonts(args: argparse.Namespace) -> list[str]:
    from zi2zi.fonts.corpus import classifier_fonts

    return ([] if args.no_corpus_fonts else classifier_fonts()) + list(args.classifier_font)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"


def format_table(result: dict[str, Any]) -> str:
    """Metric rows, model / baseline / real columns, overall then one block per style."""
    res = result["results"]
    columns = [c for c in ("model", "baseline", "real") if c in res]
    lines = [
        f"checkpoint {result['checkpoint'] or '(in memory)'} (step {result['step']})",
        f"dataset {result['dataset']}, split {result['split']}: {result['pairs']} pairs, "
        f"{result['characters']} characters, {len(result['styles'])} style(s)",
    ]
    clf = result.get("classifier")
    if clf:
        acc = clf["holdout_accuracy"]
        lines.append(
            f"classifier: {clf['classes']} characters; accuracy on a font it never saw "
            f"({clf['holdout_font']}): {'-' if acc is None else f'{acc:.1%}'}"
            f"{' (cached)' if clf.get('cached') else ''}"
            f"{'' if clf.get('trusted', True) else ' -- NOT TRUSTED, its figures are left out'}"
        )
    blocks = [("overall", {c: res[c]["overall"] for c in columns}, result["pairs"])]
    for s in result["styles"]:
        blocks.append((f"style {s['id']} {s['name']!r}", {c: res[c]["per_style"].get(s["name"], {}) for c in columns}, s["pairs"]))
    for title, rows, pairs in blocks:
        lines += ["", f"{title} ({pairs} pairs)", f"  {'metric':<18}{'better':<8}" + "".join(f"{c:>11}" for c in columns)]
        for name, meta in result["metrics"].items():
            better = "higher" if meta["higher_is_better"] else "lower"
            cells = "".join(f"{_fmt(rows[c].get(name)) if name in rows[c] else '':>11}" for c in columns)
            lines.append(f"  {name:<18}{better:<8}{cells}")
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)
