"""Broken inputs a careless or hostile user may give: each is refused with one line naming the
input and what to do, exit status 1, and no traceback. The tests build the broken inputs."""

from __future__ import annotations

import errno
import json
import os
import shutil

import pytest
from PIL import Image

from zi2zi.config import ConfigError
from zi2zi.errors import Zi2ziError

from clihelpers import fails_with_one_line
from conftest import TINY_CHARS
from fontfactory import build_font, pattern_glyphs, save_font


def _render_args(tiny_fonts, out, *extra):
    return ["render", "--source", tiny_fonts["source"], "--target", tiny_fonts["light"], "--charset",
            "text:的一是了", "--size", "32", "--out", out, "--workers", "1", *extra]


def _truncated(font, path):
    data = font.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def test_config_error_is_a_zi2zi_error():
    assert issubclass(ConfigError, Zi2ziError)


# ---- fonts -----------------------------------------------------------------------------------


def test_truncated_font_in_every_command_that_opens_fonts(capsys, tiny_fonts, checkpoint, tmp_path):
    bad = _truncated(tiny_fonts["source"], tmp_path / "cut.ttf")
    fails_with_one_line(capsys, ["fontinfo", bad], str(bad))
    fails_with_one_line(capsys, ["charset", "text:的一", "--font", bad], str(bad))
    fails_with_one_line(capsys, ["render", "--source", bad, "--target", tiny_fonts["light"], "--charset", "text:的",
                                 "--out", tmp_path / "d"], str(bad))
    fails_with_one_line(capsys, ["generate", "--checkpoint", checkpoint, "--style", "0", "--source-font", bad,
                                 "--chars", "的", "--out", tmp_path / "g", "--device", "cpu"], str(bad))
    fails_with_one_line(capsys, ["specimen", "--checkpoint", checkpoint, "--style", "0", "--source-font", bad,
                                 "--text", "的", "--out", tmp_path / "s.png", "--device", "cpu"], str(bad))


def test_bytes_flipped_in_glyph_data(capsys, tmp_path, tiny_fonts):
    """Every byte of glyf inverted: the font opens (tables are read lazily), FreeType then fails
    on each outline, and zi2zi names the file instead of showing FreeType's exception."""
    from fontTools.ttLib import TTFont

    path = save_font(tmp_path / "flip.ttf", pattern_glyphs("的一是了"))
    entry = TTFont(str(path)).reader.tables["glyf"]
    data = bytearray(path.read_bytes())
    for i in range(entry.offset, entry.offset + entry.length):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    fails_with_one_line(capsys, _render_args({"source": path, "light": tiny_fonts["light"]}, tmp_path / "d"),
                        str(path), "damaged")
    assert not (tmp_path / "d").exists()


def test_woff2_input_is_refused_with_the_fix(capsys, tmp_path, tiny_fonts):
    font = build_font(pattern_glyphs("的一"))
    font.flavor = "woff2"
    font.save(str(tmp_path / "web.woff2"))
    fails_with_one_line(capsys, _render_args({"source": tmp_path / "web.woff2", "light": tiny_fonts["light"]},
                                             tmp_path / "d"), "web.woff2", "WOFF2", "convert")


def test_merge_into_a_font_without_cmap(capsys, tmp_path):
    font = build_font(pattern_glyphs("的一"))
    del font["cmap"]
    font.save(str(tmp_path / "nocmap.ttf"))
    glyphs = tmp_path / "g"
    glyphs.mkdir()
    Image.new("L", (64, 64), 255).save(glyphs / "U+662F.png")
    fails_with_one_line(capsys, ["export", "--glyphs", glyphs, "--merge-into", tmp_path / "nocmap.ttf",
                                 "--out", tmp_path / "o.ttf", "--em-box", "1000,880,-120"], "cmap")


# ---- numbers out of range ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--size", "100000"], "--size"),
        (["--size", "0"], "--size"),
        (["--holdout", "-3"], "--holdout"),
        (["--val-fraction", "nan"], "--val-fraction"),
        (["--val-fraction", "1.5"], "--val-fraction"),
        (["--val-fraction", "-1"], "--val-fraction"),
        (["--margin", "0.7"], "--margin"),
    ],
)
def test_render_numbers_out_of_range(capsys, tiny_fonts, tmp_path, extra, needle):
    fails_with_one_line(capsys, _render_args(tiny_fonts, tmp_path / "d", *extra), needle)
    assert not (tmp_path / "d").exists()


def test_other_numbers_out_of_range(capsys, tiny_dataset, checkpoint, tiny_fonts, tmp_path):
    fails_with_one_line(capsys, ["preview", tiny_dataset, "--out", tmp_path / "p.png", "--per-style", "0"], "--per-style")
    fails_with_one_line(capsys, ["evaluate", "--checkpoint", checkpoint, "--batch-size", "0"], "--batch-size")
    fails_with_one_line(capsys, ["interpolate", "--checkpoint", checkpoint, "--styles", "0", "1", "--steps", "100000",
                                 "--chars", "的", "--source-font", tiny_fonts["source"], "--out", tmp_path / "b.gif",
                                 "--device", "cpu"], "--steps")
    fails_with_one_line(capsys, ["generate", "--checkpoint", checkpoint, "--style", "0", "--source-font",
                                 tiny_fonts["source"], "--chars", "的", "--out", tmp_path / "g", "--batch-size", "0",
                                 "--device", "cpu"], "--batch-size")


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("model.generator.ngf=0", "model.generator.ngf"),
        ("model.discriminator.blur_kernel=4", "blur_kernel"),
        ("model.discriminator.blur_sigma=-1", "blur_sigma"),
        ("train.lr=nan", "train.lr"),
        ("train.beta1=1.5", "train.beta1"),
        ("loss.l1_weight=-1", "loss.l1_weight"),
    ],
)
def test_dry_run_refuses_what_the_run_would(capsys, tiny_dataset, tmp_path, override, needle):
    fails_with_one_line(capsys, ["train", "--data", tiny_dataset, "--out", tmp_path / "r", "--dry-run",
                                 "--set", override], needle)


# ---- files of the wrong kind -----------------------------------------------------------------


def test_existing_file_as_out(capsys, tiny_dataset, checkpoint, tiny_fonts, tmp_path):
    file = tmp_path / "file"
    file.write_text("keep me")
    fails_with_one_line(capsys, ["train", "--data", tiny_dataset, "--out", file, "--preset", "cpu-small"], "is a file")
    fails_with_one_line(capsys, ["generate", "--checkpoint", checkpoint, "--style", "0", "--source-font",
                                 tiny_fonts["source"], "--chars", "的", "--out", file, "--device", "cpu"], "is a file")
    fails_with_one_line(capsys, ["preview", tiny_dataset, "--out", tmp_path], "is a folder")
    assert file.read_text() == "keep me"


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_broken_png_in_a_dataset(capsys, make_tiny_dataset, tmp_path, kind):
    data = tmp_path / "data"
    shutil.copytree(make_tiny_dataset(), data)
    victim = data / "source" / f"U+{ord(TINY_CHARS[0]):04X}.png"
    victim.write_bytes(b"\x89PNG garbage" if kind == "garbage" else victim.read_bytes()[:60])
    fails_with_one_line(capsys, ["preview", data, "--out", tmp_path / "p.png", "--per-style", "48"], victim.name)
    fails_with_one_line(capsys, ["train", "--data", data, "--out", tmp_path / "r", "--preset", "cpu-small",
                                 "--set", "model.generator.ngf=8", "--set", "train.device=cpu"], victim.name)


def test_broken_glyph_folders_for_export(capsys, tmp_path):
    glyphs = tmp_path / "g"
    glyphs.mkdir()
    Image.new("L", (64, 64), 255).save(glyphs / "U+4E00.png")
    (glyphs / "U+110000.png").write_bytes((glyphs / "U+4E00.png").read_bytes())
    fails_with_one_line(capsys, ["export", "--glyphs", glyphs, "--out", tmp_path / "o.ttf", "--family", "X"],
                        "U+110000.png")
    (glyphs / "U+110000.png").unlink()
    (glyphs / "U+4E01.png").write_bytes((glyphs / "U+4E00.png").read_bytes()[:50])
    fails_with_one_line(capsys, ["export", "--glyphs", glyphs, "--out", tmp_path / "o.ttf", "--family", "X",
                                 "--em-box", "1000,880,-120"], "U+4E01.png")


def test_corrupt_glyph_manifest_on_resume(capsys, checkpoint, tiny_fonts, tmp_path):
    out = tmp_path / "g"
    argv = ["generate", "--checkpoint", checkpoint, "--style", "0", "--source-font", tiny_fonts["source"],
            "--chars", "的一", "--out", out, "--device", "cpu"]
    from zi2zi.cli import main

    assert main([str(a) for a in argv]) == 0
    (out / "manifest.json").write_text('{"format": "zi2zi-gly')
    fails_with_one_line(capsys, argv + ["--resume"], "manifest.json")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("bad.yaml", b"model: [unclosed\n", "not valid YAML"),
        ("bad.toml", b"[model\nimage_size = ", "not valid TOML"),
        ("latin1.yaml", "train:\n  lr: 0.001 # caf\xe9\n".encode("latin-1"), "not UTF-8"),
        ("list.yaml", b"- 1\n- 2\n", "mapping"),
    ],
)
def test_bad_config_files(capsys, tiny_dataset, tmp_path, name, content, needle):
    (tmp_path / name).write_bytes(content)
    fails_with_one_line(capsys, ["train", "--data", tiny_dataset, "--out", tmp_path / "r", "--dry-run",
                                 "--config", tmp_path / name], name, needle)


def test_checkpoint_with_a_non_integer_style_id(capsys, checkpoint, tiny_fonts, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(checkpoint), framework="pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    doc = json.loads(meta["zi2zi"])
    doc["styles"][0]["id"] = "zero"
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad), metadata={**meta, "zi2zi": json.dumps(doc)})
    fails_with_one_line(capsys, ["generate", "--checkpoint", bad, "--style", "0", "--source-font", tiny_fonts["source"],
                                 "--chars", "的", "--out", tmp_path / "g", "--device", "cpu"], "bad.safetensors", "style")


# ---- the system says no --------------------------------------------------------------------


def test_full_disk_is_one_line(capsys, tiny_dataset, tmp_path, monkeypatch):
    """A real ENOSPC cannot be made portably without a small file system; the failing call is
    the one the output writer makes (the link into place), with the error the kernel gives.
    tests/test_outputs.py makes a real one (a file size limit)."""
    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "p.png"))

    monkeypatch.setattr("zi2zi.storage.outputs.os.link", full)
    fails_with_one_line(capsys, ["preview", tiny_dataset, "--out", tmp_path / "p.png"], "p.png", "space")
    assert not list(tmp_path.glob(".p.png*"))


def test_read_only_output_folder_is_one_line(capsys, tiny_dataset, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        probe = folder / "probe"
        try:
            probe.write_text("x")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("this user (root) can write into a read-only folder; the full-disk test covers the path")
        fails_with_one_line(capsys, ["preview", tiny_dataset, "--out", folder / "p.png"], "permission")
    finally:
        folder.chmod(0o755)


def test_a_path_through_a_file_is_one_line(capsys, tiny_dataset, tmp_path):
    """A real failure of the file system (ENOTDIR), met while creating the run directory."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed")
    fails_with_one_line(capsys, ["train", "--data", tiny_dataset, "--out", blocker / "run", "--preset", "cpu-small",
                                 "--set", "train.device=cpu"], "blocker")
    assert blocker.read_text() == "a file where a folder is needed"


def test_help_loads_no_torch():
    """``zi2zi --help`` must answer fast: parsing imports neither torch nor the font stack."""
    import subprocess
    import sys

    code = ("import sys; from zi2zi.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'numpy', 'fontTools', 'freetype', 'PIL') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_outputs_of_another_kind_are_never_replaced(capsys, tiny_dataset, tiny_fonts, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    fails_with_one_line(capsys, ["preview", tiny_dataset, "--out", notes], ".png")
    fails_with_one_line(capsys, _render_args(tiny_fonts, tmp_path / "d", "--preview", notes), "--preview")
    assert notes.read_text() == "mine" and not (tmp_path / "d").exists()
