"""Concurrent commands over HTTP: every one succeeds, offsets stay gapless, and a rebuild matches."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx

from punt import database
from punt.projections.rebuild import dump_projections, rebuild_projections
from tests.commands import assert_orders_contiguous
from tests.support import PASSWORD, Api, ServerProcess

CONCURRENT_COMMANDS = 50


async def _create_tickets(base_url: str, cookies: httpx.Cookies, count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=base_url, cookies=cookies, limits=limits, timeout=60) as client:
        requests = [
            client.post("/api/projects/CONC/tickets", json={"title": f"concurrent {i}"},
                        headers={"X-Tab-Id": f"tab-{i}"})
            for i in range(count)
        ]
        return await asyncio.gather(*requests)


def test_concurrent_creates_gapless_and_rebuildable(server: ServerProcess, tmp_path: Path) -> None:
    api = Api(server.url).register_and_login("burst", PASSWORD)
    api.create_project("CONC")

    responses = asyncio.run(_create_tickets(server.url, api.http.cookies, CONCURRENT_COMMANDS))

    assert [response.status_code for response in responses] == [201] * CONCURRENT_COMMANDS
    assert sorted(response.json()["number"] for response in responses) == list(range(1, CONCURRENT_COMMANDS + 1))
    with closing(database.connect(server.db)) as live:
        offsets = [row[0] for row in live.execute("SELECT offset FROM events ORDER BY offset")]
        assert offsets == list(range(1, len(offsets) + 1))
        created = live.execute("SELECT count(*) FROM events WHERE type = 'ticket.created'").fetchone()[0]
        assert created == CONCURRENT_COMMANDS

        with closing(sqlite3.connect(tmp_path / "rebuilt.db", isolation_level=None)) as fresh:
            assert rebuild_projections(live, fresh) == offsets[-1]
            assert dump_projections(fresh) == dump_projections(live)
    assert_orders_contiguous(server.db)
    api.close()
