"""Shaping read-model rows into responses; a row's version becomes its ETag."""

from __future__ import annotations

from typing import Any

from litestar import Response

__all__ = ["listing", "resource", "success"]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "version"}


def resource(row: dict[str, Any], status: int = 200) -> Response:
    """Return one resource, with its version as a strong ETag when it has one."""
    headers = {"ETag": f'"{row["version"]}"'} if "version" in row else None
    return Response(_public(row), status_code=status, headers=headers)


def listing(rows: list[dict[str, Any]]) -> Response:
    return Response([_public(row) for row in rows])


def success() -> Response:
    return Response({"success": True})
