"""Schemathesis hooks: sign the generated requests in as the fuzzing user.

Loaded by ``st run`` through ``SCHEMATHESIS_HOOKS``. The fuzzer may sign
itself out or replace its API key, so before each request the hook checks
that the session still works and signs in again when it does not. Without
``PUNT_FUZZ_USER`` the requests go unauthenticated.
"""

from __future__ import annotations

import os

import httpx
import schemathesis

BASE_URL = os.environ.get("PUNT_FUZZ_BASE_URL", "")
USERNAME = os.environ.get("PUNT_FUZZ_USER", "")
PASSWORD = os.environ.get("PUNT_FUZZ_PASSWORD", "")


def _sign_in() -> str:
    response = httpx.post(f"{BASE_URL}/api/auth/callback/credentials",
                          json={"username": USERNAME, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return response.cookies["punt_session"]


if USERNAME:
    @schemathesis.auth(refresh_interval=None)
    class SessionCookie:
        """A session cookie that is renewed whenever the fuzzer revoked it."""

        token: str | None = None

        def get(self, case, context) -> str:
            cls = type(self)
            if cls.token is not None:
                found = httpx.get(f"{BASE_URL}/api/auth/session", cookies={"punt_session": cls.token}, timeout=30)
                if found.json().get("user"):
                    return cls.token
            cls.token = _sign_in()
            return cls.token

        def set(self, case, data: str, context) -> None:
            case.cookies = {**(case.cookies or {}), "punt_session": data}
