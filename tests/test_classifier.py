import dataclasses
import json

import pytest
import torch

from zi2zi.config import ClassifierConfig, RenderSettings
from zi2zi.errors import FontError
from zi2zi.fonts import open_font
from zi2zi.metrics.classifier import (
    GlyphClassifier,
    augment,
    get_classifier,
    load_classifier,
    render_glyphs,
    train_classifier,
)

from conftest import TINY_CHARS

# Ten characters whose bar patterns (tests/fontfactory.py) all differ: ten real classes.
CHARS = TINY_CHARS[:10]
# A few-second training at 32 px; held-out accuracy is measured, not assumed, in each test.
TINY = ClassifierConfig(size=32, width=8, epochs=1, min_steps=120, batch_size=16, lr=5e-3)
RENDER = RenderSettings(size=32, mode="em")


@pytest.fixture(scope="module")
def fonts(tiny_fonts):
    # Two training styles (weights 60 and 30); the bold one (110) is held out.
    return [open_font(tiny_fonts["source"]), open_font(tiny_fonts["light"]), open_font(tiny_fonts["bold"])]


def test_model_shapes_and_any_input_size():
    model = GlyphClassifier(CHARS, size=32, width=8).eval()
    for side in (32, 64, 50):
        x = torch.ones(3, 1, side, side)
        assert model(x).shape == (3, len(CHARS))
        assert model.features(x).shape == (3, model.feature_dim)
    assert model.class_indices([ord(CHARS[3]), ord("Z")]).tolist() == [3, -1]


def test_augment_keeps_shape_range_and_changes_images():
    ink = torch.zeros(4, 1, 32, 32)
    ink[:, :, 8:24, 14:18] = 1.0  # a vertical stroke
    out = augment(ink, torch.Generator().manual_seed(0))
    assert out.shape == ink.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not torch.allclose(out, ink)
    assert out.sum() > 0.2 * ink.sum()  # the stroke is changed, not erased


def test_trains_and_reads_a_held_out_font(fonts):
    model = train_classifier(CHARS, fonts, holdout=-1, render=RENDER, cfg=TINY)
    info = model.info
    assert info["holdout_font"] == fonts[-1].name
    assert info["classes"] == len(CHARS) and info["holdout_glyphs"] == len(CHARS)
    assert info["train_glyphs"] == 2 * len(CHARS)
    # Chance is 10%; the held-out style differs only in stroke weight, which augmentation covers.
    assert info["holdout_accuracy"] >= 0.8
    assert info["train_accuracy_clean"] >= 0.9
    # The model classifies real held-out glyphs given as [0, 1] images of another size.
    held = render_glyphs(model.chars, fonts[-1:], RenderSettings(size=48, mode="em"))
    images = torch.from_numpy(held.images).float().div(255).unsqueeze(1)  # (N, 1, 48, 48)
    pred = model.predict(images)
    assert (pred.numpy() == held.labels).mean() >= 0.7


def test_cache_is_written_and_reused(fonts, tmp_path):
    cache = tmp_path / "cache"
    first = get_classifier(CHARS, fonts, cache_dir=cache, holdout=-1, render=RENDER, cfg=TINY)
    assert first.info["cached"] is False
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".safetensors")
    sidecar = json.loads((cache / files[0]).read_text())
    assert sidecar["holdout_accuracy"] == first.info["holdout_accuracy"]

    # Same characters (in another order), fonts and settings: loaded, not trained again.
    second = get_classifier(list(reversed(CHARS)), fonts, cache_dir=cache, holdout=-1, render=RENDER, cfg=TINY)
    assert second.info["cached"] is True
    assert second.info["holdout_accuracy"] == first.info["holdout_accuracy"]
    x = torch.rand(5, 1, 32, 32)
    assert torch.equal(first.eval()(x), second(x))

    # Anything that changes the classifier changes the key: another held-out font trains anew.
    third = get_classifier(CHARS, fonts, cache_dir=cache, holdout=0, render=RENDER, cfg=TINY)
    assert third.info["cached"] is False and third.info["holdout_font"] == fonts[0].name
    assert len(list(cache.glob("*.safetensors"))) == 2


def test_incomplete_cache_entry_is_not_used(fonts, tmp_path):
    cache = tmp_path / "cache"
    cfg = dataclasses.replace(TINY, min_steps=20)
    get_classifier(CHARS[:4], fonts, cache_dir=cache, render=RENDER, cfg=cfg)
    (weights,) = cache.glob("*.safetensors")
    weights.with_suffix(".json").unlink()  # as if the run died between the two writes
    assert load_classifier(weights) is None
    again = get_classifier(CHARS[:4], fonts, cache_dir=cache, render=RENDER, cfg=cfg)
    assert again.info["cached"] is False
    assert weights.with_suffix(".json").is_file()


def test_needs_two_fonts(fonts):
    with pytest.raises(FontError, match="at least 2 fonts"):
        train_classifier(CHARS, fonts[:1], render=RENDER, cfg=TINY)
