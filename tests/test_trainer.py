"""The training loop on a tiny dataset: run directory, resume after a kill, refusals, NaN stop,
fine-tuning a new style, schedules and wall-clock stops."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from zi2zi import checkpoints as ckpt
from zi2zi.cli import main
from zi2zi.config import Config, ConfigError
from zi2zi.errors import CheckpointError, TrainingError
from zi2zi.training.options import TrainOptions
from zi2zi.training.runlog import read_metrics
from zi2zi.training.schedule import learning_rate
from zi2zi.training.trainer import Trainer, train

from trainhelpers import LOSS_KEYS, tiny_config, tiny_overrides, train_records


def _assert_same_losses(a: list[dict], b: list[dict], tol: float = 1e-6) -> None:
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b):
        for key in LOSS_KEYS:
            assert abs(ra[key] - rb[key]) <= tol, (ra["step"], key, ra[key], rb[key])


def test_run_directory_has_config_metrics_samples_and_checkpoints(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    summary = train(TrainOptions(data=tiny_dataset, out=run, progress=False, config=tiny_config()))

    assert summary.step == 6 and summary.stopped == "completed"
    saved = Config.from_dict(json.loads((run / "config.json").read_text()))
    assert saved.model.image_size == 32
    assert saved.model.generator.num_styles == 40  # max(config, dataset's 2 styles)

    records = train_records(run)
    assert [r["step"] for r in records] == list(range(1, 7))
    for r in records:
        assert all(np.isfinite(r[k]) for k in LOSS_KEYS)
        assert r["lr"] > 0 and r["img_per_s"] > 0 and r["d_blur_sigma"] == 1.0
    kinds = [r["kind"] for r in read_metrics(run / "metrics.jsonl")]
    assert kinds[0] == "baseline" and kinds.count("eval") == 2  # steps 3 and 6

    run_info = json.loads((run / "run.json").read_text())
    assert run_info["baseline"]["val_l1"] > 0
    assert [s["id"] for s in run_info["styles"]] == [0, 1]

    sample = Image.open(run / "samples" / "step-00000006.png")
    assert sample.mode == "L" and sample.size[1] > 32 and sample.size[0] > 3 * 32
    grid = np.asarray(sample)
    assert grid.min() < 60 and grid.max() == 255  # ink and paper mapped back to 0..255

    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == [
        "best.safetensors",
        "step-00000003.safetensors",
        "step-00000003.state.pt",
        "step-00000006.safetensors",
        "step-00000006.state.pt",
    ]
    assert not list(run.rglob("*.tmp"))
    assert summary.checkpoint == run / "checkpoints" / "best.safetensors"
    meta = ckpt.read_metadata(summary.last_checkpoint)
    assert meta["step"] == 6 and meta["metrics"]["val_l1"] > 0


def test_keep_last_prunes_old_checkpoints(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    train(TrainOptions(data=tiny_dataset, out=run, progress=False,
                       config=tiny_config("train.checkpoint_every=1", "train.keep_last=2", "train.eval_every=0",
                                          "train.sample_every=0")))
    assert [p.name for p in ckpt.list_checkpoints(run)] == ["step-00000005.safetensors", "step-00000006.safetensors"]
    assert sorted(p.name for p in (run / "checkpoints").glob("*.state.pt")) == [
        "step-00000005.state.pt", "step-00000006.state.pt"]


def test_resume_from_checkpoint_reproduces_uninterrupted_losses(tiny_dataset, tmp_path):
    # 10 steps cross an epoch boundary (8 batches per epoch) after the checkpoint at step 3.
    cfg = tiny_config("train.max_steps=10", "train.checkpoint_every=3", "train.keep_last=5",
                      "loss.flip_labels=true")
    straight = tmp_path / "straight"
    train(TrainOptions(data=tiny_dataset, out=straight, progress=False, config=cfg))

    # What a kill right after step 3's checkpoint leaves: checkpoints up to 3, metrics to ~5.
    killed = tmp_path / "killed"
    shutil.copytree(straight, killed)
    for path in ckpt.list_checkpoints(killed):
        if path.name > ckpt.checkpoint_name(3):
            path.unlink()
            ckpt.state_path(path).unlink()
    trainer = Trainer(TrainOptions(config=cfg, data=tiny_dataset, out=killed, resume=True, progress=False))
    assert trainer.run.step == 3
    trainer.fit()

    _assert_same_losses(train_records(straight), train_records(killed))
    a = ckpt.read_weights(ckpt.list_checkpoints(straight)[-1])
    b = ckpt.read_weights(ckpt.list_checkpoints(killed)[-1])
    for net in ("generator", "discriminator"):
        for key in a[net]:
            assert torch.equal(a[net][key], b[net][key]), key


def test_sigkill_and_resume_matches_uninterrupted_run(tiny_dataset, tmp_path):
    """A real `kill -9` of `python -m zi2zi train`, then `--resume`."""
    extra = ("train.max_steps=30", "train.checkpoint_every=2", "train.keep_last=20", "train.eval_every=0",
             "train.sample_every=0")
    reference = tmp_path / "reference"
    train(TrainOptions(data=tiny_dataset, out=reference, progress=False, config=tiny_config(*extra)))

    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "zi2zi", "train", "--data", str(tiny_dataset), "--out", str(run),
           "--preset", "cpu-small", "--no-progress"]
    for item in tiny_overrides(*extra):
        cmd += ["--set", item]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(ckpt.list_checkpoints(run)) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed: " + proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    killed_at = ckpt.latest_resumable(run)
    assert killed_at is not None and ckpt.read_metadata(killed_at)["step"] < 30

    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stderr
    _assert_same_losses(train_records(reference), train_records(run))


def test_sigterm_stops_after_the_iteration_with_a_checkpoint(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "zi2zi", "train", "--data", str(tiny_dataset), "--out", str(run),
           "--preset", "cpu-small", "--no-progress"]
    for item in tiny_overrides("train.max_steps=100000", "train.checkpoint_every=100000", "train.eval_every=0",
                               "train.sample_every=0"):
        cmd += ["--set", item]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not train_records(run):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped (interrupted)" in err and "--resume" in err
    steps = [r["step"] for r in train_records(run)]
    (last,) = ckpt.list_checkpoints(run)
    assert ckpt.read_metadata(last)["step"] == steps[-1] >= 1
    assert json.loads(out.strip().splitlines()[-1])["stopped"] == "interrupted"


def test_refuses_to_overwrite_a_run_without_resume_or_overwrite(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    cfg = tiny_config("train.max_steps=3", "train.sample_every=0")
    train(TrainOptions(data=tiny_dataset, out=run, progress=False, config=cfg))
    before = (run / "checkpoints" / "step-00000003.safetensors").read_bytes()

    with pytest.raises(TrainingError, match="--resume.*--overwrite"):
        train(TrainOptions(data=tiny_dataset, out=run, progress=False, config=cfg))
    assert (run / "checkpoints" / "step-00000003.safetensors").read_bytes() == before

    summary = train(TrainOptions(data=tiny_dataset, out=run, overwrite=True, progress=False,
                                 config=tiny_config("train.max_steps=2", "train.sample_every=0")))
    assert summary.step == 2
    assert [p.name for p in ckpt.list_checkpoints(run)] == ["step-00000002.safetensors"]

    with pytest.raises(TrainingError, match="no checkpoint to resume"):
        train(TrainOptions(data=tiny_dataset, out=tmp_path / "empty", resume=True, progress=False, config=cfg))


def test_resume_refuses_a_changed_model_but_accepts_more_steps(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    train(TrainOptions(data=tiny_dataset, out=run, progress=False,
                       config=tiny_config("train.max_steps=3", "train.sample_every=0")))
    with pytest.raises(TrainingError, match="loss.l1_weight"):
        train(TrainOptions(data=tiny_dataset, out=run, resume=True, progress=False,
                           config=tiny_config("loss.l1_weight=5")))
    summary = train(TrainOptions(data=tiny_dataset, out=run, resume=True, progress=False,
                                 config=tiny_config("train.max_steps=5", "train.sample_every=0")))
    assert summary.step == 5


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    trainer = Trainer(TrainOptions(config=tiny_config("train.max_steps=8",
                                                      "train.checkpoint_every=2"), data=tiny_dataset, out=run, progress=False))

    def poison(module, inputs, output):  # G's output turns NaN from iteration 6 on
        return output * float("nan") if trainer.run.step >= 5 else output

    trainer.run.G.up[0].register_forward_hook(poison)
    with pytest.raises(TrainingError) as err:
        trainer.fit()
    message = str(err.value)
    # The fakes turn NaN, and D's step (the first to see them) names its losses.
    assert "step 6" in message and "non-finite" in message and "d_gan" in message
    assert "step-00000004.safetensors" in message

    assert [p.name for p in ckpt.list_checkpoints(run)] == ["step-00000002.safetensors", "step-00000004.safetensors"]
    loaded = ckpt.load_checkpoint(run / "checkpoints" / "step-00000004.safetensors")
    assert loaded.step == 4
    assert all(torch.isfinite(p).all() for p in loaded.generator.parameters())
    errors = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if '"error"' in line]
    assert errors and errors[0]["step"] == 6


def test_cli_exits_non_zero_on_exploding_learning_rate(tiny_dataset, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--data", str(tiny_dataset), "--out", str(run), "--preset", "cpu-small", "--no-progress"]
    for item in tiny_overrides("train.lr=1e30", "train.schedule=constant", "train.max_steps=20"):
        argv += ["--set", item]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "zi2zi train: error: training stopped at step" in err and "non-finite" in err
    assert not ckpt.list_checkpoints(run) or all(
        torch.isfinite(t).all() for t in ckpt.read_weights(ckpt.list_checkpoints(run)[-1])["generator"].values()
        if t.is_floating_point()
    )


def test_finetune_new_style_keeps_other_styles_and_encoder_bit_identical(make_tiny_dataset, tmp_path):
    base_run = tmp_path / "base"
    train(TrainOptions(data=make_tiny_dataset(), out=base_run, progress=False,
                       config=tiny_config("train.max_steps=3", "train.sample_every=0")))
    base = ckpt.load_checkpoint(base_run)
    new_data = make_tiny_dataset(styles=("light",))  # a font the base already knows by name...
    new_id = len(base.styles)  # ...added as a new style anyway, under another name, in the first spare row

    run = tmp_path / "mine"
    argv = ["train", "--data", str(new_data), "--out", str(run), "--init-from", str(base_run),
            "--new-style", "Mine", "--only-new-styles", "--preset", "cpu-small", "--no-progress"]
    for item in tiny_overrides("train.max_steps=4", "train.freeze_encoder=true", "train.sample_every=0"):
        argv += ["--set", item]
    assert main(argv) == 0
    tuned = ckpt.load_checkpoint(run)
    assert tuned.config.train.train_styles == [new_id]

    assert tuned.num_styles == base.num_styles  # a spare row, no growth
    assert tuned.styles[-1] == {"id": new_id, "name": "Mine"}
    assert tuned.meta["style_map"] == {"0": new_id}
    assert tuned.config.model.generator.num_styles == base.num_styles
    assert tuned.discriminator.num_styles == base.num_styles
    old_rows = base.generator.style_embedding.weight
    new_rows = tuned.generator.style_embedding.weight
    others = [i for i in range(base.num_styles) if i != new_id]
    assert torch.equal(new_rows[others], old_rows[others])  # bit-identical
    assert not torch.equal(new_rows[new_id], old_rows[[0, 1]].mean(0))  # moved from its start: it learned
    for (name, p0), p1 in zip(base.generator.down.named_parameters(), tuned.generator.down.parameters()):
        assert torch.equal(p0, p1), name
    decoder_changed = any(
        not torch.equal(p0, p1) for p0, p1 in zip(base.generator.up.parameters(), tuned.generator.up.parameters())
    )
    assert decoder_changed
    styles = {s["id"]: s for s in tuned.data_info["styles"]}
    assert styles[new_id]["name"] == "Mine" and "embox" in styles[new_id]
    assert styles[0]["name"] == base.styles[0]["name"]  # the base's records are kept


def test_new_style_name_already_in_checkpoint_is_refused(make_tiny_dataset, tmp_path):
    base_run = tmp_path / "base"
    train(TrainOptions(data=make_tiny_dataset(), out=base_run, progress=False,
                       config=tiny_config("train.max_steps=1", "train.sample_every=0")))
    taken = ckpt.load_checkpoint(base_run).styles[0]["name"]
    with pytest.raises(CheckpointError, match="already has a style named"):
        train(TrainOptions(data=make_tiny_dataset(styles=("light",)), out=tmp_path / "x", init_from=base_run,
                           new_style=taken, progress=False,
                           config=tiny_config()))


def test_image_size_from_data_or_clear_error(tiny_dataset, tmp_path):
    cfg = tiny_config("model.image_size=64")
    with pytest.raises(ConfigError, match="rendered at 32 px"):
        Trainer(TrainOptions(config=cfg, data=tiny_dataset, out=tmp_path / "a", progress=False))
    trainer = Trainer(TrainOptions(config=cfg, data=tiny_dataset, out=tmp_path / "b", image_size_from_data=True, progress=False))
    assert trainer.run.cfg.model.image_size == 32
    assert any("taken from the dataset" in n for n in trainer.run.notes)


def test_max_minutes_stops_cleanly_with_a_checkpoint(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    summary = train(TrainOptions(data=tiny_dataset, out=run, progress=False,
                                 config=tiny_config("train.max_steps=1000", "train.max_minutes=0.0001",
                                                    "train.sample_every=0")))
    assert summary.stopped == "max_minutes" and summary.step == 1
    assert [p.name for p in ckpt.list_checkpoints(run)] == ["step-00000001.safetensors"]
    assert ckpt.state_path(ckpt.list_checkpoints(run)[0]).is_file()


def test_schedules():
    t = tiny_config("train.lr=1e-3", "train.min_lr=2e-4", "train.schedule=halving", "train.schedule_epochs=2").train
    rates = [learning_rate(t, step=0, epoch=e, total_steps=100) for e in range(8)]
    assert rates == [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4, 2e-4, 2e-4]
    t.schedule = "cosine"
    assert learning_rate(t, step=0, epoch=0, total_steps=100) == pytest.approx(1e-3)
    assert learning_rate(t, step=50, epoch=0, total_steps=100) == pytest.approx(6e-4)
    assert learning_rate(t, step=100, epoch=0, total_steps=100) == pytest.approx(2e-4)
    t.schedule = "constant"
    assert learning_rate(t, step=99, epoch=50, total_steps=100) == 1e-3


def test_train_styles_restricts_the_data(tiny_dataset, tmp_path):
    trainer = Trainer(TrainOptions(config=tiny_config("train.train_styles=[1]"), data=tiny_dataset, out=tmp_path / "r", progress=False))
    assert set(trainer.run.train_data.style_ids.tolist()) == {1}
    with pytest.raises(ConfigError, match="train_styles"):
        Trainer(TrainOptions(config=tiny_config("train.train_styles=[99]"), data=tiny_dataset, out=tmp_path / "s", progress=False))


@pytest.mark.parametrize("override", ["train.log_every=0", "train.batch_size=0", "train.max_steps=-1",
                                      "loss.g_steps_per_d=0"])
def test_unusable_train_values_are_refused_up_front(tiny_dataset, tmp_path, override):
    with pytest.raises(ConfigError, match=override.split("=")[0]):
        Trainer(TrainOptions(config=tiny_config(override), data=tiny_dataset, out=tmp_path / "run", progress=False))


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("mode", ["bce", "lsgan", "hinge"])
def test_split_d_backward_gives_the_same_update_as_one_backward(mode, flip):
    """The memory-saving D step (real and fake back-propagated in turn) must not change the math."""
    import copy

    from zi2zi.models import build_models
    from zi2zi.training.step import Zi2ziStep

    cfg = tiny_config(f"loss.gan_mode={mode}", f"loss.flip_labels={str(flip).lower()}")
    torch.manual_seed(0)
    g, d = build_models(cfg, 4)
    steps = []
    for split in (True, False):
        step = Zi2ziStep(copy.deepcopy(g), copy.deepcopy(d), cfg, device=torch.device("cpu"),
                         flip_styles=[0, 1, 2, 3], flip_generator=torch.Generator().manual_seed(1))
        step.split_d_backward = split
        steps.append(step)
    gen = torch.Generator().manual_seed(0)
    batch = {"source": torch.rand(8, 1, 32, 32, generator=gen) * 2 - 1,
             "target": torch.rand(8, 1, 32, 32, generator=gen) * 2 - 1,
             "style": torch.randint(0, 4, (8,), generator=gen)}
    results = []
    for step in steps:
        torch.manual_seed(5)  # the same dropout masks in both
        for _ in range(2):
            step.set_input(batch)
            step.optimize()
        results.append((step.current_losses(), dict(step.D.named_parameters()), dict(step.G.named_parameters())))
    (la, da, ga), (lb, db, gb) = results
    assert la == lb
    for key in da:
        assert torch.equal(da[key], db[key]), key
    for key in ga:
        assert torch.equal(ga[key], gb[key]), key


def test_without_the_discriminator_only_g_learns_from_l1_and_const():
    import copy

    from zi2zi.config import ConfigError, load_config
    from zi2zi.models import build_models
    from zi2zi.training.step import Zi2ziStep

    cfg = tiny_config("loss.adversarial=false")
    torch.manual_seed(0)
    g, d = build_models(cfg, 4)
    d_before, g_before = copy.deepcopy(d.state_dict()), copy.deepcopy(g.state_dict())
    step = Zi2ziStep(g, d, cfg, device=torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    step.set_input({"source": torch.rand(8, 1, 32, 32, generator=gen) * 2 - 1,
                    "target": torch.rand(8, 1, 32, 32, generator=gen) * 2 - 1,
                    "style": torch.randint(0, 4, (8,), generator=gen)})
    step.optimize()
    assert set(step.current_losses()) == {"g_loss", "l1", "const"}
    assert all(torch.equal(v, d.state_dict()[k]) for k, v in d_before.items())  # D untouched, BN stats too
    assert not torch.equal(g_before["style_embedding.weight"], g.state_dict()["style_embedding.weight"])
    with pytest.raises(ConfigError, match="flip_labels needs the discriminator"):
        load_config("cpu-small", overrides=["loss.adversarial=false", "loss.flip_labels=true"])


def test_training_from_scratch_takes_bf16_exactly_where_the_cpu_is_faster_in_it(tiny_dataset, tmp_path, monkeypatch):
    # Equal in quality within three seeds' spread (benchmarks/reports/bf16-quality.md, from scratch).
    import zi2zi.device
    from zi2zi.training.rundir import read_run_info

    for faster, recorded in ((True, "torch.bfloat16"), (False, "fp32")):
        monkeypatch.setattr(zi2zi.device, "cpu_prefers_bf16", lambda faster=faster: faster)
        run = tmp_path / f"run-{faster}"
        train(TrainOptions(data=tiny_dataset, out=run, progress=False,
                           config=tiny_config("train.max_steps=2", "train.sample_every=0")))
        assert read_run_info(run)["precision"] == recorded
    monkeypatch.setattr(zi2zi.device, "cpu_prefers_bf16", lambda: True)
    run = tmp_path / "asked-fp32"  # train.amp=none keeps fp32 where bf16 would be the default
    train(TrainOptions(data=tiny_dataset, out=run, progress=False,
                       config=tiny_config("train.max_steps=2", "train.sample_every=0", "train.amp=none")))
    assert read_run_info(run)["precision"] == "fp32"
