"""zi2zi's speed and quality benchmarks, with their committed reports in ``reports/``.

A package, so that the benchmarks import each other (``benchmarks.common``) and the tests import
them as they are: run each from the repository root as ``python -m benchmarks.NAME`` (``make
bench``, ``make ablation``, ``make few-shot``).
"""
