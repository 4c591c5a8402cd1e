"""Reference servers: what a Python developer would run instead of punt.

``bare_app`` is a Litestar endpoint that only decodes the ticket JSON body
(the framework's limit). ``broadcaster_app`` is a plain in-memory
broadcaster on sse-starlette: each subscriber has a queue, and a published
event is put on every queue, so nothing is persisted and a reconnecting
subscriber misses what was sent while it was away.
"""

from __future__ import annotations

import asyncio
import itertools

import msgspec
from litestar import Litestar, Request, get, post
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from punt.commands.inputs import CreateTicket

__all__ = ["bare_app", "broadcaster_app"]


@post("/api/projects/{project_id:str}/tickets", status_code=201)
async def create_ticket(request: Request, project_id: str) -> bytes:
    ticket = msgspec.json.decode(await request.body(), type=CreateTicket)
    return msgspec.json.encode({"projectId": project_id, "title": ticket.title})


@get("/health")
async def litestar_health() -> dict[str, str]:
    return {"status": "ok"}


bare_app = Litestar(route_handlers=[create_ticket, litestar_health], openapi_config=None)

_subscribers: set[asyncio.Queue[tuple[int, bytes]]] = set()
_offsets = itertools.count(1)


async def _events(request: StarletteRequest) -> EventSourceResponse:
    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    _subscribers.add(queue)

    async def frames():
        try:
            while True:
                offset, data = await queue.get()
                yield {"id": str(offset), "data": data.decode()}
        finally:
            _subscribers.discard(queue)

    return EventSourceResponse(frames(), ping=30, sep="\n")


async def _publish(request: StarletteRequest) -> Response:
    item = (next(_offsets), await request.body())
    for queue in _subscribers:
        queue.put_nowait(item)
    return JSONResponse({"subscribers": len(_subscribers)}, status_code=201)


async def _health(request: StarletteRequest) -> Response:
    return JSONResponse({"status": "ok"})


broadcaster_app = Starlette(routes=[
    Route("/events", _events), Route("/publish", _publish, methods=["POST"]), Route("/health", _health),
])
