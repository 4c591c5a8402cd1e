"""Decoding request bodies into command inputs, with errors that name the field."""

from __future__ import annotations

import re
from typing import TypeVar
from urllib.parse import parse_qsl

import msgspec
from litestar import Request

from punt.errors import CommandRejected, InvalidInput

__all__ = ["MAX_BODY_BYTES", "decode_body"]

T = TypeVar("T")

MAX_BODY_BYTES = 1024 * 1024

_NAMED_FIELD = re.compile(r"Object (missing required|contains unknown) field `([^`]*)`")


class UnsupportedMediaType(CommandRejected):
    status = 415


class PayloadTooLarge(CommandRejected):
    status = 413


def _field_error(message: str) -> InvalidInput:
    """Turn a msgspec validation message into an error naming the field's full path (``updates.title``).

    msgspec reports a missing or unknown field at the path of the object
    that contains it, so the field's own name is appended to that path.
    """
    text, _, location = message.partition(" - at `$")
    path = location.rstrip("`").lstrip(".")
    named = _NAMED_FIELD.fullmatch(text)
    if named:
        path = f"{path}.{named.group(2)}" if path else named.group(2)
        text = "is required" if named.group(1) == "missing required" else "is not a known field; remove it"
    return InvalidInput.field(path or "body", text)


async def decode_body(request: Request, body_type: type[T], *, allow_form: bool = False) -> T:
    """Read the JSON body (or a form, where allowed) and decode it into ``body_type``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_form = allow_form and content_type == "application/x-www-form-urlencoded"
    if content_type != "application/json" and not is_form:
        accepted = "application/json" + (" or application/x-www-form-urlencoded" if allow_form else "")
        raise UnsupportedMediaType(f"Content-Type {content_type or 'missing'!r} is not supported; send {accepted}")

    raw = await _read_limited(request)
    try:
        if is_form:
            return msgspec.convert(dict(parse_qsl(raw.decode("utf-8", "replace"))), body_type)
        return msgspec.json.decode(raw, type=body_type)
    except msgspec.ValidationError as exc:
        raise _field_error(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}", []) from None


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {declared} bytes; the maximum is {MAX_BODY_BYTES}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES} bytes, the maximum")
        chunks.append(chunk)
    return b"".join(chunks)
