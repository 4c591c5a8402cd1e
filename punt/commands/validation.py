"""Checks and normalisations of single input values, each raising InvalidInput that names the field."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Iterable

from punt.errors import InvalidInput

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_NAME",
    "MAX_TITLE",
    "check_choice",
    "check_color",
    "check_date",
    "check_text",
]

MAX_TITLE = 500
MAX_NAME = 100
MAX_DESCRIPTION = 20_000
MAX_SHORT_TEXT = 100

TICKET_TYPES = ("Story", "Task", "Bug", "Subtask", "Epic")
PRIORITIES = ("Lowest", "Low", "Medium", "High", "Highest", "Critical")

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


def check_text(field: str, value: str | None, *, max_length: int, required: bool = False) -> str | None:
    """Strip a text value and check its length; a required one may not be blank."""
    if value is None:
        if required:
            raise InvalidInput.field(field, "is required and may not be null")
        return None
    stripped = value.strip()
    if required and not stripped:
        raise InvalidInput.field(field, "may not be blank")
    if len(stripped) > max_length:
        raise InvalidInput.field(field, f"is {len(stripped)} characters long; the maximum is {max_length}")
    if any(ord(char) < 32 and char not in "\t\n\r" for char in stripped):
        raise InvalidInput.field(field, "contains control characters")
    return stripped


def check_choice(field: str, value: str, choices: Iterable[str]) -> str:
    """Match a value case-insensitively against allowed choices and return the canonical spelling."""
    options = list(choices)
    for option in options:
        if value.lower() == option.lower():
            return option
    raise InvalidInput.field(field, f"{value!r} is not one of {', '.join(options)}")


def check_color(field: str, value: str) -> str:
    if not _COLOR.fullmatch(value):
        raise InvalidInput.field(field, f"{value!r} is not a color of the form #RRGGBB")
    return value.upper()


def check_date(field: str, value: str | None) -> str | None:
    """Accept an ISO 8601 date or date-time and return it as a UTC timestamp with milliseconds."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # Converting to UTC raises OverflowError when the offset pushes the
        # moment outside years 1-9999 (0001-01-01T00:00+01:00).
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput.field(field, f"{value!r} is not an ISO 8601 date such as 2024-01-15") from None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_int(field: str, value: int | None, *, minimum: int, maximum: int) -> int | None:
    if value is not None and not minimum <= value <= maximum:
        raise InvalidInput.field(field, f"{value} is outside the range {minimum} to {maximum}")
    return value
