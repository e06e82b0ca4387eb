"""Base models shipped with zi2zi: find them, describe them, and package a finished run as one.

A base is an ordinary zi2zi checkpoint (G and D weights with the self-describing metadata) stored
in fp16 in this package folder, with a model card (``NAME.md``) beside it. Its metadata carries a
``base`` record: the corpus fonts and their licences, the characters, the held-out characters no
style was trained on, steps, wall time, hardware and held-out metrics. ``scripts/train_base.py``
rebuilds each base from scratch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from zi2zi.errors import CheckpointError

SUFFIX = ".safetensors"


class _Shipped:
    """A shipped file as ``zi2zi models --json`` writes it."""

    path: Path

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        data["path"] = str(self.path)
        return data


@dataclass(frozen=True)
class BaseModel(_Shipped):
    """What ``zi2zi models`` shows of one shipped base."""

    name: str
    path: Path
    image_size: int
    source_family: str
    source_file: str
    styles: list[str]
    parameters: int
    file_bytes: int
    steps: int


def bases_dir() -> Path:
    return Path(str(resources.files("zi2zi.bases")))


def _describe(path: Path) -> BaseModel:
    from safetensors import safe_open

    from zi2zi.checkpoints import read_metadata

    doc = read_metadata(path)
    with safe_open(str(path), framework="pt") as fh:
        parameters = sum(_numel(fh.get_slice(k).get_shape()) for k in fh.keys() if k.startswith("generator."))
    source = doc.get("data_info", {}).get("source", {}).get("font", {})
    return BaseModel(
        name=path.stem,
        path=path,
        image_size=int(doc["config"]["model"]["image_size"]),
        source_family=str(source.get("family", "?")),
        source_file=Path(str(source.get("path", "?"))).name,
        styles=[str(s["name"]) for s in doc.get("styles", [])],
        parameters=parameters,
        file_bytes=path.stat().st_size,
        steps=int(doc.get("step", 0)),
    )


def _numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _file_format(path: Path) -> str | None:
    """The ``format`` a shipped safetensors file declares in its header (checkpoint or refiner)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            return (fh.metadata() or {}).get("format")
    except Exception:  # an unreadable file is neither; resolve_base names it when asked for
        return None


def _shipped(file_format: str) -> list[Path]:
    return [p for p in sorted(bases_dir().glob(f"*{SUFFIX}")) if _file_format(p) == file_format]


def _shipped_bases() -> list[Path]:
    from zi2zi.checkpoints import FORMAT

    return _shipped(FORMAT)


def list_bases() -> list[BaseModel]:
    """Every base shipped in this installation, by name."""
    return [_describe(p) for p in _shipped_bases()]


@dataclass(frozen=True)
class ShippedRefiner(_Shipped):
    """What ``zi2zi models`` shows of one shipped refiner."""

    name: str
    path: Path
    base: str  # the base whose glyphs it was trained to refine
    size: int
    coarse_size: int
    parameters: int
    file_bytes: int


def list_refiners() -> list[ShippedRefiner]:
    """Every refiner shipped in this installation (see :mod:`zi2zi.refine`)."""
    from safetensors import safe_open

    from zi2zi.refine.files import FORMAT, read_refiner_metadata

    found = []
    for path in _shipped(FORMAT):
        doc = read_refiner_metadata(path)
        with safe_open(str(path), framework="pt") as fh:
            parameters = sum(_numel(fh.get_slice(k).get_shape()) for k in fh.keys())
        found.append(ShippedRefiner(name=path.stem, path=path, base=str(doc.get("refiner", {}).get("base", "?")),
                                    size=int(doc["render"]["size"]), coarse_size=int(doc["coarse_render"]["size"]),
                                    parameters=parameters, file_bytes=path.stat().st_size))
    return found


def refiner_for_base(base: str | Path) -> Path | None:
    """The shipped refiner trained on a shipped base's glyphs (by the base's name), if any."""
    name = Path(base).stem
    return next((r.path for r in list_refiners() if r.base == name), None)


def base_names() -> list[str]:
    return [p.stem for p in _shipped_bases()]


def resolve_base(name_or_checkpoint: str | Path) -> Path:
    """A shipped base by name, else a checkpoint file or run directory (its best or latest)."""
    from zi2zi.checkpoints import resolve_checkpoint

    shipped = bases_dir() / f"{name_or_checkpoint}{SUFFIX}"
    if shipped.is_file() and shipped in _shipped_bases():
        return shipped
    if Path(name_or_checkpoint).exists():
        return resolve_checkpoint(name_or_checkpoint)
    names = ", ".join(base_names()) or "none are installed"
    raise CheckpointError(
        f"--base {name_or_checkpoint}: no shipped base of that name (shipped: {names}) and no such "
        "checkpoint file or run directory; see `zi2zi models`"
    )


def package_base(
    checkpoint: str | Path,
    name: str,
    *,
    manifest: dict[str, Any],
    recipe: str,
    fonts: list[dict[str, str]],
    wall_seconds: float,
    metrics: dict[str, Any],
    selection: str = "",
    out_dir: str | Path | None = None,
) -> Path:
    """Write ``checkpoint`` (trained on the dataset of ``manifest``) as base ``name``: fp16 weights
    plus a model card. Returns the card's path. Only floating tensors are halved; BatchNorm
    counters stay integers. ``wall_seconds``: training time up to the checkpoint's step;
    ``selection``: how this checkpoint was chosen among the run's, in words.
    """
    import torch

    from zi2zi import checkpoints as ckpt
    from zi2zi.device import cpu_name
    from zi2zi.storage.atomic import write_text

    source = ckpt.resolve_checkpoint(checkpoint)
    doc = ckpt.read_metadata(source)
    halved = {
        net: {key: t.half() if t.is_floating_point() else t for key, t in part.items()}
        for net, part in ckpt.read_weights(source).items()
    }
    base = {
        "name": name,
        "recipe": recipe,
        "fonts": fonts,
        "steps": int(doc.get("step", 0)),
        "characters": len(manifest["characters"]),
        "holdout": manifest["split"]["holdout"],
        "wall_seconds": round(wall_seconds),
        "selection": selection,
        "hardware": f"{cpu_name()}, {_cpu_count()} CPU cores, torch {torch.__version__}",
        "metrics": metrics,
    }
    # The run's own document, with the base's record; its metrics were the run's at save time.
    kept = {k: v for k, v in doc.items() if k not in ckpt.FORMAT_FIELDS}
    meta = ckpt.checkpoint_meta(**(kept | {"base": base, "metrics": {}}))
    out = Path(out_dir) if out_dir is not None else bases_dir()
    path = out / f"{name}{SUFFIX}"
    ckpt.save_weights(path, generator=halved["generator"], discriminator=halved["discriminator"], meta=meta)
    card = path.with_suffix(".md")
    write_text(card, model_card(_describe(path), meta))
    return card


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def model_card(info: BaseModel, doc: dict[str, Any]) -> str:
    """The markdown model card of a packaged base, from its metadata alone."""
    base = doc["base"]
    cfg = doc["config"]
    hours = base["wall_seconds"] / 3600
    lines = [
        f"# zi2zi base model `{info.name}`",
        "",
        f"A zi2zi generator and discriminator at {info.image_size} px trained on {len(info.styles)} styles of "
        f"free CJK fonts, from {info.source_family} (`{info.source_file}`). Fine-tune it to a new font "
        f"with `zi2zi finetune --base {info.name}`.",
        "",
        f"- Weights: fp16 safetensors, {info.file_bytes / 1e6:.1f} MB; generator {info.parameters / 1e6:.1f} M parameters "
        f"(ngf {cfg['model']['generator']['ngf']}, ndf {cfg['model']['discriminator']['ndf']}, "
        f"D blur `{cfg['model']['discriminator']['blur']}`).",
        f"- Training: {base['steps']} steps of batch {cfg['train']['batch_size']}, {hours:.1f} h wall time on {base['hardware']}"
        + (f"; {base['selection']}." if base.get("selection") else "."),
        f"- Recipe: `{base['recipe']}` (rebuilds it from scratch).",
        f"- Characters: {base.get('characters', '?')}; {len(base.get('holdout', ''))} held-out characters were "
        "never trained in any style.",
        "",
        "## Held-out metrics",
        "",
        "Per style, then averaged, on the held-out characters (64 px, glyphs in [0, 1]); the baseline is the "
        "source glyph used as the prediction.",
        "",
        "| metric | model | baseline |",
        "|---|---|---|",
    ]
    for key, pair in base.get("metrics", {}).items():
        lines.append(f"| {key} | {pair['model']:.4f} | {pair['baseline']:.4f} |")
    lines += ["", "## Fonts (all from Debian packages; none of the evaluation fonts)", "",
              "| style | file | package | licence | class |", "|---|---|---|---|---|"]
    for f in base["fonts"]:
        lines.append(f"| {f['name']} | {f['file']} | {f['package']} | {f['licence']} | {f['style']} |")
    return "\n".join(lines) + "\n"
