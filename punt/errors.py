"""The exceptions punt raises, in one hierarchy.

    PuntError
    ├── CommandRejected        a command is invalid against the current state
    │   ├── InvalidInput       400, names the bad fields
    │   ├── NotAuthenticated   401
    │   ├── Forbidden          403
    │   ├── NotFound           404
    │   ├── Conflict           409
    │   ├── PreconditionFailed 412
    │   └── TooManyRequests    429, carries Retry-After
    └── StoreError             the event store failed (disk, lock, corruption)
        └── WrongExpectedVersion

HTTP code maps `CommandRejected.status` straight onto the response; a
rejected command appends nothing because the writer rolls back its savepoint.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Conflict",
    "CommandRejected",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "PreconditionFailed",
    "PuntError",
    "StoreError",
    "TooManyRequests",
    "WrongExpectedVersion",
]


@dataclass(frozen=True)
class FieldError:
    """One invalid field of a request body: its name and what is wrong with it."""

    field: str
    message: str


class PuntError(Exception):
    """Base class of every error punt raises on purpose."""


class CommandRejected(PuntError):
    """A command that cannot be carried out; nothing was appended."""

    status = 400

    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(CommandRejected):
    status = 400

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        """Build the error for a single bad field, named in both message and details."""
        return cls(f"invalid {field}: {message}", [FieldError(field, message)])


class NotAuthenticated(CommandRejected):
    status = 401


class Forbidden(CommandRejected):
    status = 403


class NotFound(CommandRejected):
    status = 404


class Conflict(CommandRejected):
    status = 409


class PreconditionFailed(CommandRejected):
    status = 412


class TooManyRequests(CommandRejected):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreError(PuntError):
    """The event store could not complete an operation; the transaction was rolled back."""


class WrongExpectedVersion(StoreError):
    """A stream's version differs from the version the command expected."""

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream!r} is at version {actual}, expected {expected}")
        self.stream = stream
        self.expected = expected
        self.actual = actual
