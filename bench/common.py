"""Helpers the scenarios share: argument parsing, fresh database files and child processes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from punt import database

__all__ = ["fresh_db", "int_list", "new_parser", "peak_rss_kib", "run_child", "scratch_dir"]


def new_parser(prog: str, description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog=f"python -m bench {prog}", description=description)


def int_list(text: str) -> list[int]:
    """Parse a comma-separated list of whole numbers, such as ``1,8,32``."""
    try:
        return [int(part) for part in text.split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from None


def scratch_dir() -> Path:
    """Return a new temporary directory for this run's database files."""
    return Path(tempfile.mkdtemp(prefix="punt-bench-"))


def fresh_db(directory: Path, name: str) -> Path:
    """Create an empty punt database (log, projections, credentials) and return its path."""
    path = directory / name
    conn = database.connect(path)
    database.create_schema(conn)
    conn.close()
    return path


def peak_rss_kib() -> int:
    """Return this process's peak resident memory in KiB, from VmHWM in /proc (Linux).

    Not ru_maxrss: Linux carries that over from the parent across fork and
    exec, so a child would report its parent's peak when that is higher.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM line in /proc/self/status; peak memory is measured on Linux only")


def run_child(function: str, *args: Any, timeout: float = 1800) -> dict[str, Any]:
    """Run ``bench.children.<function>(*args)`` in a fresh interpreter and return the dict it prints.

    A fresh process gives each measurement its own peak-memory figure.
    """
    code = f"import json, sys; from bench import children; print(json.dumps(children.{function}(*json.loads(sys.argv[1]))))"
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, json.dumps([str(arg) if isinstance(arg, Path) else arg
                                                                      for arg in args])],
                            capture_output=True, text=True, timeout=timeout, cwd=Path(__file__).parent.parent,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    if result.returncode != 0:
        raise RuntimeError(f"bench child {function} failed with exit code {result.returncode}:\n{result.stderr}")
    output = json.loads(result.stdout.strip().splitlines()[-1])
    output.setdefault("wall_seconds", time.perf_counter() - started)
    return output
