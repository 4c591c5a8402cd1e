"""Result tables, the machine description and the record appended to docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import shlex
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["RECORD_PATH", "Table", "machine", "percentile", "write_record"]

RECORD_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values`` (``fraction`` in 0..1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Table:
    """One result table: a title, column names and rows of already formatted cells."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([_cell(cell) for cell in cells])

    def markdown(self) -> str:
        lines = [f"| {' | '.join(self.columns)} |", "|" + "---|" * len(self.columns)]
        lines += [f"| {' | '.join(row)} |" for row in self.rows]
        text = f"**{self.title}**\n\n" + "\n".join(lines)
        if self.notes:
            text += "\n\n" + "\n".join(f"- {note}" for note in self.notes)
        return text

    def plain(self) -> str:
        widths = [max(len(row[i]) for row in [self.columns, *self.rows]) for i in range(len(self.columns))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in [self.columns, *self.rows]]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join([self.title, *lines, *(f"  note: {note}" for note in self.notes)])


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> str:
    """Describe this machine: CPU cores, memory, OS, Python and SQLite versions, and its current load."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    cpu = platform.processor() or platform.machine()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {pages / 2**30:.1f} GiB memory, {platform.system()} {platform.release()},"
        f" Python {platform.python_version()}, SQLite {sqlite3.sqlite_version};"
        f" load average {load} (1, 5, 15 min) when the record was written"
    )


def write_record(scenario: str, tables: list[Table], notes: list[str] | None = None) -> None:
    """Print the tables and append them, dated and with the command that ran them, to the record file."""
    for table in tables:
        print()
        print(table.plain())
    command = shlex.join(["python", "-m", "bench", *sys.argv[1:]]) if sys.argv[0].endswith("__main__.py") else (
        shlex.join([Path(sys.executable).name, *sys.argv]))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"### {scenario}, {stamp}", f"Command: `{command}`  \nMachine: {machine()}"]
    parts += [table.markdown() for table in tables]
    parts += [f"- {note}" for note in notes or []]
    RECORD_PATH.parent.mkdir(parents=True, exist_ok=True)
    if not RECORD_PATH.exists():
        RECORD_PATH.write_text(_HEADER)
    with RECORD_PATH.open("a") as record:
        record.write("\n" + "\n\n".join(parts) + "\n")
    print(f"\nrecorded in {RECORD_PATH}")


_HEADER = """# Benchmarks

Records appended by `make bench` (`python -m bench`), newest last. Each
scenario runs punt and its references in the same run on the same machine,
so the ratios are the numbers to compare; absolute rates depend on the
machine and its disk.
"""
