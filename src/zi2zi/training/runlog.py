"""What a run tells its user: ``metrics.jsonl``, TensorBoard events (when installed), a progress bar.

``metrics.jsonl`` is the record that matters: one JSON object per line, each with ``kind``
("train", "eval", "baseline"), ``step`` and ``epoch``; it is flushed line by line so a killed run
keeps everything up to its last line, and a resumed run first drops the lines past the checkpoint
it restarts from (they are about to be recomputed), so the file reads as one uninterrupted run.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO

from zi2zi.errors import Zi2ziError
from zi2zi.storage.atomic import write_text
from zi2zi.storage.reading import parse_json

METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """All complete records of a metrics file; a half-written last line (a kill) is skipped."""
    p = Path(path)
    if not p.is_file():
        return []
    records = []
    for line in p.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = parse_json(line, what="metrics record")
        except Zi2ziError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def truncate_metrics(path: str | Path, step: int) -> None:
    """Keep only records with ``step <= step`` (the rest happened after the checkpoint)."""
    p = Path(path)
    if not p.is_file():
        return
    kept = [r for r in read_metrics(p) if int(r.get("step", 0)) <= step]
    write_text(p, "".join(json.dumps(r) + "\n" for r in kept))


def _clean(value: Any) -> Any:
    # JSON has no NaN/Inf: write them as strings so the file stays valid and the value visible.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class RunLog:
    """Appends records to ``RUN/metrics.jsonl`` and mirrors numbers to TensorBoard if available.

    On ranks other than 0 (``enabled=False``) every method is a no-op.
    """

    def __init__(self, run_dir: str | Path, *, enabled: bool = True, tensorboard: bool = True) -> None:
        self.enabled = enabled
        self.path = Path(run_dir) / METRICS_FILE
        self._fh: TextIO | None = None
        self._tb = None
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")
        if tensorboard:
            try:  # optional: no hard dependency on tensorboard
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                pass
            else:
                self._tb = SummaryWriter(str(Path(run_dir) / TENSORBOARD_DIR))

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled or self._fh is None:
            return
        self._fh.write(json.dumps({k: _clean(v) for k, v in record.items()}) + "\n")
        self._fh.flush()
        if self._tb is not None:
            kind = record.get("kind", "train")
            step = int(record.get("step", 0))
            for key, value in record.items():
                if key not in ("kind", "step", "epoch") and isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._tb.add_scalar(f"{kind}/{key}", value, step)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None


class Progress:
    """A tqdm bar over training steps, shown only on an interactive terminal and on rank 0."""

    def __init__(self, *, total: int, initial: int, enabled: bool, stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr
        self._bar = None
        if enabled and getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, unit="it", dynamic_ncols=True, file=stream)

    def update(self, n: int = 1, **postfix: Any) -> None:
        if self._bar is not None:
            if postfix:
                self._bar.set_postfix({k: f"{v:.3g}" if isinstance(v, float) else v for k, v in postfix.items()}, refresh=False)
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
