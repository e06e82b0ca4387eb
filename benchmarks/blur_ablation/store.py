"""Each run in a folder of its own: ``recipe.json`` (everything that defines the run), written
before training, and ``results.json`` (what was measured), written when it is done, both atomic.

On a new invocation a run is in one of four states: ``done`` (same recipe, results there: reused),
``changed`` (another recipe: redone from the start), ``unfinished`` (same recipe, no results: the
caller resumes it or starts it over), ``new``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from zi2zi.storage import write_json

RECIPE, RESULTS, SITTINGS = "recipe.json", "results.json", "sittings.json"


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def state(folder: Path, recipe: dict[str, Any]) -> str:
    if not folder.is_dir():
        return "new"
    stored = _read(folder / RECIPE)
    if stored is None:
        return "new" if not any(folder.iterdir()) else "changed"
    if stored != recipe:
        return "changed"
    results = _read(folder / RESULTS)
    return "done" if isinstance(results, dict) and results.get("recipe") == recipe else "unfinished"


def stored_results(folder: Path, recipe: dict[str, Any]) -> dict[str, Any] | None:
    """The run's results when they were measured under ``recipe``, else None."""
    return _read(folder / RESULTS) if state(folder, recipe) == "done" else None


def begin(folder: Path, recipe: dict[str, Any], *, keep: bool) -> None:
    """Make ``folder`` the run of ``recipe``: with ``keep`` (an unfinished run of the same recipe
    that will be resumed) as it is, otherwise emptied first. Only a cell folder is ever emptied:
    one with a recipe.json, or empty."""
    if folder.is_dir() and not keep:
        if not (folder / RECIPE).is_file() and any(folder.iterdir()):
            raise SystemExit(f"blur ablation: {folder} is not a run of this benchmark (no {RECIPE}); "
                             "move it away or choose another --work")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / RECIPE, recipe)


def add_sitting(folder: Path, seconds: float, machine: dict[str, Any], finished: bool) -> list[dict[str, Any]]:
    """Record one sitting's training time (a resumed run has several); returns all of them."""
    sittings = _read(folder / SITTINGS)
    sittings = sittings if isinstance(sittings, list) else []
    sittings.append({"seconds": round(seconds, 1), "finished": finished, "machine": machine,
                     "ended": time.strftime("%Y-%m-%d %H:%M:%S")})
    write_json(folder / SITTINGS, sittings)
    return sittings


def finish(folder: Path, recipe: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    results = {"recipe": recipe, **results}
    write_json(folder / RESULTS, results)
    return results
