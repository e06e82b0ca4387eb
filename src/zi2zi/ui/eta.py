"""How long a job has left: a smoothed rate that does not jump.

A step's time varies (another program takes a core, an evaluation pauses the loop every few
seconds, the first steps warm caches), so the rate of the last interval makes an ETA that leaps
from 4 to 29 to 15 minutes. Here the rate is measured over a window of wall time that grows with
the job (``WINDOW_SHARE`` of the time so far, at least ``MIN_WINDOW_S``), pauses included, since
they are part of what the rest will take; and the ETA shown moves towards the new estimate by at
most ``MAX_CHANGE`` of itself per second of wall time beyond the time that passed, so one slow
interval nudges it instead of throwing it.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable

MIN_WINDOW_S = 10.0  # the rate is measured over at least this many seconds ...
WINDOW_SHARE = 0.5  # ... or this share of the time the job has run, whichever is longer
MIN_SECONDS = 3.0  # no ETA before the job has run this long (and done at least two units)
MAX_CHANGE = 0.05  # the shown ETA moves by at most this share of itself per second, beyond the clock


class ProgressClock:
    """Feed it ``update(done)`` as work gets done; read ``eta_s`` (None while it cannot tell)."""

    def __init__(self, total: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = max(0, int(total))
        self._clock = clock
        self._times: list[float] = []
        self._done: list[int] = []
        self._shown: float | None = None
        self._shown_at = 0.0

    @property
    def done(self) -> int:
        return self._done[-1] if self._done else 0

    def update(self, done: int, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        if self._done and done < self._done[-1]:  # restarted (a resumed run counts from its step)
            self._times, self._done, self._shown = [], [], None
        self._times.append(now)
        self._done.append(int(done))
        self._shown = self._smoothed(now)
        self._shown_at = now

    def rate(self, now: float | None = None) -> float | None:
        """Units per second over the window; None before there is enough to tell."""
        if len(self._times) < 2:
            return None
        now = self._times[-1] if now is None else now
        elapsed = now - self._times[0]
        if elapsed < MIN_SECONDS or self._done[-1] - self._done[0] < 2:
            return None
        window = max(MIN_WINDOW_S, WINDOW_SHARE * elapsed)
        start = bisect.bisect_left(self._times, now - window)
        start = min(start, len(self._times) - 2)
        span = now - self._times[start]
        units = self._done[-1] - self._done[start]
        return units / span if span > 0 and units > 0 else None

    def raw_eta_s(self) -> float | None:
        rate = self.rate()
        return None if rate is None else max(0.0, (self.total - self.done) / rate)

    def _smoothed(self, now: float) -> float | None:
        raw = self.raw_eta_s()
        if raw is None or self._shown is None:
            return raw
        dt = max(0.0, now - self._shown_at)
        expected = max(0.0, self._shown - dt)  # what the last ETA says now, had it been right
        # Per second of wall time, however often it is fed; near the end at least half a second.
        limit = MAX_CHANGE * max(expected, 10.0) * dt
        return min(max(raw, expected - limit), expected + limit)

    @property
    def eta_s(self) -> float | None:
        """The ETA at the last update, smoothed; 0 when all is done."""
        if self.total and self.done >= self.total:
            return 0.0
        return self._shown
