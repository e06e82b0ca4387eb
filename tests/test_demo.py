"""The end-to-end demo on tiny fonts: render, train, generate, export, evaluate, report."""

from __future__ import annotations

import json
import shutil

import pytest
from fontTools.ttLib import TTFont

from zi2zi.demo.pipeline import DEMO_KIND, run_demo
from zi2zi.demo.settings import DemoSettings
from zi2zi.errors import FontError, Zi2ziError

from conftest import TINY_CHARS


@pytest.fixture
def demo_fonts(tiny_fonts, tmp_path, monkeypatch):
    """The demo looks its fonts up by file name: the tiny ones under those names."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(tiny_fonts["source"], fonts / "uming.ttc")
    shutil.copy(tiny_fonts["bold"], fonts / "ukai.ttc")
    monkeypatch.setenv("ZI2ZI_FONT_DIRS", str(fonts))
    return fonts

def test_demo_end_to_end_on_tiny_fonts(demo_fonts, tmp_path):
    settings = DemoSettings(charset=f"text:{TINY_CHARS}", characters=len(TINY_CHARS), holdout=4, size=32,
                            steps=3, minutes=5, classifier=False, base=None)
    out = tmp_path / "demo"
    report = run_demo(out, settings, echo=lambda _: None)
    html = report.read_text(encoding="utf-8")
    assert "Held-out characters" in html and "baseline" in html
    for name in ("held-out-comparison.png", "loss-curves.png", "dataset-preview.png", "zi2zi-demo.ttf"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    held = json.loads((out / "data" / "manifest.json").read_text(encoding="utf-8"))["split"]["holdout"]
    font = TTFont(out / "zi2zi-demo.ttf")
    # Exactly the generated held-out glyphs, plus the whitespace every exported font has.
    assert set(font.getBestCmap()) - {0x20, 0xA0, 0x3000} == {ord(c) for c in held}
    assert summary["metrics"]["holdout"]["pairs"] == 4
    assert summary["train"]["steps"] == 3
    assert DEMO_KIND.read_marker(out) == {"format": "zi2zi-demo", "version": 1, "complete": True}
    with pytest.raises(Zi2ziError, match="pass --overwrite"):
        run_demo(out, settings, echo=lambda _: None)


def test_demo_names_the_missing_font_package(tmp_path, monkeypatch):
    monkeypatch.setenv("ZI2ZI_FONT_DIRS", str(tmp_path))
    monkeypatch.setattr("zi2zi.fonts.system.font_dirs", lambda: [tmp_path])
    with pytest.raises(FontError, match="fonts-arphic-uming"):
        run_demo(tmp_path / "out", DemoSettings(), echo=lambda _: None)
    assert not (tmp_path / "out").exists()


def test_demo_never_replaces_a_folder_that_is_not_a_demo(demo_fonts, tmp_path):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "src").mkdir()
    (project / "notes.txt").write_text("mine", encoding="utf-8")
    settings = DemoSettings(charset=f"text:{TINY_CHARS}", characters=len(TINY_CHARS), holdout=4, size=32,
                            steps=1, minutes=5, classifier=False)
    with pytest.raises(Zi2ziError, match="not a zi2zi demo folder"):
        run_demo(project, settings, overwrite=True, echo=lambda _: None)
    assert (project / "notes.txt").read_text(encoding="utf-8") == "mine" and (project / "src").is_dir()


def test_demo_checks_its_settings_before_touching_the_folder(demo_fonts, tmp_path):
    out = tmp_path / "demo"
    with pytest.raises(Zi2ziError, match="too few"):
        run_demo(out, DemoSettings(charset="text:的一是", characters=3, holdout=4, size=32), echo=lambda _: None)
    assert not out.exists()


def test_demo_fine_tunes_a_base_when_given_one(demo_fonts, tmp_path, monkeypatch, make_tiny_dataset):
    """The demo's default path: a base (here a tiny one trained on the tiny fonts) fine-tuned on the
    target's first glyphs, measured on the base's own held-out characters."""
    from zi2zi.bases import package_base
    from zi2zi.data.layout import read_manifest
    from zi2zi.training import TrainOptions, train

    from trainhelpers import tiny_config

    data = make_tiny_dataset(size=32, holdout=4, styles=("light",))
    summary = train(TrainOptions(data=data, out=tmp_path / "base-run", config=tiny_config(), progress=False))
    package_base(summary.checkpoint, "tiny", manifest=read_manifest(data), recipe="tests", fonts=[],
                 wall_seconds=1, metrics={}, out_dir=tmp_path / "bases")
    monkeypatch.setattr("zi2zi.bases.bases_dir", lambda: tmp_path / "bases")
    out = tmp_path / "demo"
    settings = DemoSettings(charset=f"text:{TINY_CHARS}", characters=len(TINY_CHARS), holdout=4, size=32,
                            classifier=False, base="tiny", glyphs=30)
    run_demo(out, settings, echo=lambda _: None)
    result = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert result["train"]["how"].startswith("tiny fine-tuned on 30 glyphs")
    held = read_manifest(out / "run" / "data")["split"]["holdout"]
    assert set(held) <= set(read_manifest(data)["split"]["holdout"])  # the base never saw them either
    # Exactly the generated held-out glyphs, beside the spaces every exported font has.
    assert set(TTFont(out / "zi2zi-demo.ttf").getBestCmap()) == {ord(c) for c in held} | {0x20, 0xA0, 0x3000}


def test_demo_without_the_default_base_trains_from_scratch(tmp_path, monkeypatch):
    monkeypatch.setattr("zi2zi.bases.bases_dir", lambda: tmp_path / "no-bases")
    (tmp_path / "no-bases").mkdir()
    from zi2zi.demo.pipeline import _choose_base

    said: list[str] = []
    chosen = _choose_base(DemoSettings(), said.append)
    assert chosen.base is None and "not installed" in said[0]
    with pytest.raises(Zi2ziError, match="no shipped base of that name"):
        _choose_base(DemoSettings(base="nope"), said.append)
