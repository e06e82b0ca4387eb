"""The ``zi2zi`` command: one small module per subcommand, each with ``register(subparsers)``.

Subcommand modules parse arguments and call the library; they hold no logic of their own.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import warnings
from collections.abc import Iterator

from zi2zi import __version__
from zi2zi.errors import Zi2ziError, describe_os_error

# Order is the order shown in --help.
COMMANDS = [
    "charset",
    "fontinfo",
    "template",
    "scan",
    "render",
    "preview",
    "train",
    "models",
    "finetune",
    "generate",
    "specimen",
    "interpolate",
    "export",
    "evaluate",
    "import-checkpoint",
    "demo",
    "ui",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zi2zi", description="Make CJK fonts with zi2zi style-transfer GANs."
    )
    parser.add_argument("--version", action="version", version=f"zi2zi {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"zi2zi.cli.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name == f"zi2zi.cli.{name.replace('-', '_')}":
                continue  # not built yet
            raise
        module.register(sub)
    return parser


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """While a command runs, a warning of a library (torch, Pillow, NumPy, zi2zi's own) is one
    line ``warning: ...`` on stderr, not a file name, a line number and a line of its source."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001 - warnings' API
        text = str(message).strip()
        first = text.splitlines()[0] if text else category.__name__
        print(f"warning: {first}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        with one_line_warnings():
            return int(args.run(args) or 0)
    except Zi2ziError as exc:
        print(f"zi2zi {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # A read-only folder, a full disk, a path through a file: the system's reason, one line.
        print(f"zi2zi {args.command}: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"zi2zi {args.command}: interrupted", file=sys.stderr)
        return 130
