"""Registration, sign-in and sign-out, the session, the caller's profile and API key."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from functools import partial

from litestar import Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie

from punt import credentials
from punt.api.bodies import decode_body
from punt.api.context import SESSION_COOKIE, Services, current_actor, execute
from punt.api.errors import error_response
from punt.api.responses import resource, success
from punt.commands import users
from punt.commands.inputs import Login, Register, UpdateMe
from punt.errors import NotAuthenticated, NotFound
from punt.projections import queries

__all__ = ["ROUTES"]

logger = logging.getLogger(__name__)


@post("/api/auth/register", status_code=201)
async def register(request: Request) -> Response:
    body = users.check_registration(await decode_body(request, Register))
    password_hash = await asyncio.to_thread(credentials.hash_password, body.password)
    user = await execute(request, None, partial(users.register_user, body=body, password_hash=password_hash))
    logger.info("user registered: %s (%s)", user["id"], user["username"])
    return resource(user, 201)


def _lookup_login(conn, login: str) -> tuple[dict | None, str | None]:
    user = queries.find_user_by_login(conn, login)
    return user, credentials.password_hash_of(conn, user["id"]) if user else None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


@post("/api/auth/callback/credentials", status_code=200)
async def sign_in(request: Request) -> Response:
    """Check a username (or email) and password and open a session cookie."""
    services = Services.of(request)
    body = await decode_body(request, Login, allow_form=True)
    login = body.username if body.username is not users.ev.UNSET else body.email
    if login is users.ev.UNSET:
        return error_response(400, "invalid username: give username (or email) and password",
                              [{"field": "username", "message": "is required"}])

    client = request.client.host if request.client else "unknown"
    keys = (f"ip:{client}", f"user:{login.lower()}")
    retry_after = services.login_limiter.retry_after(*keys)
    if retry_after:
        logger.warning("login rejected, too many failures: username %r from %s", login, client)
        return error_response(429, f"too many failed logins; retry in {retry_after} seconds",
                              headers={"Retry-After": str(retry_after)})

    user, password_hash = await services.reads.run(_lookup_login, login)
    if not await asyncio.to_thread(credentials.verify_password, password_hash, body.password):
        services.login_limiter.record_failure(*keys)
        logger.warning("login rejected, wrong credentials: username %r from %s", login, client)
        raise NotAuthenticated("wrong username or password")

    services.login_limiter.reset(*keys)
    session = await execute(request, None, partial(users.sign_in, user_id=user["id"]))
    logger.info("user %s signed in, session %s", user["id"], session.session_id)
    response = resource(session.user)
    response.set_cookie(Cookie(
        key=SESSION_COOKIE, value=session.token, path="/", httponly=True, samesite="lax",
        secure=_secure(request), max_age=credentials.SESSION_LIFETIME_SECONDS,
    ))
    return response


@get("/api/auth/session")
async def session(request: Request) -> Response:
    """Return the signed-in user and when the session expires, or ``{}``."""
    try:
        actor = await current_actor(request)
    except NotAuthenticated:
        return Response({})
    if actor.session_id is None:
        # An API key is not a session, and has no expiry to report.
        return Response({})
    user, expires_at = await Services.of(request).reads.run(_session_info, actor.user_id, actor.session_id)
    expires = datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Response({"user": {k: v for k, v in user.items() if k != "version"}, "expires": expires})


def _session_info(conn, user_id: str, session_id: str | None) -> tuple[dict, float]:
    return queries.find_user(conn, user_id), credentials.session_expiry(conn, session_id) or 0.0


@post("/api/auth/signout", status_code=200)
async def sign_out(request: Request) -> Response:
    """Revoke the current session, clear its cookie and end its open streams."""
    actor = await current_actor(request)
    await execute(request, actor, partial(users.sign_out, actor=actor))
    logger.info("user %s signed out, session %s", actor.user_id, actor.session_id)
    response = success()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/api/me")
async def get_me(request: Request) -> Response:
    actor = await current_actor(request)
    return resource(await Services.of(request).reads.run(queries.find_user, actor.user_id))


@patch("/api/me")
async def update_me(request: Request) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, UpdateMe)
    return resource(await execute(request, actor, partial(users.update_me, actor=actor, body=body)))


@post("/api/me/mcp-key", status_code=201)
async def create_api_key(request: Request) -> Response:
    """Create an API key, replacing any earlier one; it is shown only in this response."""
    actor = await current_actor(request)
    key = await execute(request, actor, partial(users.create_api_key, actor=actor))
    logger.info("user %s created an API key", actor.user_id)
    return Response({"apiKey": key}, status_code=201)


@delete("/api/me/mcp-key", status_code=200)
async def revoke_api_key(request: Request) -> Response:
    actor = await current_actor(request)
    if not await execute(request, actor, partial(users.revoke_api_key, actor=actor)):
        raise NotFound("you have no API key to revoke")
    return success()


@get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


ROUTES = [register, sign_in, session, sign_out, get_me, update_me, create_api_key, revoke_api_key, health]
