"""Checks that run before every route handler: cross-site requests and the body of retried requests.

Browsers send the session cookie with requests that other sites start, so a
state-changing request authenticated by the cookie must come from a page of
punt's own origin. Requests authenticated by an API key are exempt: a browser
never adds that header on its own.
"""

from __future__ import annotations

from litestar import Request

from punt.api.context import API_KEY_HEADER, SESSION_COOKIE
from punt.errors import Forbidden

__all__ = ["before_request"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Content types a cross-site HTML form or a fetch without a CORS preflight can send.
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})

# The sign-in form posts form-encoded data, and the cookie it might carry is replaced. A database
# import is a multipart upload that contains the admin's password, which another site cannot know.
_FORM_ALLOWED = frozenset({"sign_in", "import_database"})


def _uses_cookie(request: Request) -> bool:
    if request.headers.get(API_KEY_HEADER) or request.headers.get("authorization", "").lower().startswith("bearer "):
        return False
    return SESSION_COOKIE in request.cookies


def _own_origin(request: Request) -> str:
    forwarded = request.headers.get("x-forwarded-proto", "").lower()
    scheme = "https" if forwarded == "https" else request.url.scheme
    return f"{scheme}://{request.headers.get('host', '')}"


def reject_cross_site(request: Request) -> None:
    """Raise Forbidden for a cookie-authenticated unsafe request that another site could have sent."""
    if request.method in SAFE_METHODS or not _uses_cookie(request):
        return
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() != _own_origin(request).lower():
        raise Forbidden(f"cross-site request from origin {origin[:100]!r} rejected; send requests from "
                        f"{_own_origin(request)} or authenticate with an API key")
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise Forbidden("cross-site request rejected (Sec-Fetch-Site: cross-site); authenticate with an API key")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    handler = request.scope["route_handler"].handler_name
    if content_type in _FORM_TYPES and handler not in _FORM_ALLOWED:
        raise Forbidden(f"a {content_type} request with the session cookie is rejected as a possible"
                        " cross-site form post; send application/json")


async def before_request(request: Request) -> None:
    """Reject cross-site requests, and keep the body of a request with an Idempotency-Key.

    The body is read here so that Litestar caches it: the retry check later
    compares it with the first request's, after the handler has decoded it.
    """
    reject_cross_site(request)
    if request.method not in SAFE_METHODS and "idempotency-key" in request.headers:
        await request.body()
