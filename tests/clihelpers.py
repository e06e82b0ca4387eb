"""Running the ``zi2zi`` command in process and checking that a refusal is one clear line."""

from __future__ import annotations

from zi2zi.cli import main


def fails_with_one_line(capsys, argv: list[str], *needles: str) -> str:
    """Run ``zi2zi ARGV``; it must exit 1 with one line on stderr (no traceback) containing each
    needle (case-insensitive). Returns that line."""
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("warning:")]
    assert rc == 1, f"exit {rc}, stderr: {err}"
    assert len(lines) == 1, f"expected one line, got: {err}"
    assert "Traceback" not in err
    line = lines[0]
    assert line.startswith(f"zi2zi {argv[0]}: error: "), line
    for needle in needles:
        assert needle.lower() in line.lower(), f"{needle!r} not in {line!r}"
    return line
