"""Range checks of command-line numbers, failing with the option's name (argparse checks types only)."""

from __future__ import annotations

from zi2zi.errors import Zi2ziError


def int_in_range(option: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise Zi2ziError(f"{option} {value} is out of range; give a whole number from {low} to {high}")
    return value


def int_at_least(option: str, value: int | None, low: int) -> int | None:
    """``value`` (None: not given) when it is at least ``low``."""
    if value is not None and value < low:
        raise Zi2ziError(f"{option} {value} is out of range; give a whole number of at least {low}")
    return value
