"""The run directory: what is in it, how it is recognised, and who may write it.

``RUN/`` holds ``run.json`` (format ``zi2zi-run``, data, styles, device, the trivial baseline),
``config.json`` (the resolved config), ``metrics.jsonl``, ``samples/``, ``tensorboard/`` and
``checkpoints/``. A folder is a run only when its ``run.json`` says so; zi2zi never clears a folder
that is not, with or without ``--overwrite``. One process writes a run at a time (a lock beside it).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from zi2zi.checkpoints import CHECKPOINT_DIR, latest_resumable, list_checkpoints
from zi2zi.checkpoints.files import newest_intact, read_metadata, state_path
from zi2zi.checkpoints.resume import load_state
from zi2zi.config import Config, load_config
from zi2zi.errors import CheckpointError, TrainingError, Zi2ziError
from zi2zi.storage.atomic import remove_stale_files, write_json
from zi2zi.storage.folders import FolderKind, folder_state
from zi2zi.storage.reading import read_json

CONFIG_FILE = "config.json"
RUN_FILE = "run.json"
SAMPLES_DIR = "samples"
METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"
FORMAT = "zi2zi-run"
FORMAT_VERSION = 1
KIND = FolderKind(noun="run directory", marker=RUN_FILE, format=FORMAT, version=FORMAT_VERSION)
# `zi2zi finetune` writes its record (and the dataset it renders) into the run directory before
# the run starts; a folder with that record is a run in the making.
FINETUNE_KIND = FolderKind(noun="fine-tuning run", marker="finetune.json", format="zi2zi-finetune", version=1)


def is_run(folder: Path) -> bool:
    """A zi2zi run: ``run.json`` with this format, or a fine-tuning run's record. Runs written
    before ``run.json`` carried a format are recognised by the fields only zi2zi writes there."""
    if KIND.read_marker(folder) is not None or FINETUNE_KIND.read_marker(folder) is not None:
        return True
    try:
        doc = read_json(folder / RUN_FILE, what="run record")
    except (OSError, Zi2ziError):
        return False
    return isinstance(doc, dict) and "format" not in doc and {"zi2zi_version", "steps_per_epoch", "styles"} <= set(doc)


def clear_run(run_dir: Path) -> None:
    """Remove what a run writes, and only that (the caller has checked :func:`is_run`)."""
    for name in (CHECKPOINT_DIR, SAMPLES_DIR, TENSORBOARD_DIR):
        shutil.rmtree(run_dir / name, ignore_errors=True)
    for name in (CONFIG_FILE, RUN_FILE, METRICS_FILE):
        (run_dir / name).unlink(missing_ok=True)


def remove_stale_temporaries(run_dir: Path) -> None:
    """Temporary files of writes that a kill interrupted: never valid, safe to delete."""
    for folder in (run_dir, run_dir / CHECKPOINT_DIR, run_dir / SAMPLES_DIR):
        remove_stale_files(folder)


def check(run_dir: Path, *, resume: bool, overwrite: bool,
          notify: Callable[[str], None] = lambda _: None) -> Path | None:
    """Refuse a run directory that may not be written, touching nothing; returns the checkpoint a
    resume starts from (None for a new run): the newest intact one (``notify`` hears of damaged
    newer ones passed over). ``zi2zi train --dry-run`` asks the same."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"--out {run_dir} is a file; give a folder for the run")
    ours = run_dir.is_dir() and is_run(run_dir)
    if resume:
        if not ours:
            damaged_record(run_dir)
        latest = newest_intact(run_dir, notify) if ours else None
        newest = latest_resumable(run_dir) if ours else None
        if latest is None and newest is not None:
            try:  # the newest one's own reason, naming its file
                read_metadata(newest)
                load_state(state_path(newest))
            except CheckpointError as exc:
                raise TrainingError(f"--resume: every checkpoint in {run_dir / CHECKPOINT_DIR} is damaged (start "
                                    f"the run over with --overwrite); the newest: {exc}") from None
        if latest is None:
            raise TrainingError(f"--resume: {run_dir} has no checkpoint to resume from; start the run without --resume")
        return latest
    if folder_state(run_dir, KIND) == "foreign" and not ours:
        raise TrainingError(
            f"--out {run_dir} is a non-empty folder that is not a zi2zi run (no {RUN_FILE} with format "
            f"{FORMAT!r}); zi2zi will not clear it even with --overwrite: choose an empty or new folder"
        )
    existing = list_checkpoints(run_dir)
    if existing and not overwrite:
        raise TrainingError(
            f"{run_dir} already holds a run ({len(existing)} checkpoint(s), newest {existing[-1].name}); "
            "pass --resume to continue it, --overwrite to start over, or choose another --out"
        )
    return None


def prepare(run_dir: Path, resume_from: Path | None) -> None:
    """Make a checked run directory ready (see :func:`check`): a new run clears what an earlier
    run in it wrote (with --overwrite, or one killed before its first checkpoint) and writes its
    marker first, so that a run stopped before its first checkpoint is still recognised.

    Call it holding the run's lock (:func:`zi2zi.storage.claim_folder`), on the one process that writes.
    """
    if resume_from is not None:
        return
    if run_dir.is_dir() and is_run(run_dir):
        clear_run(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    KIND.write_marker(run_dir)


def start_config(run_dir: Path, *, resume: bool, preset: str | None, config_file: str | Path | None,
                 overrides: Sequence[str]) -> Config:
    """The config a run starts from: a resumed run with no preset or file given starts from its own
    resolved ``config.json`` (``overrides`` then change what may change on resume); otherwise the
    preset (default ``classic``), refined by the file, then by ``overrides``."""
    saved = run_dir / CONFIG_FILE
    if resume and preset is None and config_file is None and saved.is_file():
        return load_config("classic", saved, list(overrides))
    return load_config(preset or "classic", config_file, list(overrides))


def recorded_data_dir(checkpoint: str | Path) -> Path | None:
    """The dataset a checkpoint was trained on: its metadata, else its run directory's run.json."""
    from zi2zi.checkpoints import read_metadata, resolve_checkpoint

    path = resolve_checkpoint(checkpoint)
    recorded = (read_metadata(path).get("data_info") or {}).get("data_dir")
    if not recorded and path.parent.name == CHECKPOINT_DIR:
        recorded = read_run_info(path.parent.parent).get("data_dir")
    return Path(recorded) if recorded else None


def damaged_record(run_dir: Path) -> None:
    """A folder whose ``run.json`` is there but cannot be read is a damaged run, not "no run":
    say so, naming the file, rather than that there is nothing to resume."""
    path = run_dir / RUN_FILE
    if not path.exists():
        return
    from zi2zi.storage.reading import read_json_object

    read_json_object(path, what="the run record", error=TrainingError,
                     advice="zi2zi cannot tell that this folder is its run: restore the file from a backup, "
                            "or start a new run in another folder")
    raise TrainingError(f"{path} does not describe a zi2zi run (no format {FORMAT!r}); give --out the folder of "
                        "a zi2zi run, or start a new run in another folder")


def read_run_info(run_dir: Path) -> dict[str, Any]:
    """``run.json`` of a run, or {} when there is none or it cannot be read."""
    try:
        doc = read_json(run_dir / RUN_FILE, what="run record")
    except (OSError, Zi2ziError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write_run_info(run_dir: Path, info: dict[str, Any]) -> dict[str, Any]:
    """Write ``run.json``, keeping the baseline and the history of starts of a resumed run."""
    info = {"format": FORMAT, "version": FORMAT_VERSION, **info}
    start = {"step": info.get("step", 0), "notes": info.get("notes", [])}
    old = read_run_info(run_dir)
    info["baseline"] = info.get("baseline") or old.get("baseline")
    info["starts"] = list(old.get("starts", [])) + [start]
    write_json(run_dir / RUN_FILE, info, indent=2)
    return info
