"""No command deletes or mixes a user's files: folders are replaced only when zi2zi's own, one
writer per folder, interrupted work is cleaned up or recognisable."""

from __future__ import annotations

import json
import os
import socket

import pytest

from zi2zi.cli import main
from zi2zi.config import RenderSettings
from zi2zi.data import render_dataset
from zi2zi.errors import DatasetError
from zi2zi.fonts import open_font
from zi2zi.generation import GlyphGenerator, generate_to_folder
from zi2zi.storage.lock import lock_path

from clihelpers import fails_with_one_line
from conftest import TINY_CHARS
from trainhelpers import tiny_overrides


def _render(tiny_fonts, out, **kwargs):
    return render_dataset(source=str(tiny_fonts["source"]), targets=[str(tiny_fonts["light"])], chars=TINY_CHARS[:12],
                          out=out, settings=RenderSettings(size=32), workers=1, **kwargs)


def _users_folder(path):
    path.mkdir()
    (path / "config.json").write_text('{"mine": true}')
    (path / "samples").mkdir()
    (path / "samples" / "holiday.png").write_bytes(b"not really")
    (path / "tensorboard").mkdir()
    (path / "notes.txt").write_text("my notes")
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize("flags", [[], ["--overwrite"], ["--dry-run"], ["--dry-run", "--overwrite"]])
def test_train_never_clears_a_folder_that_is_not_a_run(capsys, tiny_dataset, tmp_path, flags):
    out = tmp_path / "mine"
    before = _users_folder(out)
    argv = ["train", "--data", tiny_dataset, "--out", out, "--preset", "cpu-small", *sum((["--set", o] for o in tiny_overrides()), [])]
    fails_with_one_line(capsys, argv + flags, str(out), "not a zi2zi run")
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert json.loads((out / "config.json").read_text()) == {"mine": True}


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_train_overwrite_with_a_mistyped_dataset_keeps_the_run(capsys, tiny_dataset, tmp_path):
    run = tmp_path / "run"
    train_args = ["--out", run, "--preset", "cpu-small", "--no-progress",
                  *sum((["--set", o] for o in [*tiny_overrides(), "train.max_steps=2"]), [])]
    assert main([str(a) for a in ["train", "--data", tiny_dataset, *train_args]]) == 0
    before = _tree(run)
    fails_with_one_line(capsys, ["train", "--data", tmp_path / "typo", *train_args, "--overwrite"], "typo")
    assert _tree(run) == before  # the dataset is read before the run is cleared


def test_finetune_overwrite_with_a_mistyped_target_keeps_the_run(capsys, shipped, tiny_fonts, tmp_path):
    run = tmp_path / "ft"
    args = ["finetune", "--base", "tiny", "--steps", "2", "--out", run, "--no-progress", "--device", "cpu"]
    assert main([str(a) for a in [*args, "--target", tiny_fonts["light"]]]) == 0
    before = _tree(run)
    for bad in (["--target", tmp_path / "typo.ttf"], ["--target", tiny_fonts["light"], "--chars", "gb9999"]):
        fails_with_one_line(capsys, [*args, *bad, "--overwrite"], "typo.ttf" if "--chars" not in bad else "gb9999")
        assert _tree(run) == before  # still the run it was, resumable


def test_render_overwrite_refuses_a_folder_with_someone_elses_manifest(capsys, tiny_fonts, tmp_path):
    out = tmp_path / "extension"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"manifest_version": 3, "name": "a browser extension"}))
    (out / "background.js").write_text("// code")
    fails_with_one_line(capsys, ["render", "--source", tiny_fonts["source"], "--target", tiny_fonts["light"],
                                 "--charset", "text:的一是", "--size", "32", "--out", out, "--overwrite"],
                        "not a zi2zi dataset", "even with --overwrite")
    assert (out / "background.js").read_text() == "// code"


def test_render_overwrite_replaces_its_own_dataset(tiny_fonts, tmp_path):
    out = tmp_path / "data"
    _render(tiny_fonts, out)
    with pytest.raises(DatasetError, match="--overwrite"):
        _render(tiny_fonts, out)
    _render(tiny_fonts, out, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["format"] == "zi2zi-dataset"


def test_two_writers_of_one_folder_the_second_is_refused(capsys, tiny_fonts, tiny_dataset, tmp_path):
    # A live owner: this very process holds the lock, as a concurrent run would.
    out = tmp_path / "busy"
    lock_path(out).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    fails_with_one_line(capsys, ["render", "--source", tiny_fonts["source"], "--target", tiny_fonts["light"],
                                 "--charset", "text:的一是", "--size", "32", "--out", out],
                        "being written by process", str(os.getpid()))
    argv = ["train", "--data", tiny_dataset, "--out", out, "--preset", "cpu-small", *sum((["--set", o] for o in tiny_overrides()), [])]
    fails_with_one_line(capsys, argv, "being written by process")
    assert not out.exists()


def test_a_stale_lock_is_taken_over_with_a_message(capsys, tiny_fonts, tmp_path):
    import subprocess
    import sys

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout)
    out = tmp_path / "data"
    lock_path(out).write_text(json.dumps({"pid": dead, "host": socket.gethostname()}))
    _render(tiny_fonts, out)
    assert "stale lock" in capsys.readouterr().err
    assert not lock_path(out).exists() and (out / "manifest.json").is_file()


def test_a_killed_renders_hidden_folder_is_cleaned_by_the_next_render(tiny_fonts, tmp_path):
    leftover = tmp_path / ".data.rendering-k1ll3d"
    (leftover / "styles" / "0").mkdir(parents=True)
    _render(tiny_fonts, tmp_path / "data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_generate_refuses_foreign_folders_and_other_models(capsys, checkpoint, tiny_fonts, tmp_path):
    model = GlyphGenerator(checkpoint, device="cpu")
    source = open_font(tiny_fonts["source"])
    out = tmp_path / "glyphs"
    generate_to_folder(model, style=model.style(0), source=source, chars="的一", out=out)
    # Another style into the same folder: refused, nothing mixed.
    fails_with_one_line(capsys, ["generate", "--checkpoint", checkpoint, "--style", "1", "--source-font",
                                 tiny_fonts["source"], "--chars", "是", "--out", out, "--resume", "--device", "cpu"],
                        "another style", "mix")
    # Another checkpoint (same style id): refused too.
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["model"] = "0123456789abcdef"
    (out / "manifest.json").write_text(json.dumps(manifest))
    fails_with_one_line(capsys, ["generate", "--checkpoint", checkpoint, "--style", "0", "--source-font",
                                 tiny_fonts["source"], "--chars", "是", "--out", out, "--resume", "--device", "cpu"],
                        "another checkpoint")
    assert not (out / "U+662F.png").exists()
    # A folder with a file named manifest.json that is not ours.
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"name": "something else"}')
    fails_with_one_line(capsys, ["generate", "--checkpoint", checkpoint, "--style", "0", "--source-font",
                                 tiny_fonts["source"], "--chars", "是", "--out", foreign, "--resume", "--device", "cpu"],
                        "not a readable zi2zi glyph manifest")


def test_a_killed_generate_leaves_its_em_box_behind(checkpoint, tiny_fonts, tmp_path):
    model = GlyphGenerator(checkpoint, device="cpu")
    out = tmp_path / "glyphs"

    def kill(_n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_to_folder(model, style=model.style(0), source=open_font(tiny_fonts["source"]), chars=TINY_CHARS[:8],
                           out=out, batch_size=2, progress=kill)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "zi2zi-glyphs" and manifest["complete"] is False and "embox" in manifest
    assert list(out.glob("U+*.png")) and not lock_path(out).exists()
    report = generate_to_folder(model, style=model.style(0), source=open_font(tiny_fonts["source"]),
                                chars=TINY_CHARS[:8], out=out, resume=True)
    assert json.loads((out / "manifest.json").read_text())["complete"] is True
    assert len(report.written) + len(report.skipped_existing) == 8


def test_a_deleted_validation_image_is_an_error_not_silence(capsys, make_tiny_dataset, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(make_tiny_dataset(), data)
    manifest = json.loads((data / "manifest.json").read_text())
    char = manifest["split"]["val"][0]
    style = next(s for s in manifest["styles"] if char in s["characters"])
    (data / style["dir"] / f"U+{ord(char):04X}.png").unlink()
    argv = ["train", "--data", data, "--out", tmp_path / "run", "--preset", "cpu-small",
            *sum((["--set", o] for o in tiny_overrides()), [])]
    fails_with_one_line(capsys, argv, f"U+{ord(char):04X}.png", "missing")


def test_a_rendered_dataset_follows_the_umask(tiny_fonts, tmp_path):
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / "data"
        _render(tiny_fonts, out)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "manifest.json").stat().st_mode) == 0o644
    png = next((out / "source").glob("*.png"))
    assert stat.S_IMODE(png.stat().st_mode) == 0o644
