"""Benchmarks of punt against the physical limit and against peer libraries.

Each scenario module runs punt and its references in one process run,
prints a table and appends a dated record to ``docs/benchmarks.md``.
Run them with ``make bench`` or ``python -m bench [SCENARIO ...]``.
"""
