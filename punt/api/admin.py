"""System-admin endpoints that wipe the database or its projects."""

from __future__ import annotations

import asyncio
import logging
import secrets
from functools import partial

from litestar import Request, Response, post
from litestar.params import FromPath

from punt import credentials
from punt.api.bodies import decode_body
from punt.api.context import Services, current_actor, execute
from punt.commands import admin
from punt.commands.access import Actor
from punt.commands.inputs import ConfirmPassword, WipeDatabase
from punt.errors import InvalidInput

__all__ = ["ROUTES"]

logger = logging.getLogger(__name__)

WIPE_ADMIN_USERNAME = "admin"


async def _confirm_admin(request: Request, password: str) -> Actor:
    """Check that the caller is a system admin and typed their own password again."""
    actor = await current_actor(request)
    admin.require_system_admin(actor)
    password_hash = await Services.of(request).reads.run(credentials.password_hash_of, actor.user_id)
    if not await asyncio.to_thread(credentials.verify_password, password_hash, password):
        logger.warning("wipe rejected: wrong confirmPassword from user %s", actor.user_id)
        raise InvalidInput.field("confirmPassword", "does not match your password")
    return actor


def temporary_password() -> str:
    """Return a random password that meets the registration rules (upper, lower, digit, 12+)."""
    return "Tmp" + secrets.token_urlsafe(15) + str(secrets.randbelow(10))


@post("/api/admin/database/wipe", status_code=200)
async def wipe_database(request: Request) -> Response:
    body = await decode_body(request, WipeDatabase)
    actor = await _confirm_admin(request, body.confirmPassword)
    if body.confirmation != admin.WIPE_CONFIRMATION:
        raise InvalidInput.field("confirmation", f"must be exactly {admin.WIPE_CONFIRMATION!r}")

    password = temporary_password()
    password_hash = await asyncio.to_thread(credentials.hash_password, password)
    command = partial(admin.wipe_database, actor=actor, admin_username=WIPE_ADMIN_USERNAME,
                      admin_password_hash=password_hash)
    await execute(request, actor, command)
    logger.warning("database wiped by user %s; new admin %r created", actor.user_id, WIPE_ADMIN_USERNAME)
    return Response({
        "success": True,
        "newAdminCredentials": {"username": WIPE_ADMIN_USERNAME, "temporaryPassword": password},
    })


@post("/api/admin/database/wipe-projects", status_code=200)
async def wipe_projects(request: Request) -> Response:
    body = await decode_body(request, ConfirmPassword)
    actor = await _confirm_admin(request, body.confirmPassword)
    counts = await execute(request, actor, partial(admin.wipe_projects, actor=actor))
    logger.warning("all projects wiped by user %s: %s", actor.user_id, counts)
    return Response({"success": True, "wiped": counts})


@post("/api/admin/users/{user_id:str}/deactivate", status_code=200)
async def deactivate_user(request: Request, user_id: FromPath[str]) -> Response:
    """Deactivate a user: they can no longer sign in, and their sessions, key and streams end."""
    actor = await current_actor(request)
    await execute(request, actor, partial(admin.deactivate_user, actor=actor, user_id=user_id))
    logger.warning("user %s deactivated by system admin %s", user_id, actor.user_id)
    return Response({"success": True})


ROUTES = [wipe_database, wipe_projects, deactivate_user]
