"""Signing in to a benchmark server over HTTP and preparing a project to write to."""

from __future__ import annotations

import msgspec

from bench.loadgen import HttpConnection, build_request
from bench.logs import BENCH_PASSWORD, BENCH_USERNAME

__all__ = ["create_project", "sign_in"]


async def sign_in(port: int, register: bool) -> dict[str, str]:
    """Register (if asked) and sign in the benchmark user; return the Cookie header to send."""
    conn = await HttpConnection.open(port)
    try:
        credentials = msgspec.json.encode({"username": BENCH_USERNAME, "password": BENCH_PASSWORD})
        if register:
            status, _, body = await conn.request(build_request("POST", "/api/auth/register", port, credentials))
            if status != 201:
                raise RuntimeError(f"registering the benchmark user failed with {status}: {body[:200]!r}")
        status, headers, body = await conn.request(
            build_request("POST", "/api/auth/callback/credentials", port, credentials))
        if status != 200:
            raise RuntimeError(f"signing in the benchmark user failed with {status}: {body[:200]!r}")
        return {"Cookie": headers["set-cookie"].split(";", 1)[0]}
    finally:
        conn.close()


async def create_project(port: int, cookie: dict[str, str], key: str) -> str:
    """Create a project and return its id."""
    conn = await HttpConnection.open(port)
    try:
        body = msgspec.json.encode({"name": f"Bench {key}", "key": key})
        status, _, answer = await conn.request(build_request("POST", "/api/projects", port, body, cookie))
        if status != 201:
            raise RuntimeError(f"creating project {key} failed with {status}: {answer[:200]!r}")
        return msgspec.json.decode(answer)["id"]
    finally:
        conn.close()
