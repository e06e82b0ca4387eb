"""Checkpoints that rebuild their model alone, written so that a crash never leaves a fake one.

A run directory holds ``checkpoints/step-00001000.safetensors``: the weights of G and D (keys
``generator.*`` / ``discriminator.*``) with, in the safetensors metadata, one JSON document that
describes everything else: format and version, zi2zi version, the resolved config, step and epoch,
the style list, the dataset's render settings and font records (em boxes included), and the
validation metrics at save time. That file alone is enough to generate glyphs. Training, importing
(:mod:`zi2zi.checkpoints.euphoriayan`) and base packaging (:mod:`zi2zi.bases`) all build the
document with :func:`checkpoint_meta` and write it with :func:`save_weights`; the file names
(:func:`checkpoint_name`, :func:`state_path`, :data:`BEST`) are decided here only.

``step-00001000.state.pt`` beside it holds what only resuming needs (optimisers, RNG states, the
position in the epoch; see :mod:`zi2zi.checkpoints.resume`). ``best.safetensors`` is a copy of
the checkpoint with the lowest validation L1. Every file is written through
:mod:`zi2zi.storage.atomic`, so a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from zi2zi import __version__
from zi2zi.config import Config, ConfigError, RenderSettings
from zi2zi.errors import CheckpointError
from zi2zi.storage.atomic import write_bytes

if TYPE_CHECKING:  # models import torch modules that only loading needs
    from zi2zi.models import Discriminator, Generator

FORMAT = "zi2zi-checkpoint"
FORMAT_VERSION = 1
META_KEY = "zi2zi"  # the safetensors metadata key that holds our JSON document
CHECKPOINT_DIR = "checkpoints"
BEST = "best.safetensors"
_STEP_RE = re.compile(r"^step-(\d+)\.safetensors$")


def checkpoint_name(step: int) -> str:
    return f"step-{step:08d}.safetensors"


def state_path(weights: Path) -> Path:
    """``step-00001000.safetensors`` -> ``step-00001000.state.pt``."""
    return weights.with_name(weights.name[: -len(".safetensors")] + ".state.pt")


# ---- writing ---------------------------------------------------------------------------------

FORMAT_FIELDS = ("format", "format_version", "zi2zi_version")  # what the builder adds by itself


def checkpoint_meta(
    *,
    config: Config | Mapping[str, Any],
    num_styles: int,
    styles: list[dict[str, Any]],
    render: RenderSettings | Mapping[str, Any],
    step: int = 0,
    epoch: int = 0,
    style_map: Mapping[str, Any] | None = None,
    data_info: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    init_from: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The metadata document of a checkpoint: the one builder, for training, importing and
    packaging alike (see the module docstring for what each field is). ``extra``: records of
    where the weights came from (``imported_from``, a base's ``base``)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "zi2zi_version": __version__,
        "config": config.to_dict() if isinstance(config, Config) else dict(config),
        "step": int(step),
        "epoch": int(epoch),
        "num_styles": int(num_styles),
        "styles": list(styles),
        "style_map": dict(style_map or {}),
        "render": dataclasses.asdict(render) if isinstance(render, RenderSettings) else dict(render),
        "data_info": dict(data_info or {}),
        "metrics": dict(metrics or {}),
        "init_from": init_from,
        **extra,
    }


def _flat_state(prefix: str, weights: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state = weights.state_dict() if isinstance(weights, nn.Module) else weights
    # contiguous(): channels_last weights and views must be plain dense tensors in safetensors.
    return {f"{prefix}.{k}": v.detach().to("cpu").contiguous() for k, v in state.items()}


def save_weights(
    path: Path,
    *,
    generator: nn.Module | Mapping[str, torch.Tensor],
    discriminator: nn.Module | Mapping[str, torch.Tensor],
    meta: dict[str, Any],
) -> Path:
    """Write G + D weights (modules or state dicts) and the metadata document from
    :func:`checkpoint_meta`, atomically.

    Serialised in memory, then written by zi2zi's atomic writer: a full disk is then an OSError
    naming the file (safetensors' own writer reports it as an opaque SafetensorError), and the
    temporary is removed, so the previous checkpoint stays the newest."""
    from safetensors.torch import save

    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise ValueError("save_weights writes the document of checkpoint_meta(); build the metadata with it")
    tensors = {**_flat_state("generator", generator), **_flat_state("discriminator", discriminator)}
    data = save(tensors, metadata={"format": FORMAT, META_KEY: json.dumps(meta, ensure_ascii=False)})
    return write_bytes(path, data)


def list_checkpoints(run_dir: Path) -> list[Path]:
    """``step-*.safetensors`` of a run, oldest first (by step number, not by file time)."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_RE.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_resumable(run_dir: Path) -> Path | None:
    """Newest checkpoint that has its training state beside it (both are written, state first)."""
    for path in reversed(list_checkpoints(run_dir)):
        if state_path(path).is_file():
            return path
    return None


def newest_intact(run_dir: Path, notify: Callable[[str], None]) -> Path | None:
    """The newest checkpoint whose weights and training state both read back, passing over (and
    saying so through ``notify``) newer ones that a crash, a full disk or an edit damaged."""
    from zi2zi.checkpoints.resume import load_state

    skipped: list[str] = []
    for path in reversed(list_checkpoints(run_dir)):
        if not state_path(path).is_file():
            continue
        try:
            read_metadata(path)  # the header and its length: a truncated file fails here
            load_state(state_path(path))
        except CheckpointError as exc:
            skipped.append(f"{path.name} ({str(exc).split('; ')[0].removeprefix(str(path)).strip(' :')})")
            continue
        if skipped:
            notify(f"zi2zi train: passed over the damaged checkpoint(s) {', '.join(skipped)}; "
                   f"resuming from {path.name}, the newest intact one")
        return path
    return None


def prune(run_dir: Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` step checkpoints (and their states); best stays."""
    removed = []
    ckpts = list_checkpoints(run_dir)
    for path in ckpts[: max(0, len(ckpts) - max(1, keep_last))]:
        path.unlink(missing_ok=True)
        state_path(path).unlink(missing_ok=True)
        removed.append(path)
    # States whose weights never landed (killed in between) are useless: drop them too.
    folder = Path(run_dir) / CHECKPOINT_DIR
    kept = {p.name for p in list_checkpoints(run_dir)}
    for orphan in folder.glob("step-*.state.pt"):
        if orphan.name.replace(".state.pt", ".safetensors") not in kept:
            orphan.unlink(missing_ok=True)
    return removed


# ---- reading ---------------------------------------------------------------------------------


def resolve_checkpoint(path: str | Path) -> Path:
    """A ``.safetensors`` file as given, or a run directory -> its best checkpoint, else its latest."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"checkpoint {p} does not exist; give a .safetensors file or a run directory")
    if p.is_file():
        return p
    for run in (p, p.parent if p.name == CHECKPOINT_DIR else None):
        if run is None:
            continue
        best = run / CHECKPOINT_DIR / BEST
        if best.is_file():
            return best
        ckpts = list_checkpoints(run)
        if ckpts:
            return ckpts[-1]
    raise CheckpointError(
        f"{p} holds no checkpoints (no {CHECKPOINT_DIR}/{BEST} or {CHECKPOINT_DIR}/step-*.safetensors); "
        "train first with `zi2zi train`, or give a .safetensors file"
    )


# The fields of the metadata document every reader uses, with the JSON type each must have (a
# checkpoint may come from anyone: it is checked before anything is built from it).
_META_TYPES: dict[str, type | tuple[type, ...]] = {
    "config": dict, "step": int, "epoch": int, "num_styles": int, "styles": list, "style_map": dict,
    "render": dict, "data_info": dict, "metrics": dict, "init_from": (str, type(None)), "base": dict,
}
# Beyond this many parameters a checkpoint is not a zi2zi model (zi2zi's own at 256 px: ~60 M).
MAX_PARAMETERS = 1_000_000_000


def safetensors_header(p: Path, *, what: str = "checkpoint", advice: str = ""
                       ) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """(metadata, tensor shapes) from the safetensors header of a zi2zi file (``what``: checkpoint,
    refiner), without reading any tensor; ``advice`` follows the missing-file error."""
    from safetensors import safe_open

    from zi2zi.storage.reading import check_regular

    if not p.exists():
        raise CheckpointError(f"{what} {p} does not exist" + (f"; {advice}" if advice else ""))
    check_regular(p, what=what, error=CheckpointError)
    try:
        with safe_open(str(p), framework="pt") as fh:
            return dict(fh.metadata() or {}), {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CheckpointError(
            f"{p} is not a readable safetensors {what} ({type(exc).__name__}: {str(exc)[:200]}); "
            "it may be truncated or another kind of file"
        ) from None


def read_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor of a checkpoint, from its header alone."""
    return safetensors_header(Path(path))[1]


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON document of a checkpoint, without loading its tensors: parsed bounded (see
    :mod:`zi2zi.storage.reading`) and its fields type-checked."""
    p = Path(path)
    meta, _ = safetensors_header(p)
    return parse_metadata(meta, p)


def parse_metadata(meta: dict[str, str], p: Path | str) -> dict[str, Any]:
    """The zi2zi document in a safetensors header's metadata (also for uploads, before saving)."""
    from zi2zi.storage.reading import parse_json

    if meta.get("format") != FORMAT or not isinstance(meta.get(META_KEY), str):
        raise CheckpointError(f"{p} is a safetensors file but not a zi2zi checkpoint (no zi2zi metadata)")
    doc = parse_json(meta[META_KEY], what=f"{p}: its zi2zi metadata", error=CheckpointError,
                     advice="the checkpoint is corrupt or was edited: use another checkpoint")
    if not isinstance(doc, dict):
        raise CheckpointError(f"{p}: its zi2zi metadata is not a JSON object; the checkpoint is corrupt")
    version = doc.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise CheckpointError(f"{p} has checkpoint format version {version!r}; upgrade zi2zi to read it")
    for key, kind in _META_TYPES.items():
        value: Any = doc.get(key)
        if key in doc and (not isinstance(value, kind) or isinstance(value, bool)
                           or (isinstance(value, int) and value < 0)):
            raise CheckpointError(f"{p}: its metadata field {key!r} is malformed; the checkpoint is corrupt "
                                  "or was edited: use another checkpoint")
    return doc


def check_fits(p: Path, cfg: Config, num_styles: int, shapes: dict[str, tuple[int, ...]]) -> None:
    """Refuse, before any memory is allocated, a checkpoint whose config describes a model larger
    than zi2zi builds, or whose tensors are not the ones that model has (shapes from the header;
    the model is built on torch's meta device, which allocates nothing)."""
    from zi2zi.config import MAX_STYLES
    from zi2zi.models import build_models

    if not 1 <= num_styles <= MAX_STYLES:
        raise CheckpointError(f"{p}: its style table has {num_styles} rows; zi2zi models have 1 to {MAX_STYLES}")
    with torch.device("meta"):
        g, d = build_models(cfg, num_styles)
    expected = {f"generator.{k}": tuple(v.shape) for k, v in g.state_dict().items()}
    stored_d = {k: v for k, v in shapes.items() if k.startswith("discriminator.")}
    if stored_d:  # D is optional in a checkpoint meant only for generating
        expected |= {f"discriminator.{k}": tuple(v.shape) for k, v in d.state_dict().items()}
    total = sum(math.prod(s) for s in expected.values())
    if total > MAX_PARAMETERS:
        raise CheckpointError(f"{p}: its config describes a model of {total:,} parameters, more than zi2zi "
                              f"builds ({MAX_PARAMETERS:,}); use another checkpoint")
    for key, shape in shapes.items():
        if key not in expected:
            raise CheckpointError(f"{p}: unexpected tensor {key!r}; not a zi2zi checkpoint of the model its "
                                  "config describes")
        if shape != expected[key]:
            raise CheckpointError(f"{p}: tensor {key!r} is {list(shape)}, but the model its config describes "
                                  f"has {list(expected[key])}; the checkpoint is corrupt or was edited")
    missing = sorted(set(expected) - set(shapes))
    if missing:
        raise CheckpointError(f"{p}: it lacks the tensor {missing[0]!r} of the model its config describes")


def read_weights(path: str | Path, device: str | torch.device = "cpu") -> dict[str, dict[str, torch.Tensor]]:
    """``{"generator": state_dict, "discriminator": state_dict}`` from a checkpoint."""
    from safetensors.torch import load_file

    try:
        flat = load_file(str(path), device=str(device))
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot read its tensors ({type(exc).__name__}: {exc}); the file is corrupt") from None
    parts: dict[str, dict[str, torch.Tensor]] = {"generator": {}, "discriminator": {}}
    for key, value in flat.items():
        net, _, name = key.partition(".")
        if net not in parts or not name:
            raise CheckpointError(f"{path}: unexpected tensor {key!r}; not a zi2zi checkpoint")
        parts[net][name] = value
    if not parts["generator"]:
        raise CheckpointError(f"{path} has no generator weights")
    return parts


@dataclass
class LoadedCheckpoint:
    path: Path
    config: Config
    generator: Generator
    discriminator: Discriminator
    styles: list[dict[str, Any]]
    render: RenderSettings
    data_info: dict[str, Any]
    step: int
    epoch: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_styles(self) -> int:
        return int(self.generator.num_styles)

    def style_id(self, name_or_id: str | int) -> int:
        """A style id from its name or its number, with an error listing the styles."""
        return int(find_style(self.styles, name_or_id, where=self.path.name)["id"])


def find_style(styles: list[dict[str, Any]], name_or_id: str | int, *, where: str = "this checkpoint") -> dict[str, Any]:
    """The one style lookup: by id (``3``) or by name (case-insensitive); the error lists the styles."""
    text = str(name_or_id).strip()
    for style in styles:
        if (text.isdecimal() and int(style["id"]) == int(text)) or str(style["name"]).casefold() == text.casefold():
            return style
    known = ", ".join(f"{s['id']}: {s['name']}" for s in styles)
    raise CheckpointError(f"unknown style {name_or_id!r}; {where} has {known}")


def _checked_styles(path: Path, styles: Any) -> list[dict[str, Any]]:
    """Style records as every reader assumes them: an int id and a text name each."""
    ok = isinstance(styles, list) and all(
        isinstance(s, dict) and isinstance(s.get("id"), int) and not isinstance(s.get("id"), bool)
        and s["id"] >= 0 and isinstance(s.get("name"), str)
        for s in styles
    )
    if not ok:
        raise CheckpointError(
            f"{path}: its style list is malformed (each style needs an integer id >= 0 and a name); "
            "the checkpoint is corrupt or was edited: use another checkpoint"
        )
    return list(styles)


def _render_settings(data: dict[str, Any] | None, size: int) -> RenderSettings:
    if not data:
        return RenderSettings(size=size)
    known = {f.name for f in dataclasses.fields(RenderSettings)}
    return RenderSettings(**{k: v for k, v in data.items() if k in known})


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> LoadedCheckpoint:
    """Rebuild G (eval mode) and D from a checkpoint file or run directory, with no other file."""
    from zi2zi.models import build_models

    p = resolve_checkpoint(path)
    meta, shapes = safetensors_header(p)
    doc = parse_metadata(meta, p)
    try:
        cfg = Config.from_dict(doc["config"])
    except (KeyError, ConfigError) as exc:
        raise CheckpointError(f"{p}: its stored config cannot be used ({exc})") from None
    emb = shapes.get("generator.style_embedding.weight")
    num_styles = int(emb[0]) if emb else int(doc.get("num_styles", cfg.model.generator.num_styles))
    check_fits(p, cfg, num_styles, shapes)  # before a byte of the model is allocated
    weights = read_weights(p, "cpu")
    g, d = build_models(cfg, num_styles)
    try:
        g.load_state_dict(weights["generator"])
        if weights["discriminator"]:
            d.load_state_dict(weights["discriminator"])
    except RuntimeError as exc:
        raise CheckpointError(f"{p}: weights do not fit the model its config describes ({exc})") from None
    g.to(device).eval()
    d.to(device).eval()
    try:
        render = _render_settings(doc.get("render"), cfg.model.image_size).validate(prefix="render.")
        step, epoch = int(doc.get("step", 0)), int(doc.get("epoch", 0))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{p}: its render settings or step are malformed ({exc}); use another checkpoint") from None
    return LoadedCheckpoint(
        path=p,
        config=cfg,
        generator=g,
        discriminator=d,
        styles=_checked_styles(p, doc.get("styles", [])),
        render=render,
        data_info=dict(doc.get("data_info", {})),
        step=step,
        epoch=epoch,
        metrics=dict(doc.get("metrics") or {}),
        meta=doc,
    )
