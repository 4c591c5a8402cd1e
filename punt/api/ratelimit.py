"""Limits on failed logins, per client address and per username."""

from __future__ import annotations

import time
from collections import defaultdict, deque

__all__ = ["LoginLimiter"]


class LoginLimiter:
    """Allows ``max_failures`` failed logins per key within ``window`` seconds.

    Keys are the client address and the username, each counted on its own,
    so neither guessing many passwords for one user nor one password for
    many users from one address goes unlimited. NOTE: counts live in the
    process, so each worker counts on its own and a restart resets them.
    """

    def __init__(self, max_failures: int = 5, window: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, *keys: str) -> int:
        """Return seconds until a login for these keys is allowed again; 0 if allowed now."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            failures = self._prune(key, now)
            if len(failures) >= self.max_failures:
                wait = max(wait, failures[0] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def record_failure(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._prune(key, now).append(now)

    def reset(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
