"""The ``punt`` command line: ``punt serve`` runs the API server."""

from __future__ import annotations

import argparse
import copy
import logging
import os
import sys

__all__ = ["main"]

logger = logging.getLogger("punt.cli")


def _log_config() -> dict:
    """Return uvicorn's logging setup with punt's own loggers added, for every worker process."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["punt"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from punt.settings import Settings

    # Worker processes build the application from the environment, so the
    # command's options travel to them as PUNT_* variables.
    for name, value in (("PUNT_DB", args.db), ("PUNT_HOST", args.host), ("PUNT_PORT", args.port),
                        ("PUNT_WORKERS", args.workers)):
        if value is not None:
            os.environ[name] = str(value)
    settings = Settings.from_env()

    if args.demo:
        from punt.demo import load_demo

        load_demo(settings.db)

    uvicorn.run(
        "punt.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=_log_config(),
        # One log line per request costs a large share of a short request's
        # time; punt logs its own lifecycle, rejections and errors instead.
        access_log=args.access_log,
        # Open event streams never finish by themselves; after this many
        # seconds of a graceful shutdown they are cancelled.
        timeout_graceful_shutdown=2,
    )
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from punt.api.app import create_app
    from punt.api.openapi import document_bytes

    document = document_bytes(create_app())
    if args.output == "-":
        sys.stdout.buffer.write(document)
    else:
        with open(args.output, "wb") as file:
            file.write(document)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="punt", description="Event-sourced issue-tracker backend.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API server")
    serve.add_argument("--db", help="SQLite database file (PUNT_DB, default ./punt.db)")
    serve.add_argument("--host", help="address to listen on (PUNT_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (PUNT_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes sharing the database (PUNT_WORKERS, default 1)")
    serve.add_argument("--demo", action="store_true", help="fill an empty database with a demo workspace first")
    serve.add_argument("--access-log", action="store_true", help="log one line per HTTP request (off by default)")
    serve.set_defaults(run=_serve)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document of the API")
    openapi.add_argument("--output", "-o", default="-", help="file to write (default: standard output)")
    openapi.set_defaults(run=_openapi)

    from punt.audit.cli import add_audit_commands

    add_audit_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s %(message)s")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
