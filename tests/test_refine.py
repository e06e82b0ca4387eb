"""The refiner: its network, pairs, training (and exact resume) and its self-describing file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zi2zi.config import ConfigError, DiscriminatorConfig, RenderSettings
from zi2zi.errors import CheckpointError
from zi2zi.fonts import Renderer, open_font
from zi2zi.refine.files import load_refiner, read_refiner_metadata, save_refiner
from zi2zi.refine.model import Refiner, RefinerConfig
from zi2zi.refine.pairs import RefinerPairs
from zi2zi.refine.train import AdversarialTerm, RefinerRecipe, TrainState, refine_arrays, train_refiner, validation

from conftest import TINY_CHARS

TINY = RefinerConfig(size=64, coarse_size=32, width=8, context_width=8, blocks=1)


def tiny_pairs(tiny_fonts) -> RefinerPairs:
    """Coarse = the target drawn at 32 px (a stand-in for a generator), source and target at 64 px."""
    source, target = open_font(tiny_fonts["source"]), open_font(tiny_fonts["light"])
    lo, hi = RenderSettings(size=32), RenderSettings(size=64)
    chars = [c for c in TINY_CHARS if Renderer(target, hi).render(c) is not None]
    return RefinerPairs(
        chars,
        np.stack([Renderer(target, lo).render(c) for c in chars]),
        np.stack([Renderer(source, hi).render(c) for c in chars]),
        np.stack([Renderer(target, hi).render(c) for c in chars]),
    )


def test_network_maps_coarse_and_source_to_refined_size():
    model = Refiner(TINY)
    logits = model(torch.rand(3, 1, 32, 32), torch.rand(3, 1, 64, 64))
    assert logits.shape == (3, 1, 64, 64)
    # Convolutional: crops run through the same weights.
    assert model(torch.rand(2, 1, 16, 16), torch.rand(2, 1, 32, 32)).shape == (2, 1, 32, 32)


@pytest.mark.parametrize("bad", [dict(size=100, coarse_size=64), dict(coarse_size=33, size=66), dict(width=0),
                                 dict(blocks=True)])
def test_impossible_shapes_are_refused(bad):
    with pytest.raises(ConfigError, match="refiner"):
        RefinerConfig(**bad).check()


def test_training_learns_and_resumes_exactly(tiny_fonts):
    pairs = tiny_pairs(tiny_fonts)
    recipe = RefinerRecipe(steps=40, batch_size=4, crop=32, lr=3e-3, warmup=5)
    torch.manual_seed(0)
    straight = Refiner(TINY)
    split = Refiner(TINY)
    split.load_state_dict(straight.state_dict())
    losses: list[float] = []
    train_refiner(straight, pairs, recipe, on_step=lambda s, loss: losses.append(loss))
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])

    half = train_refiner(split, pairs, recipe, until=20)
    assert half.step == 20
    done = train_refiner(split, pairs, recipe, state=TrainState(half.step, half.optimizer, half.rng, half.seconds))
    assert done.step == 40
    for (name, a), b in zip(straight.state_dict().items(), split.state_dict().values()):
        assert torch.equal(a, b), name


def test_adversarial_term_shapes_training_and_resumes_exactly(tiny_fonts):
    """With a discriminator (blurred in its layers, the blur fading) the refiner trains otherwise
    than without one, and its state (the discriminator's included) resumes exactly."""
    pairs = tiny_pairs(tiny_fonts)
    term = AdversarialTerm(weight=0.5, discriminator=DiscriminatorConfig(ndf=8, n_layers=2, blur="layers",
                                                                         blur_fade_steps=10))
    recipe = RefinerRecipe(steps=16, batch_size=4, crop=32, lr=3e-3, warmup=2, adversarial=term)
    torch.manual_seed(0)
    start = Refiner(TINY).state_dict()
    models = []
    for _ in range(3):
        models.append(Refiner(TINY))
        models[-1].load_state_dict(start)
    straight, split, plain = models
    full = train_refiner(straight, pairs, recipe)
    assert full.discriminator is not None and set(full.discriminator) == {"model", "optimizer"}
    half = train_refiner(split, pairs, recipe, until=7)
    train_refiner(split, pairs, recipe, state=half)
    for (name, a), b in zip(straight.state_dict().items(), split.state_dict().values()):
        assert torch.equal(a, b), name
    without = train_refiner(plain, pairs, RefinerRecipe(steps=16, batch_size=4, crop=32, lr=3e-3, warmup=2))
    assert without.discriminator is None
    assert not torch.equal(plain.out.weight, straight.out.weight)


def test_validation_compares_with_the_upscaled_coarse_glyph(tiny_fonts):
    pairs = tiny_pairs(tiny_fonts)
    model = Refiner(TINY)
    train_refiner(model, pairs, RefinerRecipe(steps=150, batch_size=8, crop=64, lr=3e-3, warmup=10))
    figures = validation(model, pairs)
    assert set(figures) == {"ink_iou", "ink_iou_upscaled", "l1"}
    assert 0.5 < figures["ink_iou_upscaled"] <= 1.0
    assert figures["ink_iou"] > 0.5
    refined = refine_arrays(model, pairs.coarse[:2], pairs.source[:2])
    assert refined.shape == (2, 64, 64) and refined.dtype == np.uint8


def test_pairs_round_trip_without_pickle(tiny_fonts, tmp_path):
    pairs = tiny_pairs(tiny_fonts)
    back = RefinerPairs.load(pairs.save(tmp_path / "pairs.npz"))
    assert back.chars == pairs.chars and np.array_equal(back.target, pairs.target)
    with pytest.raises(Exception, match="length"):
        RefinerPairs(pairs.chars[:1], pairs.coarse, pairs.source, pairs.target)


def test_file_rebuilds_the_refiner_in_fp16(tmp_path):
    model = Refiner(TINY)
    path = save_refiner(tmp_path / "r.safetensors", model, coarse=RenderSettings(size=32), meta={"note": "test"},
                        dtype=torch.float16)
    doc = read_refiner_metadata(path)
    assert doc["coarse_render"]["size"] == 32 and doc["render"]["size"] == 64 and doc["note"] == "test"
    loaded = load_refiner(path)
    assert loaded.model.config == TINY
    x, s = torch.rand(1, 1, 32, 32), torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded.model(x, s), model.eval()(x, s), atol=2e-2)


def test_damaged_or_foreign_files_are_one_line(tmp_path, tiny_base):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_refiner(junk)
    with pytest.raises(CheckpointError, match="not a zi2zi refiner"):
        load_refiner(tiny_base)  # a generator checkpoint is not a refiner
    with pytest.raises(CheckpointError, match="does not exist"):
        load_refiner(tmp_path / "missing.safetensors")


def test_specks_go_and_strokes_and_dots_stay():
    from zi2zi.refine.runtime import remove_specks

    glyph = np.full((256, 256), 255, np.uint8)
    glyph[40:200, 120:136] = 0  # a stroke
    glyph[20:34, 60:74] = 0  # a dot, 14 px square
    glyph[100:105, 30:35] = 0  # a fleck, 5 px square
    glyph[150, 200] = 100  # a grey pixel, ink at the 50 % level
    cleaned = remove_specks(glyph)
    assert (cleaned[100:105, 30:35] == 255).all() and cleaned[150, 200] == 255
    assert (cleaned[40:200, 120:136] == 0).all() and (cleaned[20:34, 60:74] == 0).all()
    assert remove_specks(cleaned) is cleaned  # nothing left to remove: the same array back


def _edited_copy(path, out, change):
    """The refiner file at ``path`` with its JSON document changed by ``change`` (tensors kept)."""
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as fh:
        meta, tensors = dict(fh.metadata()), {k: fh.get_tensor(k) for k in fh.keys()}
    doc = json.loads(meta["zi2zi"])
    change(doc)
    save_file(tensors, str(out), metadata={**meta, "zi2zi": json.dumps(doc)})
    return out


def test_a_crafted_refiner_file_is_refused_before_its_network_is_built(tmp_path):
    import os

    path = save_refiner(tmp_path / "r.safetensors", Refiner(TINY), coarse=RenderSettings(size=32), meta={})
    huge = _edited_copy(path, tmp_path / "huge.safetensors",
                        lambda d: d["config"].update(width=4096, context_width=4096, blocks=4096))
    with pytest.raises(CheckpointError, match="parameters, more than zi2zi builds"):
        load_refiner(huge)  # terabytes, had it been built
    wider = _edited_copy(path, tmp_path / "wider.safetensors", lambda d: d["config"].update(width=TINY.width + 1))
    with pytest.raises(CheckpointError, match="does not fit the network it describes"):
        load_refiner(wider)
    nested: list = []
    for _ in range(40):
        nested = [nested]
    deep = _edited_copy(path, tmp_path / "deep.safetensors", lambda d: d.update(note=nested))
    with pytest.raises(CheckpointError, match="nests deeper"):
        read_refiner_metadata(deep)
    os.mkfifo(tmp_path / "pipe.safetensors")
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_refiner(tmp_path / "pipe.safetensors")  # refused at once, not read until someone writes
