"""Importing a checkpoint of zi2zi-pytorch (EuphoriaYan's PyTorch port of zi2zi).

That project saves ``{epoch}_net_G.pth`` and ``{epoch}_net_D.pth``: plain ``state_dict``s of its
recursive U-Net and of its PatchGAN. zi2zi's models were built to the same shapes and arithmetic
(see tests/test_models.py), so importing is renaming keys. The files are read with
``torch.load(weights_only=True)``: tensors and plain containers only, never code.

Key layout there (depth ``d`` counts U-Net levels from the outside, ``n`` levels in all):

- G: ``model.`` + ``submodule.`` * d, then ``down.K`` / ``up.K`` for the layers of that level's
  ``nn.Sequential``: the outermost level has ``down.0`` (conv) and ``up.1`` (transposed conv,
  biased); the others ``down.1`` (conv), ``down.2`` (norm, not on the innermost level), ``up.1``
  (transposed conv), ``up.2`` (norm). The style table is ``embedder.weight``.
- D: ``model.{0,2,5,8,11}`` convs, ``model.{3,6,9}`` norms, ``binary`` / ``catagory`` linear heads.

Weights saved from ``nn.DataParallel`` carry a ``module.`` prefix, which is dropped.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch

from zi2zi.config import Config, RenderSettings
from zi2zi.errors import CheckpointError

_NORM_PARTS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
# D's sequential: (index of the conv, index of its norm or None) per layer, then the 1-channel map.
_D_LAYERS = ((0, None), (2, 3), (5, 6), (8, 9))
_D_PATCH = 11
_EPOCH = re.compile(r"^(\d+)_net_[GD]\.pth$")


def read_state(path: Path) -> dict[str, torch.Tensor]:
    """A state dict of tensors, loaded without unpickling anything else."""
    from zi2zi.checkpoints.resume import safe_load

    state = safe_load(path, what="zi2zi-pytorch weights", advice="give the N_net_G.pth / N_net_D.pth of a zi2zi-pytorch run")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} is not a state dict of tensors (a zi2zi-pytorch N_net_G.pth / N_net_D.pth)")
    return {k.removeprefix("module."): v for k, v in state.items()}


def _prefix(depth: int) -> str:
    return "model." + "submodule." * depth


def _depth(state: dict[str, torch.Tensor]) -> int:
    n = 0
    while f"{_prefix(n)}up.1.weight" in state:
        n += 1
    return n


def generator_keys(state: dict[str, torch.Tensor]) -> dict[str, str]:
    """zi2zi-pytorch G key -> zi2zi G key, for every tensor of ``state``."""
    n = _depth(state)
    if n < 5 or "embedder.weight" not in state:
        raise CheckpointError(
            "not a zi2zi-pytorch generator: expected nested model.submodule... blocks (at least 5) and "
            "embedder.weight; give the N_net_G.pth file"
        )
    names: dict[str, str] = {"embedder.weight": "style_embedding.weight"}
    for d in range(n):
        p = _prefix(d)
        names[f"{p}down.{0 if d == 0 else 1}.weight"] = f"down.{d}.conv.weight"
        names[f"{p}down.{0 if d == 0 else 1}.bias"] = f"down.{d}.conv.bias"
        names[f"{p}up.1.weight"] = f"up.{d}.conv.weight"
        names[f"{p}up.1.bias"] = f"up.{d}.conv.bias"
        for part in _NORM_PARTS:
            if 0 < d < n - 1:
                names[f"{p}down.2.{part}"] = f"down.{d}.norm.{part}"
            if d > 0:
                names[f"{p}up.2.{part}"] = f"up.{d}.norm.{part}"
    return {k: names[k] for k in state if k in names} | _unknown(state, names, "generator")


def discriminator_keys(state: dict[str, torch.Tensor]) -> dict[str, str]:
    names = {"binary.weight": "rf_head.weight", "binary.bias": "rf_head.bias",
             "catagory.weight": "category_head.weight", "catagory.bias": "category_head.bias"}
    for i, (conv, norm) in enumerate(_D_LAYERS):
        for part in ("weight", "bias"):
            names[f"model.{conv}.{part}"] = f"layers.{i}.0.{part}"
            names[f"model.{_D_PATCH}.{part}"] = f"patch.{part}"
        if norm is not None:
            for part in _NORM_PARTS:
                names[f"model.{norm}.{part}"] = f"layers.{i}.1.{part}"
    if f"model.{_D_PATCH}.weight" not in state:
        raise CheckpointError(
            "this zi2zi-pytorch discriminator has no 1-channel patch layer (model.11; an earlier version "
            "of that project); import the generator alone by leaving out --discriminator"
        )
    return {k: names[k] for k in state if k in names} | _unknown(state, names, "discriminator")


def _unknown(state: dict[str, torch.Tensor], names: dict[str, str], what: str) -> dict[str, str]:
    extra = sorted(set(state) - set(names))
    if extra:
        raise CheckpointError(f"unexpected tensor {extra[0]!r} in the {what} file: not the zi2zi-pytorch layout")
    return {}


def config_for(g_state: dict[str, torch.Tensor], d_state: dict[str, torch.Tensor] | None) -> Config:
    """The zi2zi config whose models have exactly these tensors."""
    n = _depth(g_state)
    first = g_state[f"{_prefix(0)}down.0.weight"]  # (ngf, channels, 4, 4)
    if first.shape[1] != 1:
        raise CheckpointError(
            f"the generator takes {first.shape[1]}-channel images; zi2zi works on 1-channel (grey) glyphs"
        )
    cfg = Config()
    cfg.model.image_size = 2**n
    g = cfg.model.generator
    g.ngf = int(first.shape[0])
    g.num_styles, g.style_dim = (int(s) for s in g_state["embedder.weight"].shape)
    g.norm = "batch" if f"{_prefix(1)}down.2.running_mean" in g_state else "instance"
    g.dropout_blocks = n - 5  # that U-Net drops out on its ngf*8 middle levels only
    dc = cfg.model.discriminator
    dc.blur = "none"  # zi2zi-pytorch's D has no blur
    dc.n_layers = 3
    if d_state is not None:
        dc.ndf = int(d_state["model.0.weight"].shape[0])
        dc.norm = "batch" if "model.3.running_mean" in d_state else "instance"
        features = int(d_state["binary.weight"].shape[1])
        if features != (cfg.model.image_size // 8) ** 2:
            raise CheckpointError(
                f"the discriminator was built for {int(math.isqrt(features)) * 8} px images but the generator "
                f"for {cfg.model.image_size} px; give the G and D files of one run"
            )
    cfg.loss.category_form = "sigmoid"
    return cfg.validate()


def epoch_of(path: Path) -> int:
    match = _EPOCH.match(path.name)
    return int(match.group(1)) if match else 0


def import_pair(
    generator_file: str | Path,
    discriminator_file: str | Path | None,
    out: str | Path,
    *,
    style_names: list[str] | None = None,
    mode: str = "fit",
    margin: float = 0.05,
) -> tuple[Path, list[str]]:
    """Write a zi2zi checkpoint (``.safetensors``) from a zi2zi-pytorch G (and D) file.

    Returns the written path and notes for the user. Without a D file, D starts from zi2zi's
    initialisation (fine-tuning then trains it from scratch). ``mode`` / ``margin``: how the
    model's training glyphs were drawn; ``generate`` renders its input the same way.
    """
    from zi2zi.checkpoints.files import checkpoint_meta, save_weights
    from zi2zi.models import build_models

    out = Path(out)
    if out.suffix != ".safetensors":
        raise CheckpointError(f"--out {out} must end in .safetensors")
    if out.exists():
        raise CheckpointError(f"--out {out} exists; choose a new file name (nothing is overwritten)")
    g_path = Path(generator_file)
    g_state = read_state(g_path)
    d_path = Path(discriminator_file) if discriminator_file else None
    d_state = read_state(d_path) if d_path else None
    # The two files swapped or given twice (an easy slip of tab completion) are named as such.
    if "binary.weight" in g_state:
        raise CheckpointError(f"--generator {g_path} is a discriminator file (N_net_D.pth); give N_net_G.pth")
    if d_state is not None and "embedder.weight" in d_state:
        raise CheckpointError(f"--discriminator {d_path} is a generator file (N_net_G.pth); give N_net_D.pth")
    g_names = generator_keys(g_state)
    d_names = discriminator_keys(d_state) if d_state is not None else {}
    cfg = config_for(g_state, d_state)
    num_styles = cfg.model.generator.num_styles
    names = list(style_names or [])
    if names and len(names) != num_styles:
        raise CheckpointError(f"{len(names)} style names for {num_styles} styles in {g_path.name}; give one per style")
    names = names or [f"style {i}" for i in range(num_styles)]
    torch.manual_seed(0)  # a D without a file gets the same init on every import
    G, D = build_models(cfg, num_styles)
    notes = []
    try:
        G.load_state_dict({g_names[k]: v for k, v in g_state.items()}, strict=True)
        if d_state is not None:
            D.load_state_dict({d_names[k]: v for k, v in d_state.items()}, strict=True)
        else:
            notes.append("no discriminator file: D is freshly initialised (fine-tuning trains it)")
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"{g_path.name}: the tensors do not fit the layout they name ({first})") from None
    # zi2zi-pytorch centres each glyph in its canvas, closest to mode "fit".
    settings = RenderSettings(size=cfg.model.image_size, mode=mode, margin=margin).validate()  # type: ignore[arg-type]
    notes.append(
        f"render settings assumed: {settings.mode}, margin {settings.margin}; zi2zi-pytorch records none, so "
        "give the ones matching how its training images were drawn"
    )
    meta = checkpoint_meta(
        config=cfg, num_styles=num_styles, styles=[{"id": i, "name": n} for i, n in enumerate(names)],
        render=settings, epoch=epoch_of(g_path),
        imported_from={"layout": "zi2zi-pytorch", "generator": g_path.name,
                       "discriminator": d_path.name if d_path else None},
    )
    save_weights(out, generator=G, discriminator=D, meta=meta)
    return out, notes
