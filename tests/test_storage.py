"""Atomic writes, the folder lock and folder recognition: the shared mechanisms that keep a
user's files safe."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from zi2zi.errors import Zi2ziError
from zi2zi.storage import (
    FolderKind,
    FolderLock,
    LockError,
    atomic_folder,
    built_folder,
    folder_state,
    owned_folder,
    write_text,
)
from zi2zi.storage.atomic import remove_stale
from zi2zi.storage.folders import check_replaceable
from zi2zi.storage.lock import lock_path

KIND = FolderKind(noun="thing", marker="manifest.json", format="zi2zi-thing", version=1)


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_written_files_and_folders_follow_the_umask(tmp_path, umask_022):
    path = write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    with atomic_folder(tmp_path / "folder") as tmp:
        (tmp / "inner.txt").write_text("y")
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o755
    os.umask(0o077)
    assert stat.S_IMODE(write_text(tmp_path / "b.txt", "x").stat().st_mode) == 0o600


def test_atomic_folder_replaces_only_when_complete(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_folder(final) as tmp:
            (tmp / "new.txt").write_text("new")
            raise RuntimeError("killed")
    assert (final / "old.txt").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with atomic_folder(final) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_remove_stale_deletes_only_the_hidden_temporaries_of_that_folder(tmp_path):
    (tmp_path / ".out.rendering-abc").mkdir()
    (tmp_path / ".out.tmp-x.tmp").write_text("")
    (tmp_path / ".other.rendering-abc").mkdir()
    (tmp_path / "out").mkdir()
    remove_stale(tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.rendering-abc", "out"]


def test_lock_refuses_a_live_owner_and_takes_over_a_dead_one(tmp_path):
    out = tmp_path / "out"
    with FolderLock(out):
        record = json.loads(lock_path(out).read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
        with pytest.raises(LockError, match=f"being written by process {os.getpid()}"):
            FolderLock(out).acquire()
    assert not lock_path(out).exists()

    dead = _dead_pid()
    lock_path(out).write_text(json.dumps({"pid": dead, "host": socket.gethostname()}))
    said: list[str] = []
    with FolderLock(out, notify=said.append):
        assert json.loads(lock_path(out).read_text())["pid"] == os.getpid()
    assert len(said) == 1 and f"process {dead}" in said[0] and "stale" in said[0]


def test_lock_of_another_host_is_never_taken_over(tmp_path):
    out = tmp_path / "out"
    lock_path(out).write_text(json.dumps({"pid": 1, "host": "another-host.invalid"}))
    with pytest.raises(LockError, match="another-host.invalid"):
        FolderLock(out).acquire()


@pytest.mark.parametrize(
    ("manifest", "state"),
    [
        ({"format": "zi2zi-thing", "version": 1}, "ours"),
        ({"format": "zi2zi-thing", "version": 2}, "foreign"),  # newer than this code
        ({"format": "zi2zi-thing"}, "foreign"),
        ({"format": "browser-extension", "version": 1}, "foreign"),
        ("not json", "foreign"),
    ],
)
def test_folders_are_ours_only_by_format_and_version(tmp_path, manifest, state):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "manifest.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    assert folder_state(folder, KIND) == state
    if state == "foreign":
        with pytest.raises(Zi2ziError, match="not a zi2zi thing.*even with --overwrite"):
            check_replaceable(folder, KIND, overwrite=True)
        assert (folder / "manifest.json").exists()


def test_missing_and_empty_folders(tmp_path):
    assert folder_state(tmp_path / "nope", KIND) == "missing"
    (tmp_path / "empty").mkdir()
    assert folder_state(tmp_path / "empty", KIND) == "empty"
    Path(tmp_path / "file").write_text("x")
    with pytest.raises(Zi2ziError, match="is a file"):
        check_replaceable(tmp_path / "file", KIND, overwrite=True)


def test_an_owned_folder_is_cleared_only_when_ours_and_gets_its_marker_first(tmp_path):
    out = tmp_path / "out"
    with owned_folder(out, KIND, marker={"complete": False}):
        # The marker is there before anything else: a writer stopped now leaves a folder that is ours.
        assert KIND.read_marker(out) == {"format": "zi2zi-thing", "version": 1, "complete": False}
        assert lock_path(out).is_file()
        (out / "old.txt").write_text("from the last run")
    assert not lock_path(out).exists()
    with pytest.raises(Zi2ziError, match="pass --overwrite"):
        with owned_folder(out, KIND):
            pass
    with owned_folder(out, KIND, overwrite=True):
        assert not (out / "old.txt").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(Zi2ziError, match="not a zi2zi thing"):
        with owned_folder(mine, KIND, overwrite=True):
            pass
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and not lock_path(mine).exists()


def test_a_built_folder_appears_whole_or_not_at_all(tmp_path):
    out = tmp_path / "out"
    (tmp_path / ".out.building-killed").mkdir()  # what a killed writer left beside it
    with pytest.raises(RuntimeError):
        with built_folder(out, KIND) as tmp:
            (tmp / "half.txt").write_text("x")
            raise RuntimeError("stopped half-way")
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []
    with built_folder(out, KIND) as tmp:
        (tmp / "manifest.json").write_text(json.dumps({"format": "zi2zi-thing", "version": 1}))
        assert not out.exists()
    assert folder_state(out, KIND) == "ours"
    with pytest.raises(Zi2ziError, match="pass --overwrite"):
        with built_folder(out, KIND):
            pass
