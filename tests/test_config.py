"""The typed config: presets, files, overrides, unknown keys, and `zi2zi train --dry-run`."""

from __future__ import annotations

import json

import pytest

from zi2zi.cli import main
from zi2zi.config import Config, ConfigError, load_config, preset

from trainhelpers import tiny_overrides


def test_presets_differ_where_documented():
    classic, small = preset("classic"), preset("cpu-small")
    assert classic.model.image_size == 256 and classic.train.batch_size == 16 and classic.train.lr == 1e-3
    assert classic.loss.l1_weight == 100 and classic.loss.const_weight == 15 and classic.loss.g_steps_per_d == 2
    assert small.model.image_size == 64 and small.train.schedule == "cosine"
    with pytest.raises(ConfigError, match="unknown preset 'tiny'"):
        preset("tiny")


def test_overrides_are_parsed_and_typed():
    cfg = load_config("classic", overrides=[
        "train.lr=2e-4", "loss.flip_labels=true", "model.discriminator.blur=layers",
        "train.train_styles=[1, 3]", "train.max_minutes=5", "model.generator.ngf=32.0",
    ])
    assert cfg.train.lr == 2e-4 and isinstance(cfg.train.lr, float)
    assert cfg.loss.flip_labels is True
    assert cfg.model.discriminator.blur == "layers"
    assert cfg.train.train_styles == [1, 3]
    assert cfg.train.max_minutes == 5.0 and isinstance(cfg.train.max_minutes, float)
    assert cfg.model.generator.ngf == 32 and isinstance(cfg.model.generator.ngf, int)
    assert load_config(overrides=["train.train_styles=2"]).train.train_styles == [2]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.lrr=1", "unknown config key 'train.lrr'"),
        ("trian.lr=1", "unknown config key 'trian'"),
        ("train=1", "is a section"),
        ("train.lr", "must look like section.key=value"),
        ("model.discriminator.blur=everywhere", "not allowed; choose one of none, input, layers, output"),
        ("train.batch_size=1.5", "must be an integer"),
        ("train.augment=maybe", "must be true or false"),
        ("train.lr=fast", "must be a number"),
    ],
)
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_config("classic", overrides=[override])


def test_file_layers_between_preset_and_overrides(tmp_path):
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("train:\n  lr: 5.0e-4\n  batch_size: 8\nmodel:\n  generator:\n    ngf: 16\n")
    cfg = load_config("cpu-small", yaml_file, ["train.batch_size=4"])
    assert cfg.train.lr == 5e-4 and cfg.model.generator.ngf == 16
    assert cfg.train.batch_size == 4  # the override wins over the file
    assert cfg.model.image_size == 64  # the preset fills the rest

    toml_file = tmp_path / "run.toml"
    toml_file.write_text("[loss]\nl1_weight = 50\n")
    assert load_config("classic", toml_file).loss.l1_weight == 50.0

    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  learning_rate: 1\n")
    with pytest.raises(ConfigError, match="unknown config key 'train.learning_rate'"):
        load_config("classic", bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("classic", tmp_path / "missing.yaml")


def test_config_round_trips_through_json():
    cfg = load_config("cpu-small", overrides=["train.train_styles=[0]", "loss.gan_mode=hinge"])
    again = Config.from_dict(json.loads(cfg.to_json()))
    assert again == cfg
    with pytest.raises(ConfigError, match="unknown config key 'model.extra'"):
        Config.from_dict({"model": {"extra": 1}})


def test_dry_run_prints_resolved_config_and_leaves_run_untouched(tiny_dataset, tmp_path, capsys):
    run = tmp_path / "run"
    # No image size chosen: the dataset's 32 px replaces the preset's 64.
    code = main(["train", "--data", str(tiny_dataset), "--out", str(run), "--preset", "cpu-small",
                 "--set", "train.lr=1e-4", "--max-steps", "7", "--dry-run"])
    assert code == 0
    out = capsys.readouterr()
    cfg = Config.from_dict(json.loads(out.out))
    assert cfg.model.image_size == 32 and cfg.train.lr == 1e-4 and cfg.train.max_steps == 7
    assert cfg.model.generator.num_styles == 40
    assert "taken from the dataset" in out.err
    assert not run.exists()

    # Chosen explicitly and different from the data: a clear error instead.
    code = main(["train", "--data", str(tiny_dataset), "--out", str(run), "--preset", "cpu-small",
                 "--set", "model.image_size=64", "--dry-run"])
    assert code == 1
    assert "rendered at 32 px" in capsys.readouterr().err
    assert not run.exists()


def test_cli_train_writes_the_resolved_config(tiny_dataset, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--data", str(tiny_dataset), "--out", str(run), "--preset", "cpu-small", "--no-progress"]
    for item in tiny_overrides("train.max_steps=2", "train.sample_every=0"):
        argv += ["--set", item]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["step"] == 2 and summary["stopped"] == "completed"
    saved = Config.from_dict(json.loads((run / "config.json").read_text()))
    assert saved.train.max_steps == 2 and saved.model.image_size == 32
    # Starting again in the same place is refused; the message names both ways out.
    assert main(argv) == 1
    assert "--resume" in capsys.readouterr().err


def test_a_key_is_chosen_only_by_an_override_or_the_config_file(tmp_path):
    from zi2zi.config import is_chosen

    sized, other = tmp_path / "sized.yaml", tmp_path / "other.yaml"
    sized.write_text("model:\n  image_size: 64\n", encoding="utf-8")
    other.write_text("model:\n  generator:\n    ngf: 8\n", encoding="utf-8")
    assert is_chosen("model.image_size", overrides=["model.image_size = 128"])
    assert is_chosen("model.image_size", config_file=sized)
    assert not is_chosen("model.image_size", config_file=other, overrides=["train.lr=1e-4"])
    assert is_chosen("model.generator.ngf", config_file=other) and not is_chosen("model.image_size")
