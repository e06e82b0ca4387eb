"""Shared fixtures: tiny fonts built with fontTools and tiny datasets rendered from them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from zi2zi.config import RenderSettings
from zi2zi.data import render_dataset

from fontfactory import pattern_glyphs, save_font

# Tests run tiny models: one thread is several times faster than two for them, and keeps CI's two
# cores from fighting each other when a test spawns worker processes.
torch.set_num_threads(1)

# 48 common hanzi: real code points, so charset and coverage logic see ordinary CJK characters.
TINY_CHARS = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会"


@pytest.fixture(scope="session")
def tiny_fonts(tmp_path_factory) -> dict[str, Path]:
    """A source font and two target fonts ("styles") over TINY_CHARS; target 'bold' lacks 2 chars."""
    root = tmp_path_factory.mktemp("fonts")
    return {
        "source": save_font(root / "source.ttf", pattern_glyphs(TINY_CHARS, weight=60), family="Tiny Source"),
        "bold": save_font(root / "bold.ttf", pattern_glyphs(TINY_CHARS[:-2], weight=110), family="Tiny Bold"),
        "light": save_font(root / "light.ttf", pattern_glyphs(TINY_CHARS, weight=30), family="Tiny Light"),
    }


@pytest.fixture(scope="session")
def make_tiny_dataset(tiny_fonts, tmp_path_factory):
    """Factory: render a dataset from the tiny fonts at ``size`` px (cached per arguments)."""
    cache: dict[tuple, Path] = {}

    def make(size: int = 32, holdout: int = 4, styles: tuple[str, ...] = ("bold", "light")) -> Path:
        key = (size, holdout, styles)
        if key not in cache:
            out = tmp_path_factory.mktemp("data") / f"tiny{size}"
            render_dataset(
                source=str(tiny_fonts["source"]),
                targets=[str(tiny_fonts[s]) for s in styles],
                chars=TINY_CHARS,
                out=out,
                settings=RenderSettings(size=size),
                holdout=holdout,
                val_fraction=0.1,
                seed=0,
                workers=1,
            )
            cache[key] = out
        return cache[key]

    return make


@pytest.fixture
def tiny_dataset(make_tiny_dataset) -> Path:
    """A 32 px dataset with two styles and 4 held-out characters."""
    return make_tiny_dataset()


@pytest.fixture(scope="session")
def checkpoint(make_tiny_dataset, tmp_path_factory) -> Path:
    """A tiny model trained for 2 steps, for the tests that need a checkpoint of any kind (read only)."""
    from zi2zi.training import TrainOptions, train

    from trainhelpers import tiny_config

    run = tmp_path_factory.mktemp("run") / "tiny"
    summary = train(TrainOptions(data=make_tiny_dataset(), out=run, progress=False,
                                 config=tiny_config("train.max_steps=2", "train.checkpoint_every=2",
                                                    "train.sample_every=0")))
    assert summary.checkpoint is not None
    return summary.checkpoint


@pytest.fixture(scope="session")
def tiny_base(make_tiny_dataset, tmp_path_factory) -> Path:
    """A tiny two-style model packaged as base ``tiny`` in its own folder (fp16 + model card)."""
    import zi2zi.bases as bases
    from zi2zi.data.layout import read_manifest
    from zi2zi.training import TrainOptions, train

    from trainhelpers import tiny_config

    data = make_tiny_dataset(size=32, holdout=4)
    root = tmp_path_factory.mktemp("base")
    summary = train(TrainOptions(data=data, out=root / "run", config=tiny_config(), progress=False))
    fonts = [{"name": "Tiny Bold", "file": "bold.ttf", "package": "-", "licence": "test", "style": "test"}]
    bases.package_base(summary.checkpoint, "tiny", manifest=read_manifest(data), recipe="tests", fonts=fonts,
                       wall_seconds=1.0, metrics={"l1": {"model": 0.1, "baseline": 0.2}}, out_dir=root / "shipped")
    return root / "shipped" / "tiny.safetensors"


@pytest.fixture
def shipped(tiny_base, monkeypatch):
    """``tiny_base`` as the only base installed with zi2zi."""
    import zi2zi.bases as bases

    monkeypatch.setattr(bases, "bases_dir", lambda: tiny_base.parent)
    return tiny_base


@pytest.fixture(scope="session")
def tiny_refiner(tiny_base, tiny_fonts, tmp_path_factory) -> Path:
    """A refiner of the tiny base's 32 px glyphs to 64 px, trained a little on its own outputs and
    packaged beside a copy of the base (folder ``shipped-refined``)."""
    import shutil

    from zi2zi.fonts import open_font
    from zi2zi.generation import GlyphGenerator
    from zi2zi.refine.files import save_refiner
    from zi2zi.refine.model import Refiner, RefinerConfig
    from zi2zi.refine.pairs import pairs_from_font
    from zi2zi.refine.train import RefinerRecipe, train_refiner

    folder = tmp_path_factory.mktemp("shipped-refined")
    for path in tiny_base.parent.iterdir():
        shutil.copy(path, folder / path.name)
    generator = GlyphGenerator(tiny_base, device="cpu", refine=False)
    pairs = pairs_from_font(generator, generator.style(0), source=open_font(tiny_fonts["source"]),
                            target=open_font(tiny_fonts["bold"]), chars=TINY_CHARS, size=64)
    torch.manual_seed(0)
    model = Refiner(RefinerConfig(size=64, coarse_size=32, width=8, context_width=8, blocks=1))
    train_refiner(model, pairs, RefinerRecipe(steps=60, batch_size=8, crop=64, lr=3e-3, warmup=5))
    return save_refiner(folder / "tiny-refine.safetensors", model, coarse=generator.render_settings,
                        meta={"refiner": {"base": "tiny"}}, dtype=torch.float16)


@pytest.fixture
def shipped_refined(tiny_refiner, monkeypatch):
    """The tiny base and its refiner as what is installed with zi2zi."""
    import zi2zi.bases as bases

    monkeypatch.setattr(bases, "bases_dir", lambda: tiny_refiner.parent)
    return tiny_refiner.parent / "tiny.safetensors"
