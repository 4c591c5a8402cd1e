"""Mapping every error onto the API's error body: ``{"error": ..., "details": [...]}``."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException

from punt.api.bodies import MAX_BODY_BYTES
from punt.errors import CommandRejected, StoreError, TooManyRequests, WrongExpectedVersion

__all__ = ["EXCEPTION_HANDLERS", "error_response"]

logger = logging.getLogger(__name__)


def error_response(status: int, message: str, details: list[dict] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    body: dict = {"error": message}
    if details:
        body["details"] = details
    return Response(body, status_code=status, headers=headers)


def _rejected(request: Request, exc: CommandRejected) -> Response:
    # Messages name the bad value but never a password, token or key.
    logger.info("%s %s rejected with %d: %s", request.method, request.url.path, exc.status, exc.message)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    if exc.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="punt"'}
    details = [{"field": detail.field, "message": detail.message} for detail in exc.details]
    return error_response(exc.status, exc.message, details, headers)


def _http(request: Request, exc: HTTPException) -> Response:
    if exc.status_code >= 500:
        logger.error("request %s %s failed: %s", request.method, request.url.path, exc.detail)
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else "request failed"
    if exc.status_code == 404 and message == "Not Found":
        message = f"no endpoint at {request.url.path}"
    if exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    if exc.status_code == 413:
        message = f"the body is over {MAX_BODY_BYTES} bytes, the maximum; send a smaller body"
    return error_response(exc.status_code, message, headers=exc.headers)


def _conflicting_write(request: Request, exc: WrongExpectedVersion) -> Response:
    return error_response(412, f"the resource changed meanwhile: {exc}; reload it and retry")


def _store(request: Request, exc: StoreError) -> Response:
    logger.error("request %s %s: the event store failed: %s", request.method, request.url.path, exc)
    return error_response(503, "the database is unavailable; retry shortly", headers={"Retry-After": "1"})


def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("request %s %s failed unexpectedly", request.method, request.url.path)
    return error_response(500, "internal server error; the request was not carried out")


EXCEPTION_HANDLERS = {
    CommandRejected: _rejected,
    WrongExpectedVersion: _conflicting_write,
    StoreError: _store,
    HTTPException: _http,
    Exception: _unexpected,
}
