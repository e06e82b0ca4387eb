"""`zi2zi finetune` killed at any point, as a real process: the same command runs again and
finishes (or resumes); stopped by SIGTERM it checkpoints, exits non-zero and says which command
continues it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import TINY_CHARS

STEPS = 30


def _command(tiny_base, tiny_fonts, out: Path) -> list[str]:
    return [sys.executable, "-m", "zi2zi", "finetune", "--base", str(tiny_base), "--target", str(tiny_fonts["bold"]),
            "--chars", f"text:{TINY_CHARS[:30]}", "--holdout", "1", "--steps", str(STEPS), "--out", str(out),
            "--device", "cpu", "--no-progress"]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _signal_when(command: list[str], ready, sig: int, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run ``command`` and send ``sig`` as soon as ``ready()`` is true (polled every 2 ms)."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"it ended before the moment came: {proc.communicate()}"
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.002)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def _again(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=_env())


def _finished(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["step"] == STEPS and summary["stopped"] == "completed"
    return summary


def test_killed_while_rendering_its_dataset_the_same_command_finishes(tiny_base, tiny_fonts, tmp_path):
    out = tmp_path / "run"
    command = _command(tiny_base, tiny_fonts, out)
    # kill -9 while the dataset is being rendered (into its hidden temporary folder).
    killed = _signal_when(command, lambda: any(out.glob(".data.rendering-*/source/*.png")), signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    left = sorted(p.name for p in out.iterdir())
    assert ".data.lock" in left and any(name.startswith(".data.rendering-") for name in left), left
    # The record's marker is written first, so the folder is known as a run in the making.
    marker = json.loads((out / "finetune.json").read_text(encoding="utf-8"))
    assert marker["format"] == "zi2zi-finetune" and "recipe" not in marker
    assert set(left) - {".data.lock", "finetune.json"} <= {n for n in left if n.startswith(".data.rendering-")}
    done = _again(command)
    _finished(done)
    assert "stale lock" in done.stderr
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_killed_before_its_first_checkpoint_and_stopped_by_sigterm_it_resumes(tiny_base, tiny_fonts, tmp_path):
    out = tmp_path / "run"
    command = _command(tiny_base, tiny_fonts, out)
    killed = _signal_when(command, lambda: (out / "finetune.json").exists(), signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL and not (out / "checkpoints").exists()

    # Stop (SIGTERM) once training runs: a checkpoint at that step, a non-zero exit, advice it accepts.
    def training() -> bool:
        try:
            return '"kind": "train"' in (out / "metrics.jsonl").read_text(encoding="utf-8")
        except OSError:
            return False

    stopped = _signal_when(command, training, signal.SIGTERM)
    assert stopped.returncode == 130, stopped.stderr
    assert "run the same `zi2zi finetune` command again" in stopped.stderr
    assert "--resume" not in stopped.stderr  # finetune has no --resume
    summary = json.loads(stopped.stdout.strip().splitlines()[-1])
    assert summary["stopped"] == "interrupted" and 0 < summary["step"] < STEPS
    assert Path(summary["checkpoint"]).is_file()

    done = _again(command)
    _finished(done)
    assert "resuming the fine-tuning run" in done.stderr
    assert f"resumed from step-{summary['step']:08d}.safetensors" in done.stderr


def test_killed_while_writing_its_record_the_same_command_finishes(capsys, tiny_base, tiny_fonts, tmp_path):
    from zi2zi.cli import main

    out = tmp_path / "run"
    out.mkdir()
    (out / ".finetune.json.tmp-k1ll3d.tmp").write_text('{"format": "zi2zi-fi')  # the record, cut short
    argv = _command(tiny_base, tiny_fonts, out)[3:]
    argv[argv.index("--steps") + 1] = "1"
    assert main(argv) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["step"] == 1
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_a_folder_with_someone_elses_files_is_still_refused(capsys, tiny_base, tiny_fonts, tmp_path):
    from clihelpers import fails_with_one_line

    out = tmp_path / "run"
    out.mkdir()
    (out / ".data.lock").write_text("{}")  # looks like ours ...
    (out / "thesis.tex").write_text("... but this is not")
    fails_with_one_line(capsys, _command(tiny_base, tiny_fonts, out)[3:], "not a zi2zi fine-tuning run")
    assert (out / "thesis.tex").read_text() == "... but this is not"


def test_an_empty_lock_left_by_an_earlier_kill_is_taken_over(tmp_path):
    from zi2zi.storage.lock import FolderLock, lock_path

    out = tmp_path / "data"
    lock = lock_path(out)
    lock.write_bytes(b"")  # what a kill between creating and writing a lock left (earlier versions)
    os.utime(lock, (time.time() - 60, time.time() - 60))
    said: list[str] = []
    with FolderLock(out, what="dataset", notify=said.append):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert said and "empty lock" in said[0] and not lock.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary of the lock left
