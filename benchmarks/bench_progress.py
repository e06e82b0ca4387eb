"""Does the web app keep its maker informed? Time to the first sample and held-out metrics, and
the ETA's error, on a real 200-glyph fine-tune through the app.

Starts the app on a free 127.0.0.1 port with a fresh projects folder, uploads the demo's target
font (AR PL UKai), starts a fine-tune from the shipped base with the page's defaults (200 training
glyphs, 100 held out, the recipe's 600 steps), and polls the progress endpoint as the page does,
once a second, until the job ends. Reports: seconds from the start click to the first training
sample, the first held-out sample and the first held-out metrics (target: 60 s on two idle cores),
and the ETA shown at each poll against the time that was really left (target: under 25 % from 10 %
of the run on). Needs the shipped base and the demo fonts (`make fonts`); run it on idle cores, as
its times are the point. The last line is JSON.

    python -m benchmarks.bench_progress [--count 200] [--holdout 100]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.bench_ui import bench_project, timed
from benchmarks.common import DEMO_FONT_FILES

FIRST_TARGET_S, ETA_TARGET = 60.0, 0.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="training glyphs")
    parser.add_argument("--holdout", type=int, default=100, help="held-out glyphs")
    args = parser.parse_args()

    from zi2zi.bases import base_names
    from zi2zi.fonts.system import find_font

    shipped = base_names()
    if not shipped:
        raise SystemExit("bench_progress: no shipped base is installed; it measures a real fine-tune")
    target = find_font(DEMO_FONT_FILES["target"])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with bench_project(work / "projects", target, f"shipped:{shipped[0]}") as (url, api):
            started = time.monotonic()
            timed(f"{api}/finetune", "POST", {"count": args.count, "holdout": args.holdout})
            first: dict[str, float] = {}
            readings: list[tuple[float, int, int, float | None]] = []  # (seconds, step, total, eta)
            while True:
                state = json.loads(urllib.request.urlopen(f"{api}/progress", timeout=30).read())
                now = time.monotonic() - started
                p = state["progress"]
                for key, present in (("training sample", p.get("sample")), ("held-out sample", p.get("heldout_sample")),
                                     ("held-out metrics", p.get("metrics"))):
                    if present and key not in first:
                        first[key] = round(now, 1)
                if state["job"]["state"] == "running" and p.get("started"):
                    readings.append((now, int(p.get("step") or 0), int(p.get("total") or 0), p.get("eta_s")))
                if state["job"]["state"] not in ("queued", "running"):
                    break
                time.sleep(1.0)
        if state["job"]["state"] != "done":
            raise SystemExit(f"bench_progress: the job ended {state['job']['state']}: {state['job'].get('message')}")
        end = readings[-1][0] if readings else 0.0
        errors = [abs(eta - (end - t)) / (end - t) for t, step, total, eta in readings
                  if total and step >= total / 10 and eta is not None and end - t > 10]
        worst = max(errors) if errors else None
        result = {"first_s": first, "first_target_s": FIRST_TARGET_S,
                  "first_met": bool(first) and max(first.values()) <= FIRST_TARGET_S and len(first) == 3,
                  "eta_worst_error": round(worst, 3) if worst is not None else None, "eta_target": ETA_TARGET,
                  "eta_met": worst is not None and worst < ETA_TARGET, "run_s": round(end, 1)}
        for key, seconds in first.items():
            print(f"first {key}: {seconds} s after the start (target {FIRST_TARGET_S:.0f} s)")
        print(f"ETA: worst error {worst:.0%} from 10 % of the run on (target {ETA_TARGET:.0%})" if worst is not None
              else "ETA: no reading")
        print(json.dumps(result))


if __name__ == "__main__":
    main()
