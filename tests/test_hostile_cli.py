"""The commands as a careless or hostile user runs them: unfinished folders, impossible numbers,
bytes that are not text, fonts that lack everything. Each gives one line and leaves nothing
behind, or does what it says."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zi2zi.cli import main
from zi2zi.fonts import open_font
from zi2zi.generation import GlyphGenerator, generate_to_folder

from clihelpers import fails_with_one_line
from conftest import TINY_CHARS
from fontfactory import pattern_glyphs, save_font


def _generate_args(checkpoint, source, out, *extra):
    return ["generate", "--checkpoint", checkpoint, "--style", "0", "--source-font", source, "--out", out,
            "--device", "cpu", *extra]


def test_export_refuses_an_unfinished_glyph_folder_until_it_is_finished(capsys, checkpoint, tiny_fonts, tmp_path):
    out = tmp_path / "glyphs"
    model = GlyphGenerator(checkpoint, device="cpu")
    chars = TINY_CHARS[:8]

    def killed_after_the_first_batch(_n):
        raise KeyboardInterrupt  # as Ctrl+C (or a full disk) after the first batch

    with pytest.raises(KeyboardInterrupt):
        generate_to_folder(model, style=model.style(0), source=open_font(tiny_fonts["source"]), chars=chars, out=out,
                           batch_size=2, progress=killed_after_the_first_batch)
    written = sorted(p.name for p in out.glob("U+*.png"))
    assert len(written) == 2
    missing = "".join(c for c in chars if f"U+{ord(c):04X}.png" not in written)
    font = tmp_path / "Partial.ttf"
    line = fails_with_one_line(capsys, ["export", "--glyphs", out, "--out", font, "--family", "Partial"],
                               "unfinished", f"6 of the 8 characters asked for are missing ({missing})",
                               "zi2zi generate --resume", "--allow-incomplete")
    assert str(out) in line and not font.exists()
    # Exported anyway on request, with a warning that says so.
    capsys.readouterr()
    assert main(["export", "--glyphs", str(out), "--out", str(font), "--family", "Partial", "--allow-incomplete",
                 "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "unfinished" in captured.err and "2 traced glyph(s)" in captured.out
    # Finished as the message says: then it exports without a word.
    assert main([str(a) for a in _generate_args(checkpoint, tiny_fonts["source"], out, "--chars", chars,
                                                 "--resume")]) == 0
    capsys.readouterr()
    assert main(["export", "--glyphs", str(out), "--out", str(font), "--family", "Partial", "--overwrite",
                 "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "8 traced glyph(s)" in captured.out


def test_generate_from_a_font_with_none_of_the_characters_is_refused(capsys, checkpoint, tmp_path):
    latin = save_font(tmp_path / "latin.ttf", pattern_glyphs("ABC"), family="Latin Only")
    out = tmp_path / "glyphs"
    fails_with_one_line(capsys, _generate_args(checkpoint, latin, out, "--chars", "的一是"),
                        "latin.ttf has none of the 3 character(s)", "--source-font")
    fails_with_one_line(capsys, ["generate", "--checkpoint", checkpoint, "--style", "all", "--source-font", latin,
                                 "--out", out, "--device", "cpu", "--chars", "的一"], "has none")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latin.ttf"]  # no empty --out, no lock


def test_chars_that_are_not_utf8_are_one_line_and_leave_nothing(checkpoint, tiny_fonts, tmp_path):
    out = tmp_path / "glyphs"
    done = subprocess.run([sys.executable.encode(), b"-m", b"zi2zi", b"generate", b"--checkpoint", bytes(checkpoint),
                           b"--style", b"0", b"--source-font", bytes(tiny_fonts["source"]), b"--out", bytes(out),
                           b"--device", b"cpu", b"--chars", "的".encode() + b"\xff\xfe"],
                          capture_output=True, timeout=120)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert err.count("\n") == 1 and "--chars holds the byte 0xFF" in err and "UTF-8" in err, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_impossible_numbers_are_refused_not_quietly_changed(capsys, tiny_base, tiny_fonts, checkpoint, tmp_path):
    # More held-out characters than there are: fewer are held out, and it says so.
    assert main(["finetune", "--base", str(tiny_base), "--target", str(tiny_fonts["bold"]), "--chars",
                 f"text:{TINY_CHARS[:10]}", "--holdout", "1000000000", "--steps", "1", "--out", str(tmp_path / "run"),
                 "--device", "cpu", "--no-progress"]) == 0
    captured = capsys.readouterr()
    held = json.loads(captured.out.strip().splitlines()[-1])["holdout_glyphs"]
    assert 0 < held < 10 and "note: --holdout 1000000000:" in captured.err and f"{held} are held out" in captured.err
    fails_with_one_line(capsys, ["template", "--charset", "gb2312:0", "--out", tmp_path / "t"], "gb2312:0",
                        "keeps no characters")
    glyphs = tmp_path / "glyphs"
    assert main([str(a) for a in _generate_args(checkpoint, tiny_fonts["source"], glyphs, "--chars", "的一")]) == 0
    for workers in ("-1", "0", "100000"):
        fails_with_one_line(capsys, ["export", "--glyphs", glyphs, "--out", tmp_path / "x.ttf", "--family", "X",
                                     "--workers", workers], f"--workers {workers}", "1 to 256")
    assert not (tmp_path / "x.ttf").exists()
    manifest = json.loads((glyphs / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is True and manifest["requested"] == "的一"


def test_template_dpi_out_of_range_is_one_line_before_any_drawing(capsys, tmp_path):
    for dpi in ("-1", "0", "100000"):  # 100000 dpi pages would take tens of GB
        fails_with_one_line(capsys, ["template", "--charset", "text:的一", "--out", tmp_path / "t", "--png-dpi", dpi],
                            f"--png-dpi {dpi}", "72 to 1200")
    assert list(tmp_path.iterdir()) == []


def test_dry_run_refuses_a_device_the_run_would(capsys, tiny_dataset, tmp_path):
    fails_with_one_line(capsys, ["train", "--data", tiny_dataset, "--out", tmp_path / "run", "--preset", "cpu-small",
                                 "--device", "tpu", "--dry-run"], "--device 'tpu'", "choose")


def test_a_refused_training_leaves_no_empty_folder(capsys, tiny_dataset, tmp_path):
    fails_with_one_line(capsys, ["train", "--data", tmp_path / "nodata", "--out", tmp_path / "run", "--preset",
                                 "cpu-small", "--set", "train.device=cpu"], "does not exist")
    fails_with_one_line(capsys, ["train", "--data", tiny_dataset, "--out", tmp_path / "run", "--preset", "cpu-small",
                                 "--set", "train.device=cpu", "--set", "train.batch_size=1000"], "fewer than one batch")
    assert list(tmp_path.iterdir()) == []


def test_the_advice_for_a_folder_that_is_no_dataset_is_one_zi2zi_accepts(capsys, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.png").write_bytes(b"mine")
    line = fails_with_one_line(capsys, ["preview", folder, "--out", tmp_path / "p.png"], "not a zi2zi dataset")
    assert "--overwrite" not in line  # render refuses to replace someone's folder, so it must not be advised


def test_control_characters_never_reach_a_font_name(capsys, checkpoint, tiny_fonts, tmp_path):
    from fontTools.ttLib import TTFont

    glyphs = tmp_path / "glyphs"
    assert main([str(a) for a in _generate_args(checkpoint, tiny_fonts["source"], glyphs, "--chars", "的一")]) == 0
    for option, value in (("--family", "My\x07Kai"), ("--family", "Kai\x1b[31m"), ("--copyright", "(c)\x00 me"),
                          ("--license-url", "https://x\n.example")):
        argv = ["export", "--glyphs", glyphs, "--out", tmp_path / "k.ttf", "--family", "Kai", option, value]
        fails_with_one_line(capsys, argv, option, "control character")
    assert not (tmp_path / "k.ttf").exists()
    # A licence text may run over lines.
    assert main(["export", "--glyphs", str(glyphs), "--out", str(tmp_path / "k.ttf"), "--family", "Kai", "--license",
                 "Line one\nLine two", "--workers", "1"]) == 0
    assert TTFont(tmp_path / "k.ttf")["name"].getDebugName(13) == "Line one\nLine two"


def test_library_warnings_are_one_line_while_a_command_runs(capsys):
    import warnings

    from zi2zi.cli import one_line_warnings

    with one_line_warnings():
        warnings.warn("the first line says it\nand this is detail", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert err == "warning: the first line says it\n"
