"""Changing the caller's password."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from litestar import Request, Response, post

from punt import credentials
from punt.api.bodies import decode_body
from punt.api.context import Services, current_actor, execute
from punt.api.responses import success
from punt.commands.passwords import ChangePassword, change_password
from punt.commands.users import check_password_rules
from punt.errors import InvalidInput

__all__ = ["ROUTES"]

logger = logging.getLogger(__name__)


@post("/api/me/password", status_code=200)
async def change_my_password(request: Request) -> Response:
    """Replace the caller's password; every other session of the caller ends, with its streams."""
    actor = await current_actor(request)
    body = await decode_body(request, ChangePassword)
    check_password_rules(body.newPassword, "newPassword")
    password_hash = await Services.of(request).reads.run(credentials.password_hash_of, actor.user_id)
    if not await asyncio.to_thread(credentials.verify_password, password_hash, body.currentPassword):
        logger.warning("password change rejected: wrong currentPassword from user %s", actor.user_id)
        raise InvalidInput.field("currentPassword", "does not match your password")

    new_hash = await asyncio.to_thread(credentials.hash_password, body.newPassword)
    revoked = await execute(request, actor, partial(change_password, actor=actor, password_hash=new_hash))
    logger.info("user %s changed their password; %d other sessions revoked", actor.user_id, revoked)
    return success()


ROUTES = [change_my_password]
