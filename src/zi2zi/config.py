"""Typed configuration: the single source of every default in zi2zi.

A run is described by one :class:`Config`. Presets are named starting points; a YAML/TOML file and
``--set section.key=value`` overrides refine them. Unknown keys are errors, so a typo never silently
falls back to a default (a bug of the zi2zi forks, whose flags were often parsed and never used).
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from zi2zi.errors import Zi2ziError

RenderMode = Literal["em", "fit"]
Norm = Literal["batch", "instance"]
BlurPlace = Literal["none", "input", "layers", "output"]
GanMode = Literal["bce", "lsgan", "hinge"]
Schedule = Literal["halving", "cosine", "constant"]
CategoryForm = Literal["sigmoid", "softmax"]
Amp = Literal["auto", "none", "bf16", "fp16"]

# The allowed values of each mode, for code that checks or lists them: the Literal types are
# their single source.
RENDER_MODES: tuple[str, ...] = typing.get_args(RenderMode)
NORMS: tuple[str, ...] = typing.get_args(Norm)
BLUR_PLACES: tuple[str, ...] = typing.get_args(BlurPlace)
GAN_MODES: tuple[str, ...] = typing.get_args(GanMode)
SCHEDULES: tuple[str, ...] = typing.get_args(Schedule)
AMPS: tuple[str, ...] = typing.get_args(Amp)

# Largest glyph side zi2zi renders or trains on: 4096 px is already 16 MB per uint8 image.
MAX_IMAGE_SIZE = 4096
# Largest model widths and style table zi2zi builds (see _validate_model).
MAX_CHANNELS = 1024
MAX_STYLE_DIM = 4096
MAX_STYLES = 100_000


class ConfigError(Zi2ziError, ValueError):
    """A configuration value or key that cannot be used; the message says which and why."""


@dataclass
class RenderSettings:
    """How a glyph becomes a bitmap. Recorded with every image set so later steps reproduce it."""

    size: int = 256
    # "em": the font's own em box, one scale per font (relative size and position survive).
    # "fit": the ink box scaled into the margin, for fonts with odd metrics.
    mode: RenderMode = "em"
    # Blank border on every side, as a fraction of `size`.
    margin: float = 0.0

    def validate(self, prefix: str = "--") -> RenderSettings:
        """Refuse sizes and margins that cannot render (``prefix`` names the options in messages)."""
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 8 <= self.size <= MAX_IMAGE_SIZE:
            raise ConfigError(f"{prefix}size {self.size!r} must be an integer from 8 to {MAX_IMAGE_SIZE} px")
        if self.mode not in RENDER_MODES:
            raise ConfigError(f"{prefix}mode {self.mode!r}: choose one of {', '.join(RENDER_MODES)}")
        if not (isinstance(self.margin, (int, float)) and 0.0 <= self.margin < 0.5):
            raise ConfigError(f"{prefix}margin {self.margin!r} must be a fraction in [0, 0.5)")
        return self


@dataclass
class GeneratorConfig:
    """zi2zi's U-Net. Depth follows the image size so the bottleneck is 1x1."""

    ngf: int = 64
    num_styles: int = 40  # rows of the style embedding (zi2zi: 40 fonts)
    style_dim: int = 128
    norm: Norm = "batch"
    dropout: float = 0.5
    dropout_blocks: int = 3  # innermost up blocks that use dropout


@dataclass
class DiscriminatorConfig:
    """The seed's PatchGAN with an optional Gaussian blur (see the seed README)."""

    ndf: int = 64
    n_layers: int = 3
    norm: Norm = "batch"
    blur: BlurPlace = "input"
    blur_kernel: int = 5
    blur_sigma: float = 1.0
    blur_fade_steps: int = 0  # sigma falls linearly to 0 over this many steps; 0 keeps it constant


@dataclass
class ModelConfig:
    image_size: int = 256
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)


@dataclass
class LossConfig:
    gan_mode: GanMode = "bce"
    l1_weight: float = 100.0
    const_weight: float = 15.0
    category_weight: float = 1.0
    tv_weight: float = 0.0
    flip_labels: bool = False  # zi2zi's label shuffling: fake pairs with wrong style labels
    # How D's category head is scored. "sigmoid" is what zi2zi (TF and PyTorch port) computes:
    # per-class binary cross-entropy against the one-hot label; "softmax" is plain cross-entropy.
    # Added by the trainer so the classic preset reproduces zi2zi's loss exactly.
    category_form: CategoryForm = "sigmoid"
    g_steps_per_d: int = 2
    # False: no discriminator at all; G learns from the L1 and const losses alone (D's weights are
    # kept as they are). Fine-tuning on few glyphs uses it: there a pretrained D overpowers the new
    # style and G draws noise to fool it (zi2zi.finetune.recipe has the measurements).
    adversarial: bool = True


@dataclass
class TrainConfig:
    batch_size: int = 16
    epochs: int = 100
    max_steps: int = 0  # 0: run for `epochs`
    max_minutes: float = 0.0  # 0: no wall-clock limit
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    schedule: Schedule = "halving"
    schedule_epochs: int = 20  # halving period
    min_lr: float = 2e-4
    augment: bool = True
    seed: int = 0
    deterministic: bool = False
    checkpoint_every: int = 1000
    keep_last: int = 3
    sample_every: int = 500
    eval_every: int = 500
    log_every: int = 10
    eval_max_chars: int = 256  # validation characters per evaluation (0: all)
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    amp: Amp = "auto"  # auto: bf16 where faster (a GPU that has it, else fp16; AMX or AMD AVX-512 BF16), else fp32
    # Measured on a 2-core CPU (make bench, speed.md): the step 1.15x faster at 256 px, 1.07x at
    # 64 px, same math; NHWC is also what GPU convolutions prefer under autocast.
    channels_last: bool = True
    num_threads: int = 0  # 0: torch's default
    # Fine-tuning (zi2zi's promise that its PyTorch port never wired).
    freeze_encoder: bool = False
    train_styles: list[int] = field(default_factory=list)  # empty: every style


@dataclass
class ClassifierConfig:
    """The glyph classifier that measures content accuracy (zi2zi.metrics.classifier).

    Not part of a training run's Config: it belongs to evaluation and is cached per dataset. The
    defaults train on ~1000 characters x 4 fonts in ~1-2 minutes on two idle CPU cores and read a
    fifth, unseen font at >= 95% (benchmarks/bench_classifier.py).
    """

    size: int = 64  # input side in pixels (a multiple of 16); glyphs are rendered or resized to it
    width: int = 32  # channels of the first conv; the feature vector has 8x this
    epochs: int = 12
    min_steps: int = 400  # few characters make short epochs; below this many steps it underfits
    batch_size: int = 128
    lr: float = 4e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    seed: int = 0
    # Below this accuracy on its unseen font the classifier is not trusted: content accuracy and
    # Frechet distance are then left out of results, with a warning, instead of misleading.
    min_trusted_accuracy: float = 0.9


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Build and validate (types, then ranges) a config from nested dicts."""
        return _build(cls, data, "").validate()

    def validate(self) -> Config:
        """Every range the models and the loop rely on, checked before anything is built, so that
        ``zi2zi train --dry-run`` refuses exactly what a real run would."""
        _validate_model(self.model)
        _validate_loss(self.loss)
        _validate_train(self.train)
        return self


def _at_least(name: str, value: float, minimum: float, hint: str = "") -> None:
    if not value >= minimum:  # also refuses NaN
        raise ConfigError(f"{name}={value!r} must be >= {minimum}{hint}")


def _validate_model(m: ModelConfig) -> None:
    size = m.image_size
    if size < 16 or size > MAX_IMAGE_SIZE or size & (size - 1):
        raise ConfigError(
            f"model.image_size={size!r} cannot be used: the generator halves the image down to 1x1, so it "
            f"must be a power of two from 16 to {MAX_IMAGE_SIZE} (e.g. 64, 128, 256); render the dataset at such a size"
        )
    g, d = m.generator, m.discriminator
    for name, value in (("generator.ngf", g.ngf), ("generator.num_styles", g.num_styles),
                        ("generator.style_dim", g.style_dim), ("discriminator.ndf", d.ndf),
                        ("discriminator.n_layers", d.n_layers)):
        _at_least(f"model.{name}", value, 1)
    # Upper bounds: a config (or a checkpoint's metadata, which may be crafted) must not make zi2zi
    # allocate terabytes; the largest useful models are far below them (zi2zi: ngf 64, 40 styles).
    for name, value, most in (("generator.ngf", g.ngf, MAX_CHANNELS), ("discriminator.ndf", d.ndf, MAX_CHANNELS),
                              ("generator.style_dim", g.style_dim, MAX_STYLE_DIM),
                              ("generator.num_styles", g.num_styles, MAX_STYLES)):
        if value > most:
            raise ConfigError(f"model.{name}={value!r} is larger than zi2zi builds (at most {most})")
    _at_least("model.generator.dropout_blocks", g.dropout_blocks, 0)
    if not 0.0 <= g.dropout < 1.0:
        raise ConfigError(f"model.generator.dropout={g.dropout!r} must be in [0, 1)")
    validate_discriminator(d, size)


def validate_discriminator(d: DiscriminatorConfig, size: int) -> None:
    """The discriminator's values at image size ``size`` (also checked when one is built alone)."""
    _at_least("model.discriminator.ndf", d.ndf, 1)
    _at_least("model.discriminator.n_layers", d.n_layers, 1)
    for key, value, mode in (("norm", d.norm, Norm), ("blur", d.blur, BlurPlace)):
        if value not in typing.get_args(mode):
            raise ConfigError(f"model.discriminator.{key}={value!r}; choose one of {', '.join(typing.get_args(mode))}")
    if d.blur_kernel < 1 or d.blur_kernel % 2 == 0:
        raise ConfigError(f"model.discriminator.blur_kernel={d.blur_kernel!r} must be an odd positive integer (e.g. 5)")
    _at_least("model.discriminator.blur_sigma", d.blur_sigma, 0, " (0 disables the blur)")
    _at_least("model.discriminator.blur_fade_steps", d.blur_fade_steps, 0)
    depth = int(math.log2(size))
    patch = size // 2**d.n_layers
    if patch < 2:
        raise ConfigError(
            f"model.discriminator.n_layers={d.n_layers} halves {size} px below a 2x2 patch map; "
            f"use n_layers <= {depth - 1}"
        )
    smallest = size if d.blur == "input" else patch
    if d.blur != "none" and d.blur_kernel // 2 >= smallest:
        raise ConfigError(
            f"model.discriminator.blur_kernel={d.blur_kernel} is too large for the {smallest}x{smallest} "
            f"map it would blur (blur={d.blur}); use a smaller kernel, fewer n_layers, or blur=input"
        )


def _validate_loss(loss: LossConfig) -> None:
    for name in ("l1_weight", "const_weight", "category_weight", "tv_weight"):
        value = getattr(loss, name)
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"loss.{name}={value!r} must be a finite number >= 0")
    _at_least("loss.g_steps_per_d", loss.g_steps_per_d, 1, " (zi2zi: 2)")
    if loss.flip_labels and not loss.adversarial:
        raise ConfigError("loss.flip_labels needs the discriminator (its shuffled fakes have no target); "
                          "set loss.adversarial=true or loss.flip_labels=false")


def _validate_train(t: TrainConfig) -> None:
    """Values the loop would trip over later (a zero modulus, an empty batch), refused up front."""
    for name in ("batch_size", "log_every", "keep_last", "schedule_epochs"):
        _at_least(f"train.{name}", getattr(t, name), 1)
    for name in ("epochs", "max_steps", "max_minutes", "checkpoint_every", "sample_every", "eval_every",
                 "eval_max_chars", "num_threads"):
        _at_least(f"train.{name}", getattr(t, name), 0, " (0 turns it off or means the default)")
    if t.max_steps == 0 and t.epochs == 0:
        raise ConfigError("train.epochs and train.max_steps are both 0: set how long to train")
    if not (math.isfinite(t.lr) and t.lr > 0 and math.isfinite(t.min_lr) and t.min_lr >= 0):
        raise ConfigError(f"train.lr={t.lr} must be > 0 and train.min_lr={t.min_lr} >= 0")
    for name in ("beta1", "beta2"):
        value = getattr(t, name)
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"train.{name}={value!r} must be in [0, 1)")
    if t.amp not in AMPS:
        raise ConfigError(f"train.amp={t.amp!r}; choose one of {', '.join(AMPS)}")
    bad = [s for s in t.train_styles if s < 0]
    if bad:
        raise ConfigError(f"train.train_styles has {bad[0]}; style ids are >= 0")


# Where and how fast a run computes (not what it learns): a model trained elsewhere brings its own
# values, which need not suit this machine.
RUNTIME_KEYS = ("device", "amp", "channels_last", "num_threads")


def with_runtime_defaults(cfg: Config) -> Config:
    """A copy of ``cfg`` whose runtime train keys (:data:`RUNTIME_KEYS`) are today's defaults."""
    out = Config.from_dict(cfg.to_dict())
    for key in RUNTIME_KEYS:
        setattr(out.train, key, getattr(TrainConfig(), key))
    return out


def _preset_classic() -> Config:
    """EuphoriaYan/zi2zi-pytorch's defaults at 256 px."""
    return Config()


def _preset_cpu_small() -> Config:
    """64 px and a model small enough to learn in minutes on two CPU cores."""
    cfg = Config()
    cfg.model.image_size = 64
    cfg.model.generator.ngf = 32
    cfg.model.generator.style_dim = 64
    cfg.model.discriminator.ndf = 32
    cfg.train.batch_size = 32
    cfg.train.lr = 2e-3
    cfg.train.schedule = "cosine"
    cfg.train.min_lr = 1e-4
    cfg.train.max_steps = 3000
    cfg.train.checkpoint_every = 500
    cfg.train.sample_every = 250
    cfg.train.eval_every = 250
    return cfg


def _preset_base_64() -> Config:
    """The shipped 64 px base model: cpu-small's network trained on the whole font corpus.

    Rebuilt from scratch by ``scripts/train_base.py``; 31 corpus styles plus spare embedding rows.
    """
    cfg = _preset_cpu_small()
    cfg.model.generator.num_styles = 48
    cfg.train.max_steps = 16000
    cfg.train.min_lr = 1e-4
    cfg.train.checkpoint_every = 500
    cfg.train.keep_last = 2
    cfg.train.sample_every = 1000
    cfg.train.eval_every = 1000
    return cfg


PRESETS = {"classic": _preset_classic, "cpu-small": _preset_cpu_small, "base-64": _preset_base_64}


def preset(name: str) -> Config:
    try:
        return PRESETS[name]()
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def load_config(
    preset_name: str = "classic",
    config_file: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> Config:
    """Preset, then file, then ``key=value`` overrides, each layer validated against the types."""
    data = preset(preset_name).to_dict()
    if config_file is not None:
        _merge(data, _read_config_file(Path(config_file)), "")
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} must look like section.key=value, e.g. train.lr=2e-4")
        _set_dotted(data, key.strip(), _parse_value(raw.strip()))
    return Config.from_dict(data)


def is_chosen(key: str, *, config_file: str | Path | None = None, overrides: Sequence[str] = ()) -> bool:
    """Did the user choose the dotted ``key`` (``model.image_size``) in an override or the config
    file, rather than leave it to the preset?"""
    if any(o.split("=", 1)[0].strip() == key for o in overrides):
        return True
    if config_file is None:
        return False
    data: Any = _read_config_file(Path(config_file))
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


# A config is a few dozen keys; a larger file, or one nested deeper than its sections, is not one.
MAX_CONFIG_BYTES = 1 << 20


def _read_config_file(path: Path) -> dict[str, Any]:
    from zi2zi.storage.reading import MAX_JSON_DEPTH, depth, read_bytes

    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    data = read_bytes(path, what="config file", max_bytes=MAX_CONFIG_BYTES, error=ConfigError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    if path.suffix.lower() == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            raise ConfigError(f"{path}: TOML needs Python 3.11+; use YAML instead") from None
        try:
            loaded = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML ({exc}); fix the syntax") from None
        except RecursionError:
            raise ConfigError(f"config file {path} nests deeper, or repeats itself more, than a config does; fix it") from None
    else:
        import yaml

        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" at line {where.line + 1}" if where is not None else ""
            raise ConfigError(f"config file {path} is not valid YAML{line}; fix the syntax") from None
        except RecursionError:  # PyYAML's composer recurses once per level of nesting
            raise ConfigError(f"config file {path} nests deeper, or repeats itself more, than a config does; fix it") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (model, loss, train)")
    if depth(loaded) > MAX_JSON_DEPTH:
        raise ConfigError(f"config file {path} nests deeper, or repeats itself more, than a config does; fix it")
    return loaded


def _parse_value(raw: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def _merge(base: dict[str, Any], update: dict[str, Any], prefix: str) -> None:
    for key, value in update.items():
        name = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"unknown config key {name!r}; known here: {', '.join(base)}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {name!r} is a section; give it a mapping")
            _merge(base[key], value, name + ".")
        else:
            base[key] = value


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts):
        name = ".".join(parts[: i + 1])
        if not isinstance(node, dict) or part not in node:
            known = ", ".join(node) if isinstance(node, dict) else ""
            raise ConfigError(f"unknown config key {name!r}; known here: {known}")
        if i == len(parts) - 1:
            if isinstance(node[part], dict):
                raise ConfigError(f"config key {name!r} is a section; set one of its keys")
            node[part] = value
        else:
            node = node[part]


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    """Rebuild a dataclass from a dict, checking keys and coercing/validating leaf types."""
    if not isinstance(data, dict):
        raise ConfigError(f"config section {prefix.rstrip('.') or 'root'!r} must be a mapping")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(
            f"unknown config key {prefix + sorted(unknown)[0]!r}; known here: {', '.join(sorted(names))}"
        )
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kwargs[f.name] = _coerce(hints[f.name], data[f.name], prefix + f.name)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, name: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, name + ".")
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ConfigError(f"{name}={value!r} is not allowed; choose one of {', '.join(map(str, allowed))}")
        return value
    if origin is list:
        (item,) = typing.get_args(hint)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name} must be a list")
        return [_coerce(item, v, name) for v in value]
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name}={value!r} must be true or false")
    if hint is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise ConfigError(f"{name}={value!r} must be an integer")
        return int(value)
    if hint is float:
        try:
            number = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if math.isnan(number):  # a bool or text, or NaN, which every range check would let through
            raise ConfigError(f"{name}={value!r} must be a number")
        return number
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name}={value!r} must be a string")
        return value
    return value
