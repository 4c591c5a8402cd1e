"""The Litestar application: routes, error mapping, and the per-process services' lifecycle."""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager
from typing import AsyncIterator

from litestar import Litestar

from punt import database
from punt.api import account, admin, auth, guards, openapi, projects, streams, tickets
from punt.api import audit
from punt.api.bodies import MAX_BODY_BYTES
from punt.api.context import Services
from punt.api.errors import EXCEPTION_HANDLERS
from punt.api.fanout import Fanout
from punt.api.ratelimit import LoginLimiter
from punt.api.streams import StreamSlots
from punt.eventstore.reader import LogReader
from punt.eventstore.writer import Writer
from punt.projections import apply_event
from punt.settings import Settings

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def _services(settings: Settings, loop: asyncio.AbstractEventLoop) -> Services:
    reader = LogReader(settings.db)
    fanout = Fanout(reader, settings.poll_interval_seconds, settings.fanout_ring_size)
    # The writer thread reports commits; the fan-out lives on the event loop.
    writer = Writer(settings.db, apply_event, on_commit=lambda _events: loop.call_soon_threadsafe(fanout.wake))
    return Services(
        settings=settings,
        writer=writer,
        reads=database.ReadPool(settings.db),
        reader=reader,
        fanout=fanout,
        slots=StreamSlots(settings.max_streams_per_user, settings.max_streams_per_project),
        login_limiter=LoginLimiter(),
    )


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application; the database is opened when the application starts."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        conn = database.connect(settings.db)
        database.create_schema(conn)
        conn.close()

        services = _services(settings, asyncio.get_running_loop())
        services.writer.start()
        await services.reader.open()
        await services.fanout.start()
        app.state.services = services
        logger.info("punt worker %d started on database %s at offset %d", os.getpid(), settings.db,
                    services.fanout.head)
        try:
            yield
        finally:
            await services.fanout.stop()
            await services.reader.close()
            services.writer.close()
            services.reads.close()
            logger.info("punt worker %d stopped", os.getpid())

    return Litestar(
        route_handlers=[*auth.ROUTES, *account.ROUTES, *projects.ROUTES, *tickets.ROUTES, *admin.ROUTES, *audit.ROUTES,
                        streams.project_list_events, streams.project_events, streams.user_events,
                        *openapi.ROUTES],
        lifespan=[lifespan],
        before_request=guards.before_request,
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=None,
    )
