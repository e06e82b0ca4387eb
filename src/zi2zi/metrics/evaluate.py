"""Evaluating a generator on a dataset split, always beside the trivial baseline.

For every pair of the split, G's output is compared with the real target glyph by every pixel
metric, and so is the source glyph itself (the baseline a model must beat: a model that copies its
input scores exactly that). With the glyph classifier, two more numbers per column:
``content_accuracy`` (the share of glyphs that read as the right character) and ``frechet`` (the
Frechet distance between classifier features of the column's glyphs and of the real targets).
The classifier's own accuracy on a font it never saw is reported beside them, so a reader knows
how far to trust them; its accuracy on the real targets (column ``real``) is the ceiling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zi2zi.config import ClassifierConfig, RenderSettings
from zi2zi.errors import CheckpointError, DatasetError, FontError, Zi2ziError
from zi2zi.fonts import FontFile, open_font
from zi2zi.images import to_unit
from zi2zi.metrics.frechet import frechet_distance
from zi2zi.metrics.pixel import METRICS, MetricAccumulator

SPLITS = ("train", "val", "holdout", "all")
CACHE_DIR = ".cache"  # inside the dataset directory: the classifier is a property of the dataset

# Metrics that need the classifier, with their direction, in the order tables show them.
CLASSIFIER_METRICS = {
    "content_accuracy": (True, "share of glyphs the classifier reads as the right character"),
    "frechet": (False, "Frechet distance of classifier features to the real targets"),
}


def _metric_table(with_classifier: bool) -> dict[str, dict[str, Any]]:
    table = {n: {"higher_is_better": m.higher_is_better, "description": m.description} for n, m in METRICS.items()}
    if with_classifier:
        for name, (higher, text) in CLASSIFIER_METRICS.items():
            table[name] = {"higher_is_better": higher, "description": text}
    return table


def _open_dataset(dataset_dir: str | Path, split: str):
    from zi2zi.data.dataset import GlyphDataset
    from zi2zi.data.layout import read_manifest

    manifest = read_manifest(dataset_dir)
    available = [s for s in SPLITS if s == "all" or manifest.get("split", {}).get(s)]
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r} for {dataset_dir}; available: {', '.join(available)}")
    data = GlyphDataset(dataset_dir, split)  # raises DatasetError naming the splits for an empty one
    if len(data) == 0:
        raise DatasetError(
            f"split {split!r} of {dataset_dir} has no pairs; available: {', '.join(available)}"
        )
    return data


def _style_map(model_styles: list[dict[str, Any]], data_info: dict[str, Any], data_styles: list[dict[str, Any]]):
    """Dataset style id -> model style id: by name (as the trainer matches them), else by font file.

    Matching by font lets a model whose style was renamed at fine-tuning (``--new-style``) still
    be evaluated on the dataset it learned that style from.
    """
    by_name = {s["name"]: int(s["id"]) for s in model_styles}
    by_font = {}
    for rec in data_info.get("styles", []):
        font = rec.get("font") or {}
        if font.get("sha256"):
            by_font[(font["sha256"], font.get("face", 0))] = int(rec["id"])
    mapping: dict[int, int] = {}
    for s in data_styles:
        font = s.get("font") or {}
        model_id = by_name.get(s["name"], by_font.get((font.get("sha256"), font.get("face", 0))))
        if model_id is not None:
            mapping[int(s["id"])] = model_id
    return mapping


def _load_model(checkpoint_or_generator: Any, data, device: torch.device):
    """(generator, dataset->model style map, checkpoint description or None)."""
    identity = {int(s["id"]): int(s["id"]) for s in data.manifest["styles"]}
    if isinstance(checkpoint_or_generator, nn.Module):
        g = checkpoint_or_generator
        return g, identity, None
    from zi2zi.checkpoints import load_checkpoint

    loaded = load_checkpoint(checkpoint_or_generator, device=device)
    mapping = _style_map(loaded.styles, loaded.data_info, data.manifest["styles"])
    if not mapping:
        theirs = ", ".join(s["name"] for s in data.manifest["styles"])
        ours = ", ".join(str(s["name"]) for s in loaded.styles)
        raise CheckpointError(
            f"{loaded.path.name} has none of the styles of {data.root} (dataset: {theirs}; "
            f"checkpoint: {ours}); evaluate on the dataset the model was trained on"
        )
    info = {"path": str(loaded.path), "step": loaded.step, "render": loaded.render}
    return loaded.generator, mapping, info


def _classifier_fonts(manifest: dict[str, Any], extra: Sequence[FontFile | str | Path]) -> tuple[list[FontFile], list[str]]:
    """The dataset's own fonts (source first) that are still on disk unchanged, then ``extra``."""
    from zi2zi.fonts import open_font_spec

    notes, fonts, seen = [], [], set()
    records = [("source", manifest["source"]["font"])] + [(s["name"], s["font"]) for s in manifest["styles"]]
    for label, rec in records:
        if not rec:  # a style made from glyph images (a scanned hand) has no font to render
            continue
        try:
            font = open_font(rec["path"], rec.get("face", 0))
        except FontError as exc:  # not on this machine, or not a font file any more (a pipe, damaged)
            notes.append(f"classifier: font of {label!r} ({Path(rec['path']).name}) cannot be used here ({exc}); "
                         "skipped")
            continue
        if rec.get("sha256") and font.sha256 != rec["sha256"]:
            notes.append(f"classifier: font of {label!r} ({font.path.name}) changed since rendering; skipped")
            continue
        if (font.sha256, font.face_index) not in seen:
            seen.add((font.sha256, font.face_index))
            fonts.append(font)
    for spec in extra:
        font = spec if isinstance(spec, FontFile) else open_font_spec(str(spec))
        if (font.sha256, font.face_index) not in seen:
            seen.add((font.sha256, font.face_index))
            fonts.append(font)
    return fonts, notes


def _safe_frechet(a: np.ndarray, b: np.ndarray) -> float | None:
    return frechet_distance(a, b) if len(a) >= 2 and len(b) >= 2 else None


def evaluate(
    checkpoint_or_generator: str | Path | nn.Module,
    dataset_dir: str | Path,
    split: str = "holdout",
    *,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    classifier: bool = True,
    classifier_fonts: Sequence[FontFile | str | Path] | None = None,
    classifier_cfg: ClassifierConfig | None = None,
    cache_dir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
    per_glyph: bool = False,
) -> dict[str, Any]:
    """Every metric for G and for the source-as-prediction baseline, overall and per style.

    ``checkpoint_or_generator``: a checkpoint file or run directory (loaded on ``device``), or a
    Generator whose style ids are the dataset's (run on the device its parameters are on).
    ``classifier_fonts`` adds fonts to the dataset's own for training the classifier (default: the
    installed corpus fonts of ``zi2zi.fonts.corpus.CLASSIFIER_EXTRA``), which holds out the source font (so it is measured on a style it never saw, while it learns the styles
    the model imitates). The classifier is cached in ``cache_dir`` (default ``DATASET/.cache``).
    ``per_glyph``: each column also gets ``per_glyph``, every pair's values (``char``, ``style`` and
    each pixel metric; ``content_accuracy`` 1.0 or 0.0 with the classifier), for paired comparisons
    of two models on the same characters.
    """
    from zi2zi.device import resolve_device

    started = time.perf_counter()
    dev = resolve_device(str(device))
    if isinstance(checkpoint_or_generator, nn.Module):  # a module in hand runs where it lives
        dev = next(checkpoint_or_generator.parameters(), torch.empty(0, device=dev)).device
    data = _open_dataset(dataset_dir, split)
    g, style_map, ckpt = _load_model(checkpoint_or_generator, data, dev)
    if getattr(g, "image_size", data.image_size) != data.image_size:
        raise CheckpointError(
            f"the generator works at {g.image_size} px but {data.root} is rendered at {data.image_size} px; "
            "evaluate on a dataset rendered at the model's size"
        )
    notes: list[str] = []
    render = RenderSettings(**{k: v for k, v in data.manifest["render"].items() if k in ("size", "mode", "margin")})
    if ckpt and ckpt["render"] != render:
        notes.append(f"the model was trained on glyphs rendered with {ckpt['render']}, the dataset uses {render}")

    names = {int(s["id"]): s["name"] for s in data.manifest["styles"]}
    keep = np.isin(data.style_ids, list(style_map))
    skipped = sorted({names[int(s)] for s in np.unique(data.style_ids[~keep])})
    if skipped:
        notes.append(f"styles the model does not have, not evaluated: {', '.join(skipped)}")
    indices = np.flatnonzero(keep)
    if len(indices) == 0:
        raise DatasetError(f"no pair of split {split!r} has a style the model knows")
    lookup = torch.full((max(style_map) + 1,), -1, dtype=torch.long)
    for d, m in style_map.items():
        lookup[d] = m

    clf, untrusted = None, None
    if classifier:
        if classifier_fonts is None:
            from zi2zi.fonts.corpus import classifier_fonts as corpus_classifier_fonts

            classifier_fonts = corpus_classifier_fonts()
        clf, clf_notes = _get_classifier(data, render, classifier_fonts, classifier_cfg, cache_dir, dev, log)
        notes.extend(clf_notes)
        threshold = (classifier_cfg or ClassifierConfig()).min_trusted_accuracy
        acc = clf.info.get("holdout_accuracy") if clf is not None else None
        if clf is not None and (acc is None or acc < threshold):
            untrusted = clf
            clf = None
            warning = (
                f"WARNING: the glyph classifier reads a font it never saw ({untrusted.info.get('holdout_font')}) "
                f"at only {'?' if acc is None else f'{acc:.1%}'} (< {threshold:.0%}), so content accuracy and "
                "Frechet distance are not reported; train it on more fonts with --classifier-font "
                "(or install the corpus fonts: scripts/install-corpus-fonts.sh)"
            )
            notes.append(warning)
            if log:
                log(warning)

    acc_model, acc_base = MetricAccumulator(), MetricAccumulator()
    feats: dict[str, list[torch.Tensor]] = {"model": [], "baseline": [], "real": []}
    preds: dict[str, list[torch.Tensor]] = {"model": [], "baseline": [], "real": []}
    was_training = g.training
    g.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(indices), batch_size):
                batch = data.batch(indices[start : start + batch_size])
                fake = g(batch["source"].to(dev), lookup[batch["style"]].to(dev)).float().cpu()
                pred, source, target = to_unit(fake), to_unit(batch["source"]), to_unit(batch["target"])
                acc_model.update(pred, target, batch["style"])
                acc_base.update(source, target, batch["style"])
                if clf is not None:
                    for key, images in (("model", pred), ("baseline", source), ("real", target)):
                        p, f = clf.predict(images, with_features=True)
                        preds[key].append(p)
                        feats[key].append(f)
    finally:
        g.train(was_training)

    styles_np = data.style_ids[indices]
    results = {"model": _named(acc_model.result(), names), "baseline": _named(acc_base.result(), names)}
    if clf is not None:
        labels = clf.class_indices(data.codepoints[indices]).numpy()
        unknown = int((labels < 0).sum())
        if unknown:
            notes.append(f"{unknown} glyphs are of characters the classifier does not know; counted as wrong")
        _add_classifier_metrics(results, preds, feats, labels, styles_np, names)

    if per_glyph:
        chars = [chr(int(c)) for c in data.codepoints[indices]]
        style_names = [names[int(s)] for s in styles_np]
        for key, acc in (("model", acc_model), ("baseline", acc_base)):
            results[key]["per_glyph"] = {"char": chars, "style": style_names, **acc.per_image()}
        if clf is not None:
            for key in ("model", "baseline", "real"):
                correct = (torch.cat(preds[key]).numpy() == labels).astype(np.float64)
                results[key].setdefault("per_glyph", {"char": chars, "style": style_names})
                results[key]["per_glyph"]["content_accuracy"] = correct.tolist()

    counts = {names[int(s)]: int((styles_np == s).sum()) for s in np.unique(styles_np)}
    return {
        "dataset": str(data.root),
        "split": split,
        "pairs": int(len(indices)),
        "characters": int(len(np.unique(data.codepoints[indices]))),
        "checkpoint": ckpt["path"] if ckpt else None,
        "step": ckpt["step"] if ckpt else None,
        "device": str(dev),
        "styles": [
            {"id": sid, "model_id": style_map[sid], "name": names[sid], "pairs": counts[names[sid]]}
            for sid in sorted(style_map)
            if names[sid] in counts
        ],
        "metrics": _metric_table(clf is not None),
        "results": results,
        "classifier": _classifier_summary(clf or untrusted, trusted=untrusted is None),
        "notes": notes,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _add_classifier_metrics(
    results: dict[str, Any],
    preds: dict[str, list[torch.Tensor]],
    feats: dict[str, list[torch.Tensor]],
    labels: np.ndarray,
    styles: np.ndarray,
    names: dict[int, str],
) -> None:
    """Content accuracy for every column; Frechet distance to the real targets for model and baseline."""
    real_feats = torch.cat(feats["real"]).numpy()
    results["real"] = {"overall": {}, "per_style": {n: {} for n in results["model"]["per_style"]}}
    for key in ("model", "baseline", "real"):
        correct = (torch.cat(preds[key]).numpy() == labels).astype(np.float64)
        results[key]["overall"]["content_accuracy"] = float(correct.mean())
        for sid in np.unique(styles):
            results[key]["per_style"][names[int(sid)]]["content_accuracy"] = float(correct[styles == sid].mean())
        if key == "real":
            continue
        f = torch.cat(feats[key]).numpy()
        results[key]["overall"]["frechet"] = _safe_frechet(f, real_feats)
        for sid in np.unique(styles):
            m = styles == sid
            results[key]["per_style"][names[int(sid)]]["frechet"] = _safe_frechet(f[m], real_feats[m])


def _named(result: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    return {
        "overall": dict(result["overall"]),
        "per_style": {names[sid]: {k: v for k, v in row.items() if k != "count"} for sid, row in result["per_style"].items()},
    }


def _get_classifier(data, render, extra_fonts, cfg, cache_dir, device, log):
    from zi2zi.metrics.classifier import get_classifier

    fonts, notes = _classifier_fonts(data.manifest, extra_fonts)
    if len(fonts) < 2:
        notes.append(
            f"classifier metrics skipped: {len(fonts)} usable font(s), 2 or more are needed "
            "(one is held out to measure the classifier); add fonts with --classifier-font"
        )
        return None, notes
    source_sha = data.manifest["source"]["font"].get("sha256")
    holdout = next((i for i, f in enumerate(fonts) if f.sha256 == source_sha), len(fonts) - 1)
    cache = Path(cache_dir) if cache_dir is not None else data.root / CACHE_DIR
    chars = data.manifest["characters"]  # every split's characters: one cached classifier per dataset
    try:
        clf = get_classifier(chars, fonts, cache_dir=cache, holdout=holdout, render=render, cfg=cfg, device=device, log=log)
    except Zi2ziError as exc:
        notes.append(f"classifier metrics skipped: {exc}")
        return None, notes
    return clf.to(device), notes


def _classifier_summary(clf, *, trusted: bool) -> dict[str, Any] | None:
    if clf is None:
        return None
    keys = ("classes", "holdout_font", "holdout_glyphs", "holdout_accuracy", "train_fonts", "seconds", "cached", "cache")
    return {**{k: clf.info.get(k) for k in keys}, "trusted": trusted}
