"""Within a column, ticket orders stay 0..n-1 with no duplicates after every command."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from punt.commands import tickets
from punt.commands.access import Actor
from punt.commands.inputs import BulkDeleteTickets, BulkUpdateTickets, CreateProject, CreateTicket, Register
from punt.commands.inputs import UpdateTicket
from punt.commands.projects import create_project
from punt.commands.users import register_user
from punt.errors import InvalidInput
from punt.eventstore.writer import Writer
from punt.projections import queries
from tests.commands import assert_orders_contiguous, column_orders
from tests.support import Api, ServerProcess


def _setup(writer: Writer) -> tuple[Actor, dict, list[str]]:
    user = writer.execute_sync(partial(register_user, body=Register(username="mover", password=""),
                                       password_hash="not-a-real-hash"))
    actor = Actor(user["id"], is_system_admin=user["isSystemAdmin"])
    project = writer.execute_sync(partial(create_project, actor=actor, body=CreateProject(name="Board", key="ORD")))
    columns = writer.execute_sync(lambda tx: queries.list_columns(tx.conn, project["id"]))
    return actor, project, [column["id"] for column in columns]


def _create(writer: Writer, actor: Actor, column_id: str, title: str) -> dict:
    body = CreateTicket(title=title, columnId=column_id)
    return writer.execute_sync(partial(tickets.create_ticket, actor=actor, project_ref="ORD", body=body))


def _move(writer: Writer, actor: Actor, ticket_id: str, **fields: object) -> dict:
    command = partial(tickets.update_ticket, actor=actor, project_ref="ORD", ticket_ref=ticket_id,
                      body=UpdateTicket(**fields))
    return writer.execute_sync(command)


def test_orders_after_creates(writer: Writer, db_path: Path) -> None:
    actor, _project, columns = _setup(writer)
    for i in range(9):
        ticket = _create(writer, actor, columns[i % 3], f"t{i}")
        assert ticket["order"] == i // 3
        assert_orders_contiguous(db_path)
    assert column_orders(db_path) == {column: [0, 1, 2] for column in columns}


def test_move_places_ticket_at_order(writer: Writer, db_path: Path) -> None:
    actor, _project, columns = _setup(writer)
    titles = [_create(writer, actor, columns[0], f"t{i}")["id"] for i in range(4)]
    target = [_create(writer, actor, columns[1], f"u{i}")["id"] for i in range(3)]

    moved = _move(writer, actor, titles[0], columnId=columns[1], order=1)
    assert moved["order"] == 1
    in_target = writer.execute_sync(lambda tx: queries.list_tickets(tx.conn, moved["projectId"],
                                                                     {"columnId": columns[1]}))
    assert [ticket["id"] for ticket in in_target] == [target[0], titles[0], target[1], target[2]]
    assert_orders_contiguous(db_path)


def test_order_past_end_means_last(writer: Writer, db_path: Path) -> None:
    actor, _project, columns = _setup(writer)
    ids = [_create(writer, actor, columns[0], f"t{i}")["id"] for i in range(3)]
    assert _move(writer, actor, ids[0], order=50)["order"] == 2
    assert _move(writer, actor, ids[1], columnId=columns[2], order=2**63)["order"] == 0
    assert_orders_contiguous(db_path)


def test_negative_order_rejected(writer: Writer, db_path: Path) -> None:
    actor, _project, columns = _setup(writer)
    ticket = _create(writer, actor, columns[0], "t")
    with pytest.raises(InvalidInput, match="order"):
        _move(writer, actor, ticket["id"], order=-1)
    assert_orders_contiguous(db_path)


def test_random_commands_keep_orders(writer: Writer, db_path: Path) -> None:
    """Several hundred random creates, moves, deletes and bulk commands, checked after each one."""
    actor, _project, columns = _setup(writer)
    rng = random.Random(20240115)
    ids = [_create(writer, actor, rng.choice(columns), f"seed{i}")["id"] for i in range(20)]

    for step in range(400):
        action = rng.random()
        if action < 0.55 and ids:
            order = rng.choice([0, 1, rng.randrange(0, 30), 10**6])
            fields = {"order": order} if rng.random() < 0.8 else {}
            _move(writer, actor, rng.choice(ids), columnId=rng.choice(columns), **fields)
        elif action < 0.7 and ids:
            ticket_id = ids.pop(rng.randrange(len(ids)))
            writer.execute_sync(partial(tickets.delete_ticket, actor=actor, project_ref="ORD", ticket_ref=ticket_id))
        elif action < 0.8 and len(ids) >= 3:
            chosen = rng.sample(ids, 3)
            for ticket_id in chosen:
                ids.remove(ticket_id)
            body = BulkDeleteTickets(ticketIds=chosen)
            writer.execute_sync(partial(tickets.bulk_delete_tickets, actor=actor, project_ref="ORD", body=body))
        elif action < 0.9 and len(ids) >= 3:
            body = BulkUpdateTickets(ticketIds=rng.sample(ids, 3),
                                     updates=UpdateTicket(columnId=rng.choice(columns), order=rng.randrange(5)))
            writer.execute_sync(partial(tickets.bulk_update_tickets, actor=actor, project_ref="ORD", body=body))
        else:
            ids.append(_create(writer, actor, rng.choice(columns), f"new{step}")["id"])
        assert_orders_contiguous(db_path)

    assert sum(len(orders) for orders in column_orders(db_path).values()) == len(ids)


def test_racing_moves_in_one_group(writer: Writer, db_path: Path) -> None:
    """Moves of one ticket submitted together commit in one group, each reading the order the last left."""
    actor, _project, columns = _setup(writer)
    ids = [_create(writer, actor, columns[i % 3], f"t{i}")["id"] for i in range(12)]
    rng = random.Random(7)
    futures = []
    for _ in range(60):
        body = UpdateTicket(columnId=rng.choice(columns), order=rng.randrange(6))
        futures.append(writer.submit(partial(tickets.update_ticket, actor=actor, project_ref="ORD",
                                             ticket_ref=ids[0] if rng.random() < 0.5 else rng.choice(ids), body=body)))
    for future in futures:
        future.result()
    assert_orders_contiguous(db_path)


def test_racing_http_moves_keep_orders(server: ServerProcess) -> None:
    """Pairs of concurrent PATCH requests moving the same ticket to different places."""
    api = Api(server.url).register_and_login("racer")
    api.create_project("RACE")
    columns = [column["id"] for column in api.http.get("/api/projects/RACE/columns").json()]
    ids = [api.create_ticket("RACE", f"t{i}", columnId=columns[i % 3])["id"] for i in range(9)]
    rng = random.Random(11)

    def move(ticket_id: str, column_id: str, order: int) -> int:
        response = api.http.patch(f"/api/projects/RACE/tickets/{ticket_id}", json={"columnId": column_id,
                                                                                  "order": order})
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _round in range(25):
            ticket_id = rng.choice(ids)
            moves = [pool.submit(move, ticket_id, rng.choice(columns), rng.randrange(5)) for _ in range(2)]
            moves += [pool.submit(move, rng.choice(ids), rng.choice(columns), rng.randrange(5)) for _ in range(4)]
            assert [future.result() for future in moves] == [200] * 6
            assert_orders_contiguous(server.db)
    api.close()
