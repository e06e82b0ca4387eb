"""The end-to-end demo: settings (light to import), its fonts, the pipeline and its report.

``from zi2zi.demo import DemoSettings`` stays cheap for the CLI; :func:`run_demo` loads torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zi2zi.demo.settings import DemoSettings

if TYPE_CHECKING:
    from zi2zi.demo.pipeline import run_demo


def __getattr__(name: str) -> Any:
    if name == "run_demo":
        from zi2zi.demo.pipeline import run_demo

        return run_demo
    raise AttributeError(f"module 'zi2zi.demo' has no attribute {name!r}")


__all__ = ["DemoSettings", "run_demo"]
