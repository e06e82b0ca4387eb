"""Single output files (a preview, a specimen, an animation, a font): an existing file is never
replaced without --overwrite, a pipe or a folder never even with it, a file that appears during
the work is not replaced, and a failed or killed write leaves the old file and no temporary."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest
from PIL import Image

from zi2zi.errors import Zi2ziError
from zi2zi.storage.outputs import output_path, write_output

from clihelpers import fails_with_one_line

USERS = b"my holiday photo, not a zi2zi file"


def _commands(tiny_fonts, tiny_dataset, checkpoint, tmp_path, out):
    """(argv writing ``out``, the option naming it) for every command that writes one file."""
    model = ["--checkpoint", checkpoint, "--source-font", tiny_fonts["source"], "--device", "cpu"]
    return {
        "render": (["render", "--source", tiny_fonts["source"], "--target", tiny_fonts["light"], "--charset",
                    "text:的一是了", "--size", "32", "--workers", "1", "--out", tmp_path / "data", "--preview", out],
                   "--preview"),
        "specimen": (["specimen", *model, "--style", "0", "--text", "的一", "--out", out], "--out"),
        "interpolate": (["interpolate", *model, "--styles", "0", "1", "--steps", "2", "--chars", "的", "--out", out],
                        "--out"),
        "preview": (["preview", tiny_dataset, "--out", out], "--out"),
    }


@pytest.mark.parametrize("command", ["render", "specimen", "interpolate", "preview"])
def test_an_existing_file_is_replaced_only_with_overwrite(capsys, tiny_fonts, tiny_dataset, checkpoint, tmp_path,
                                                          command):
    from zi2zi.cli import main

    out = tmp_path / "mine.png"
    out.write_bytes(USERS)
    argv, option = _commands(tiny_fonts, tiny_dataset, checkpoint, tmp_path, out)[command]
    fails_with_one_line(capsys, argv, f"{option} {out}", "already exists", "--overwrite")
    assert out.read_bytes() == USERS
    assert not (tmp_path / "data").exists()  # refused before the work, not after it
    assert main([str(a) for a in argv + ["--overwrite"]]) == 0
    assert Image.open(out).format == "PNG"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["mine.png"]  # no lock, no temporary


@pytest.mark.parametrize("command", ["render", "specimen", "interpolate", "preview"])
def test_a_pipe_is_never_an_output(capsys, tiny_fonts, tiny_dataset, checkpoint, tmp_path, command):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    argv, option = _commands(tiny_fonts, tiny_dataset, checkpoint, tmp_path, fifo)[command]
    fails_with_one_line(capsys, argv + ["--overwrite"], f"{option} {fifo}", "not a regular file")
    assert fifo.exists() and not fifo.is_file()


def test_export_refuses_a_pipe_and_cleans_a_killed_exports_temporary(capsys, tiny_fonts, checkpoint, tmp_path):
    from zi2zi.cli import main

    glyphs = tmp_path / "glyphs"
    assert main(["generate", "--checkpoint", str(checkpoint), "--style", "0", "--source-font",
                 str(tiny_fonts["source"]), "--chars", "的一", "--out", str(glyphs), "--device", "cpu"]) == 0
    fifo = tmp_path / "font.ttf"
    os.mkfifo(fifo)
    fails_with_one_line(capsys, ["export", "--glyphs", glyphs, "--out", fifo, "--family", "X", "--overwrite"],
                        "not a regular file")
    fifo.unlink()
    killed = tmp_path / ".font.ttf.tmp-k1ll3d.tmp"  # what a kill -9 during the write leaves
    killed.write_bytes(b"half a font")
    assert main(["export", "--glyphs", str(glyphs), "--out", str(fifo), "--family", "X", "--workers", "1"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["font.ttf", "glyphs"]


def test_a_file_that_appears_during_the_work_is_not_replaced(tmp_path):
    out = tmp_path / "sheet.png"
    with pytest.raises(Zi2ziError, match="already exists"):
        with output_path(out, overwrite=False) as tmp:
            tmp.write_bytes(b"zi2zi's sheet")
            out.write_bytes(USERS)  # another program, meanwhile
    assert out.read_bytes() == USERS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.png"]
    write_output(out, b"zi2zi's sheet", overwrite=True)
    assert out.read_bytes() == b"zi2zi's sheet"


def _limit_file_size() -> None:
    # A real "disk full" for this process: writes past 4 KB fail with EFBIG (Python ignores SIGXFSZ).
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_write_that_fails_for_lack_of_room_keeps_the_old_file(tiny_dataset, tmp_path):
    out = tmp_path / "sheet.png"
    out.write_bytes(USERS)
    done = subprocess.run([sys.executable, "-m", "zi2zi", "preview", str(tiny_dataset), "--out", str(out),
                           "--overwrite", "--per-style", "48"],
                          capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(out) in lines[0] and "larger than this system allows" in lines[0], done.stderr
    assert out.read_bytes() == USERS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.png"]
