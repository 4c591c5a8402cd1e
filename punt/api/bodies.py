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

_PATH = re.compile(r"at `\$\.?([^`]*)`")


class UnsupportedMediaType(CommandRejected):
    status = 415


class PayloadTooLarge(CommandRejected):
    status = 413


def _field_of(message: str) -> str:
    """Extract the field path (``updates.title``) from a msgspec validation message."""
    match = _PATH.search(message)
    return match.group(1) if match else "body"


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
        field = _field_of(str(exc))
        message = str(exc).split(" - at ")[0]
        if message.startswith("Object contains unknown field"):
            field = message.split("`")[1]
            message = "is not a known field; remove it"
        raise InvalidInput.field(field, message) from None
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
