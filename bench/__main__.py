"""Run benchmark scenarios: ``python -m bench [SCENARIO [OPTIONS]]``; with no scenario, all six with defaults."""

from __future__ import annotations

import importlib
import sys

SCENARIOS = ["append", "commands", "fanout", "resume", "replay", "growth"]


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print(f"scenarios: {', '.join(SCENARIOS)}; `python -m bench SCENARIO --help` lists its options")
        return 0
    if not argv or argv == ["all"]:
        for name in SCENARIOS:
            importlib.import_module(f"bench.{name}").main([])
        return 0
    name, options = argv[0], argv[1:]
    if name not in SCENARIOS:
        print(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    importlib.import_module(f"bench.{name}").main(options)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
