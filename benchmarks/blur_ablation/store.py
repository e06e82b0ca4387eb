"""Each run in two folders of its own:

- its work folder (``ablation-work/<cell>``, never committed): ``recipe.json`` (everything that
  defines the run), written before training, and the training itself;
- its ledger folder (``benchmarks/reports/blur-ablation/runs/<cell>``, committed): what was
  measured (``results.json``, with the recipe) and the few files the report draws from, written
  when the run is done. The ledger is what outlives the machine: a report is rebuilt from it alone,
  and a later sitting on another machine trains only what it lacks.

On a new invocation a run is in one of four states: ``done`` (results of the same recipe in the
ledger: reused), ``changed`` (another recipe: redone from the start), ``unfinished`` (same recipe,
no results: the caller resumes it or starts it over), ``new``. Every write is atomic; the ledger's
results.json is written last, so its presence means the rest is there.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from zi2zi.storage import atomic_path, write_json

RECIPE, RESULTS, SITTINGS = "recipe.json", "results.json", "sittings.json"


def read_json(path: Path) -> Any:
    """The JSON document at ``path``; None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def state(folder: Path, ledger: Path, recipe: dict[str, Any]) -> str:
    if stored_results(ledger, recipe) is not None:
        return "done"
    if not folder.is_dir():
        return "new"
    stored = read_json(folder / RECIPE)
    if stored is None:
        return "new" if not any(folder.iterdir()) else "changed"
    return "unfinished" if stored == recipe else "changed"


def stored_results(ledger: Path, recipe: dict[str, Any]) -> dict[str, Any] | None:
    """The run's results in its ledger folder when they were measured under ``recipe``, else None."""
    results = read_json(ledger / RESULTS)
    return results if isinstance(results, dict) and results.get("recipe") == recipe else None


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
    sittings = read_json(folder / SITTINGS)
    sittings = sittings if isinstance(sittings, list) else []
    sittings.append({"seconds": round(seconds, 1), "finished": finished, "machine": machine,
                     "ended": time.strftime("%Y-%m-%d %H:%M:%S")})
    write_json(folder / SITTINGS, sittings)
    return sittings


def finish(ledger: Path, recipe: dict[str, Any], results: dict[str, Any], files: list[Path]) -> dict[str, Any]:
    """Put the run's ``results`` and ``files`` (by name) into its ledger folder."""
    results = {"recipe": recipe, **results}
    ledger.mkdir(parents=True, exist_ok=True)
    (ledger / RESULTS).unlink(missing_ok=True)  # a redone run: no results beside half-copied files
    for path in files:
        with atomic_path(ledger / path.name) as tmp:
            shutil.copyfile(path, tmp)
    write_json(ledger / RESULTS, results)
    return results
