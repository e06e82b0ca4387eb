"""The one way zi2zi reads a file someone may have crafted: bounded, and only a regular file.

A manifest, a template, a run record or a checkpoint's metadata may come from anyone. Reading
them must end, in bounded memory, with either a document or one line naming the file:

- only regular files are opened for reading (a FIFO blocks ``open()`` until someone writes, a
  device never ends): :func:`check_regular` says so in one line, and :func:`read_bytes` opens
  without blocking and checks again on the open file;
- :func:`read_bytes` reads at most ``max_bytes`` (a JSON document of zi2zi's is far smaller);
- :func:`parse_json` refuses nesting deeper than ``max_depth`` (Python's parser recurses and
  a few thousand ``[`` end in ``RecursionError``; zi2zi's documents nest a handful deep), the
  non-standard ``NaN`` / ``Infinity`` and integers too long to convert.

Callers still check the document's types and ranges: these functions only make sure that there
is a document of bounded size to check.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from zi2zi.errors import Zi2ziError

# zi2zi's largest JSON documents are dataset manifests (a few MB for every CJK character in a
# dozen styles).
MAX_JSON_BYTES = 16 << 20
MAX_JSON_DEPTH = 32
MAX_NODES = 2_000_000


def names_a_file(text: str | Path) -> bool:
    """Whether a path the user typed names an existing file; False also for a string the system
    cannot look up at all (longer than a file name may be), which is then read as something else."""
    try:
        return Path(text).is_file()
    except OSError:
        return False


def check_regular(path: str | Path, *, what: str, error: type[Zi2ziError] = Zi2ziError) -> Path:
    """``path`` if it is a regular file (after symlinks); else one line naming it. A missing file
    raises FileNotFoundError, which callers turn into their own message."""
    path = Path(path)
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise error(f"{what} {path} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise error(f"{what} {path} is not a regular file (a pipe, a device or a socket); give a file")
    return path


def read_bytes(path: str | Path, *, what: str, max_bytes: int, error: type[Zi2ziError] = Zi2ziError) -> bytes:
    """At most ``max_bytes`` of a regular file; larger or not regular is one line naming it."""
    path = Path(path)
    check_regular(path, what=what, error=error)
    # O_NONBLOCK: had a pipe replaced the file since the check, open() still returns at once.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{what} {path} is not a regular file (a pipe, a device or a socket); give a file")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise error(f"{what} {path} is larger than {_size(max_bytes)}; it is not a file zi2zi wrote, or is damaged")
    return data


def _size(n: int) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n} bytes"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


NOT_OURS = "it is damaged or not a file zi2zi wrote"


def parse_json(text: str | bytes, *, what: str, max_depth: int = MAX_JSON_DEPTH,
               error: type[Zi2ziError] = Zi2ziError, advice: str = NOT_OURS) -> Any:
    """The JSON document in ``text``, or one line saying why ``what`` is not one and ``advice``."""
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise error(f"{what} nests deeper than {max_depth} levels; {advice}") from None
    except UnicodeDecodeError:
        raise error(f"{what} is not UTF-8 text; {advice}") from None
    except ValueError as exc:  # JSONDecodeError, NaN / Infinity, an integer of thousands of digits
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{what} is not valid JSON ({reason}); {advice}") from None
    if depth(doc, limit=max_depth) > max_depth:
        raise error(f"{what} nests deeper than {max_depth} levels, or holds more than {MAX_NODES:,} lists and "
                    f"objects; {advice}")
    return doc


def depth(doc: Any, *, limit: int = MAX_JSON_DEPTH, max_nodes: int = MAX_NODES) -> int:
    """How deep ``doc`` nests, without recursion (a deep document must not overflow the checker),
    counted no further than ``limit + 1``. A document of more than ``max_nodes`` lists and
    mappings also counts as too deep: YAML can share one list many times over (``&a [*a, *a]``)
    or put a list inside itself, which a walk would follow for ever."""
    deepest, nodes = 0, 0
    stack = [(doc, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: list[Any] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        nodes += 1
        deepest = max(deepest, level)
        if deepest > limit or nodes > max_nodes:
            return limit + 1
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def read_json(path: str | Path, *, what: str, error: type[Zi2ziError] = Zi2ziError, advice: str = NOT_OURS,
              max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in the file ``path`` (bounded as the module docstring says), or one line
    naming it (``what``: "glyph manifest", ...; ``advice``: what to do). A missing file raises
    FileNotFoundError; other system errors are OSError."""
    path = Path(path)
    data = read_bytes(path, what=what, max_bytes=max_bytes, error=error)
    return parse_json(data, what=f"{what} {path}", max_depth=max_depth, error=error, advice=advice)


def read_json_object(path: str | Path, *, what: str, error: type[Zi2ziError] = Zi2ziError, advice: str = NOT_OURS,
                     max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """:func:`read_json` of a document that must be a JSON object."""
    doc = read_json(path, what=what, error=error, advice=advice, max_bytes=max_bytes)
    if not isinstance(doc, dict):
        raise error(f"{what} {path} is not a JSON object; {advice}")
    return doc
