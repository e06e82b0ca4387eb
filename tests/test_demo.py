"""The end-to-end demo on tiny fonts: render, train, generate, export, evaluate, report."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import TINY_CHARS
from fontTools.ttLib import TTFont

from zi2zi.demo import run_demo
from zi2zi.demo_settings import DemoSettings
from zi2zi.errors import FontError, Zi2ziError


def test_demo_end_to_end_on_tiny_fonts(tiny_fonts, tmp_path, monkeypatch):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    # The demo looks its fonts up by file name; give it the tiny ones under those names.
    shutil.copy(tiny_fonts["source"], fonts / "uming.ttc")
    shutil.copy(tiny_fonts["bold"], fonts / "ukai.ttc")
    monkeypatch.setenv("ZI2ZI_FONT_DIRS", str(fonts))
    settings = DemoSettings(charset=f"text:{TINY_CHARS}", characters=len(TINY_CHARS), holdout=4, size=32,
                            steps=3, minutes=5, classifier=False)
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
    with pytest.raises(Zi2ziError, match="pass --overwrite"):
        run_demo(out, settings, echo=lambda _: None)


def test_demo_names_the_missing_font_package(tmp_path, monkeypatch):
    monkeypatch.setenv("ZI2ZI_FONT_DIRS", str(tmp_path))
    monkeypatch.setattr("zi2zi.demo_fonts.font_dirs", lambda: [tmp_path])
    with pytest.raises(FontError, match="fonts-arphic-uming"):
        run_demo(tmp_path / "out", DemoSettings(), echo=lambda _: None)
    assert not (tmp_path / "out").exists()
