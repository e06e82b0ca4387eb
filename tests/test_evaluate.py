"""The evaluation runner: model vs baseline per style, split errors, classifier metrics, CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch import nn

from zi2zi.cli import main as cli_main
from zi2zi.config import ClassifierConfig, GeneratorConfig
from zi2zi.data.dataset import GlyphDataset
from zi2zi.errors import DatasetError
from zi2zi.images import to_unit
from zi2zi.metrics.evaluate import evaluate
from zi2zi.metrics.pixel import METRICS, l1, ssim
from zi2zi.models import Generator
from zi2zi.training import TrainOptions, train

from trainhelpers import tiny_config

# A tiny classifier reads the unseen tiny font badly; these tests check the figures, not the trust gate.
TRUSTING_CLF = ClassifierConfig(size=32, width=8, epochs=1, min_steps=60, batch_size=16, lr=5e-3, min_trusted_accuracy=0.0)


class CopySource(nn.Module):
    """A 'generator' that returns its input: its scores must equal the baseline's exactly."""

    image_size = 32

    def forward(self, source: torch.Tensor, style_ids: torch.Tensor) -> torch.Tensor:
        return source


@pytest.fixture(scope="module")
def data(make_tiny_dataset):
    return make_tiny_dataset(size=32, holdout=4)


def test_model_and_baseline_per_style(data):
    g = Generator(image_size=32, cfg=GeneratorConfig(ngf=8, style_dim=8), num_styles=2)
    g.train()
    res = evaluate(g, data, "train", batch_size=16, classifier=False)
    assert g.training  # the caller's mode is restored
    ds = GlyphDataset(data, "train")
    assert res["pairs"] == len(ds) and res["split"] == "train"
    assert {s["name"] for s in res["styles"]} == {s["name"] for s in ds.styles}
    for column in ("model", "baseline"):
        assert set(res["results"][column]["overall"]) == set(METRICS)
        assert set(res["results"][column]["per_style"]) == {s["name"] for s in ds.styles}
    # The baseline is the source glyph scored against the target: recompute it by hand.
    src = to_unit(torch.from_numpy(ds.sources).float().div(127.5).sub(1).unsqueeze(1))
    tgt = to_unit(torch.from_numpy(ds.targets).float().div(127.5).sub(1).unsqueeze(1))
    assert res["results"]["baseline"]["overall"]["l1"] == pytest.approx(float(l1(src, tgt).mean()), rel=1e-6)
    first = ds.styles[0]
    mask = torch.from_numpy(ds.style_ids == first["id"])
    assert res["results"]["baseline"]["per_style"][first["name"]]["ssim"] == pytest.approx(
        float(ssim(src[mask], tgt[mask]).mean()), rel=1e-6
    )
    # An untrained generator is far from the targets; it does not accidentally match the baseline.
    assert res["results"]["model"]["overall"]["l1"] != pytest.approx(res["results"]["baseline"]["overall"]["l1"])
    assert res["classifier"] is None and "content_accuracy" not in res["metrics"]


def test_copying_generator_scores_exactly_the_baseline(data):
    res = evaluate(CopySource(), data, "all", batch_size=7, classifier=False)
    assert res["results"]["model"] == res["results"]["baseline"]


@pytest.mark.parametrize("split", ["test", "seed"])
def test_unknown_split_names_the_available_ones(data, split):
    with pytest.raises(DatasetError, match=r"available: train, val, holdout, all"):
        evaluate(CopySource(), data, split, classifier=False)


def test_empty_split_is_an_error(make_tiny_dataset):
    no_holdout = make_tiny_dataset(size=32, holdout=0)
    with pytest.raises(DatasetError, match="holdout") as exc:
        evaluate(CopySource(), no_holdout, "holdout", classifier=False)
    assert "available: train, val, all" in str(exc.value)


def test_classifier_metrics_and_cache(data, tmp_path):
    cache = tmp_path / "clf"
    res = evaluate(CopySource(), data, "all", classifier=True, classifier_cfg=TRUSTING_CLF, cache_dir=cache,
                   classifier_fonts=())
    clf = res["classifier"]
    assert clf["cached"] is False and clf["holdout_font"].startswith("Tiny Source")
    assert 0.0 <= clf["holdout_accuracy"] <= 1.0
    model, base, real = (res["results"][k] for k in ("model", "baseline", "real"))
    # The copying model's glyphs are the sources, so it reads and scores exactly as the baseline.
    assert model["overall"]["content_accuracy"] == base["overall"]["content_accuracy"]
    assert model["overall"]["frechet"] == pytest.approx(base["overall"]["frechet"])
    assert base["overall"]["frechet"] > 0.0
    assert 0.0 <= real["overall"]["content_accuracy"] <= 1.0
    for name in model["per_style"]:
        assert {"content_accuracy", "frechet"} <= set(model["per_style"][name])
    again = evaluate(CopySource(), data, "holdout", classifier=True, classifier_cfg=TRUSTING_CLF, cache_dir=cache,
                     classifier_fonts=())
    assert again["classifier"]["cached"] is True  # one classifier per dataset, every split
    assert again["classifier"]["trusted"] is True


def test_a_classifier_that_cannot_read_its_unseen_font_is_not_reported(data, tmp_path, capsys):
    cache = tmp_path / "clf"
    first = evaluate(CopySource(), data, "holdout", classifier=True, classifier_cfg=TRUSTING_CLF,
                     cache_dir=cache, classifier_fonts=())
    acc = first["classifier"]["holdout_accuracy"]
    assert acc < 1.0  # a tiny classifier on four tiny fonts cannot read all of an unseen one
    strict = dataclasses.replace(TRUSTING_CLF, min_trusted_accuracy=min(1.0, acc + 0.05))
    logged = []
    res = evaluate(CopySource(), data, "holdout", classifier=True, classifier_cfg=strict, cache_dir=cache,
                   classifier_fonts=(), log=logged.append)
    assert res["classifier"]["trusted"] is False and res["classifier"]["holdout_accuracy"] == acc
    assert "content_accuracy" not in res["results"]["model"]["overall"] and "real" not in res["results"]
    assert "content_accuracy" not in res["metrics"]
    assert any(n.startswith("WARNING: the glyph classifier reads") for n in res["notes"])
    assert any("WARNING" in m for m in logged)


@pytest.fixture(scope="module")
def trained_run(data, tmp_path_factory):
    run = tmp_path_factory.mktemp("eval") / "run"
    train(TrainOptions(data=data, out=run, progress=False,
                       config=tiny_config("train.max_steps=2", "train.checkpoint_every=2", "train.sample_every=0")))
    return run


def test_evaluate_a_checkpoint_and_the_cli(trained_run, data, capsys):
    res = evaluate(trained_run, data, "holdout", classifier=False)
    assert res["step"] == 2 and res["checkpoint"].endswith(".safetensors")
    assert [s["model_id"] for s in res["styles"]] == [s["id"] for s in res["styles"]]

    # --data defaults to the dataset the run was trained on (recorded in run.json).
    assert cli_main(["evaluate", "--checkpoint", str(trained_run), "--split", "holdout", "--json", "--no-classifier"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["results"]["model"]["overall"]["l1"] == pytest.approx(res["results"]["model"]["overall"]["l1"])

    assert cli_main(["evaluate", "--checkpoint", str(trained_run), "--data", str(data), "--no-classifier"]) == 0
    table = capsys.readouterr().out
    assert "baseline" in table and "ink_iou" in table and "lower" in table

    assert cli_main(["evaluate", "--checkpoint", str(trained_run), "--split", "nope", "--no-classifier"]) == 1
    assert "available:" in capsys.readouterr().err


def test_cli_needs_data_when_the_run_does_not_say(trained_run, tmp_path, capsys):
    alone = tmp_path / "model.safetensors"
    alone.write_bytes((trained_run / "checkpoints" / "step-00000002.safetensors").read_bytes())
    assert cli_main(["evaluate", "--checkpoint", str(alone), "--no-classifier"]) == 1
    assert "--data" in capsys.readouterr().err


def test_style_ids_follow_the_dataset(data):
    # A generator that paints each style a different grey shows which style id it was given.
    class ByStyle(nn.Module):
        image_size = 32

        def forward(self, source, style_ids):
            return (style_ids.float() * 2 - 1).view(-1, 1, 1, 1).expand_as(source)

    res = evaluate(ByStyle(), data, "all", classifier=False)
    ds = GlyphDataset(data, "all")
    for s in ds.styles:
        tgt = to_unit(torch.from_numpy(ds.targets[ds.style_ids == s["id"]]).float().div(127.5).sub(1).unsqueeze(1))
        paint = torch.full_like(tgt, float(s["id"]))  # style 0 -> black (0), style 1 -> white (1)
        assert res["results"]["model"]["per_style"][s["name"]]["l1"] == pytest.approx(float(l1(paint, tgt).mean()), rel=1e-6)
    assert np.isfinite(res["results"]["model"]["overall"]["psnr"])


def test_per_glyph_values_average_to_the_overall_figures(data, tmp_path):
    g = Generator(image_size=32, cfg=GeneratorConfig(ngf=8, style_dim=8), num_styles=2)
    res = evaluate(g, data, "all", batch_size=5, classifier=True, classifier_cfg=TRUSTING_CLF,
                   cache_dir=tmp_path / "clf", classifier_fonts=(), per_glyph=True)
    ds = GlyphDataset(data, "all")
    for column in ("model", "baseline"):
        per = res["results"][column]["per_glyph"]
        assert per["char"] == ds.characters and len(per["style"]) == len(ds)
        for name in METRICS:
            assert np.mean(per[name]) == pytest.approx(res["results"][column]["overall"][name], rel=1e-6)
        assert set(per["content_accuracy"]) <= {0.0, 1.0}
        assert np.mean(per["content_accuracy"]) == pytest.approx(res["results"][column]["overall"]["content_accuracy"])
    assert "per_glyph" not in evaluate(g, data, "all", classifier=False)["results"]["model"]
