"""Rendering paired datasets, the split, loading, augmentation, preview, and the CLI around them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from zi2zi.cli import main
from zi2zi.config import RenderSettings
from zi2zi.data import GlyphDataset, paired_augment, read_manifest, render_dataset, write_preview
from zi2zi.errors import DatasetError

from conftest import TINY_CHARS


def render(tiny_fonts, out, **kwargs):
    options = dict(
        source=str(tiny_fonts["source"]),
        targets=[str(tiny_fonts["bold"]), str(tiny_fonts["light"])],
        chars=TINY_CHARS,
        out=out,
        settings=RenderSettings(size=32),
        holdout=5,
        seed=3,
        workers=1,
    )
    options.update(kwargs)
    return render_dataset(**options)


def test_dataset_describes_itself(tiny_dataset, tiny_fonts):
    m = read_manifest(tiny_dataset)
    assert m["render"] == {"size": 32, "mode": "em", "margin": 0.0}
    assert [s["name"] for s in m["styles"]] == ["Tiny Bold Regular", "Tiny Light Regular"]
    assert m["styles"][0]["font"]["sha256"] and m["source"]["embox"]["units_per_em"] == 1000
    # The bold font lacks the last two characters: they are missing for that style only.
    assert m["styles"][0]["missing"] == TINY_CHARS[-2:]
    assert m["styles"][1]["characters"] == TINY_CHARS
    for char in m["styles"][0]["characters"]:
        assert (tiny_dataset / "styles" / "0" / f"U+{ord(char):04X}.png").is_file()
    assert not (tiny_dataset / "styles" / "0" / f"U+{ord(TINY_CHARS[-1]):04X}.png").exists()


def test_split_is_seeded_and_holdout_never_trains(tiny_fonts, tmp_path):
    render(tiny_fonts, tmp_path / "a")
    render(tiny_fonts, tmp_path / "b")
    render(tiny_fonts, tmp_path / "c", seed=4)
    a, b, c = (read_manifest(tmp_path / n)["split"] for n in "abc")
    assert a == b and a["holdout"] != c["holdout"]
    train, val, held = set(a["train"]), set(a["val"]), set(a["holdout"])
    assert len(held) == 5 and not held & train and not held & val and not train & val
    assert train | val | held == set(TINY_CHARS)
    # Held-out characters come from those every style has, so every style is judged on them.
    assert held <= set(TINY_CHARS[:-2])
    loaded = GlyphDataset(tmp_path / "a", "train")
    assert not set(loaded.characters) & held
    assert set(GlyphDataset(tmp_path / "a", "holdout").characters) == held


def test_overwrite_refusal_keeps_the_old_dataset(tiny_fonts, tmp_path):
    out = tmp_path / "ds"
    render(tiny_fonts, out)
    before = (out / "manifest.json").read_bytes()
    with pytest.raises(DatasetError, match="already exists; pass --overwrite"):
        render(tiny_fonts, out, seed=9)
    assert (out / "manifest.json").read_bytes() == before
    render(tiny_fonts, out, seed=9, overwrite=True)
    assert read_manifest(out)["split"]["seed"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no temp folders left


def test_interrupted_render_leaves_nothing_that_looks_complete(tiny_fonts, tmp_path):
    def interrupt(_):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render(tiny_fonts, tmp_path / "ds", progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_refuses_foreign_folder_and_impossible_holdout(tiny_fonts, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    with pytest.raises(DatasetError, match="not a zi2zi dataset"):
        render(tiny_fonts, tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "precious"
    with pytest.raises(DatasetError, match="--holdout 100"):
        render(tiny_fonts, tmp_path / "x", holdout=100)


def test_loader_holds_decoded_arrays(tiny_dataset):
    ds = GlyphDataset(tiny_dataset, "train")
    m = read_manifest(tiny_dataset)
    expected_pairs = sum(sum(c in m["split"]["train"] for c in s["characters"]) for s in m["styles"])
    assert len(ds) == expected_pairs
    assert ds.targets.dtype == np.uint8 and ds.targets.shape == (len(ds), 32, 32)
    assert ds.sources.shape == ds.targets.shape
    item = ds[0]
    assert item["source"].shape == (1, 32, 32) and item["source"].min() >= -1 and item["source"].max() <= 1
    batch = ds.batch(np.arange(4))
    assert batch["target"].shape == (4, 1, 32, 32) and batch["style"].dtype == torch.int64
    with pytest.raises(DatasetError, match="no 'test' split"):
        GlyphDataset(tiny_dataset, "test")
    only_light = GlyphDataset(tiny_dataset, "all", styles=[1])
    assert set(only_light.style_ids.tolist()) == {1} and len(only_light) == len(TINY_CHARS)


def test_paired_augment_moves_source_and_target_together():
    image = -torch.ones(3, 1, 32, 32)
    image[:, :, 8:20, 10:14] = 1.0
    gen = torch.Generator().manual_seed(0)
    src, tgt = paired_augment(image, image.clone(), gen)
    assert torch.equal(src, tgt)  # identical inputs stay identical: one transform for both
    assert not torch.allclose(src, image)  # and the transform did something
    again = paired_augment(image, image.clone(), torch.Generator().manual_seed(0))[0]
    assert torch.equal(src, again)


def test_preview_and_cli(tiny_fonts, tiny_dataset, tmp_path, capsys):
    sheet = write_preview(tiny_dataset, tmp_path / "sheet.png")
    assert sheet.stat().st_size > 0
    assert main(["charset", f"text:{TINY_CHARS}", "--font", str(tiny_fonts["bold"]), "--count"]) == 0
    assert capsys.readouterr().out.strip() == str(len(TINY_CHARS) - 2)
    assert main(["charset", f"text:{TINY_CHARS}", "--missing-from", str(tiny_fonts["bold"])]) == 0
    assert capsys.readouterr().out.strip() == TINY_CHARS[-2:]
    out = tmp_path / "cli"
    args = ["render", "--source", str(tiny_fonts["source"]), "--target", str(tiny_fonts["light"]),
            "--charset", f"text:{TINY_CHARS}", "--size", "16", "--out", str(out), "--workers", "1",
            "--preview", str(tmp_path / "p.png")]
    assert main(args) == 0 and (tmp_path / "p.png").is_file()
    assert main(args) == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert main(["charset", "text: "]) == 1
    assert "holds no characters" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["render"]["size"] == 16
