"""Permission matrix: every route of the application, sent as each kind of caller.

The routes come from the application's route table, so a new route without
an entry in ``MATRIX`` fails ``test_every_route_in_matrix``. Requests use ids
that do not exist and stale If-Match headers where a permitted request would
otherwise delete or change shared state, so every caller meets the same data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from punt.api.app import create_app
from punt.settings import Settings
from tests.support import PASSWORD, Api, ServerProcess

CALLERS = ("anonymous", "outsider", "member", "project_admin", "owner", "system_admin")

# The least privileged caller a route admits; every caller to its right in CALLERS is admitted too.
PUBLIC, USER, MEMBER, ADMIN, OWNER, SYSTEM = "anonymous", "outsider", "member", "project_admin", "owner", "system_admin"

_counter = itertools.count()
STALE = {"If-Match": '"999"'}
WRONG = "Wrong1Password"


@dataclass(frozen=True)
class Entry:
    minimum: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    fresh_session: bool = False
    multipart: bool = False


def _unique_username() -> dict:
    return {"username": f"perm_{next(_counter)}", "password": PASSWORD}


MATRIX: dict[str, Entry] = {
    "register": Entry(PUBLIC, json=_unique_username),
    "sign_in": Entry(PUBLIC, json={"username": "perm_owner", "password": PASSWORD}),
    "session": Entry(PUBLIC),
    "health": Entry(PUBLIC),
    "sign_out": Entry(USER, fresh_session=True),
    "get_me": Entry(USER),
    "update_me": Entry(USER, json={"name": "Same Name"}),
    "create_api_key": Entry(USER),
    "revoke_api_key": Entry(USER),
    "change_my_password": Entry(USER, json={"currentPassword": WRONG, "newPassword": "Another1Password"}),
    "list_projects": Entry(USER),
    "create_project": Entry(USER, json=lambda: {"name": "Mine", "key": f"P{next(_counter)}"}),
    "get_project": Entry(MEMBER),
    "update_project": Entry(ADMIN, json={"name": "Renamed"}, headers=STALE),
    "delete_project": Entry(OWNER, headers=STALE),
    "list_columns": Entry(MEMBER),
    "list_members": Entry(MEMBER),
    "add_member": Entry(ADMIN, json={"username": "no_such_user", "role": "member"}),
    "update_member": Entry(ADMIN, json={"role": "member"}),
    "remove_member": Entry(ADMIN),
    "list_labels": Entry(MEMBER),
    "create_label": Entry(MEMBER, json=lambda: {"name": f"label {next(_counter)}"}),
    "delete_label": Entry(MEMBER),
    "list_tickets": Entry(MEMBER),
    "create_ticket": Entry(MEMBER, json={"title": "Permitted"}),
    "get_ticket": Entry(MEMBER),
    "update_ticket": Entry(MEMBER, json={"title": "Changed"}),
    "delete_ticket": Entry(MEMBER),
    "bulk_update_tickets": Entry(MEMBER, json={"ticketIds": ["missing"], "updates": {"title": "x"}}),
    "bulk_delete_tickets": Entry(MEMBER, json={"ticketIds": ["missing"]}),
    "wipe_database": Entry(SYSTEM, json={"confirmPassword": WRONG, "confirmation": "wipe all data"}),
    "wipe_projects": Entry(SYSTEM, json={"confirmPassword": WRONG}),
    "deactivate_user": Entry(SYSTEM),
    "admin_events": Entry(SYSTEM),
    "project_history": Entry(ADMIN),
    "ticket_history": Entry(MEMBER),
    "export_database": Entry(SYSTEM, json={"confirmPassword": WRONG}),
    "import_database": Entry(SYSTEM, multipart=True),
    "project_events": Entry(MEMBER),
    "project_list_events": Entry(USER),
    "user_events": Entry(USER),
    "openapi_json": Entry(PUBLIC),
    "openapi_viewer": Entry(PUBLIC),
}


def _routes() -> list[tuple[str, str, str]]:
    app = create_app(Settings(db=":memory:"))
    return sorted((method, route.path, handler.handler_name) for route in app.routes
                  for handler in route.route_handlers for method in handler.http_methods if method != "OPTIONS")


def test_every_route_in_matrix() -> None:
    missing = sorted({name for _method, _path, name in _routes()} - set(MATRIX))
    assert missing == [], f"add these handlers to MATRIX with the least privileged caller they admit: {missing}"


def _allowed(caller: str, minimum: str) -> bool:
    if minimum == SYSTEM:
        return caller == SYSTEM
    return CALLERS.index(caller) >= CALLERS.index(minimum)


def _sign_in(url: str, username: str) -> str:
    response = httpx.post(f"{url}/api/auth/callback/credentials", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.cookies["punt_session"]


@pytest.fixture
def callers(server: ServerProcess) -> dict[str, str | None]:
    """Session tokens of each caller, and the project they relate to."""
    system = Api(server.url).register_and_login("perm_system")
    for name in ("perm_owner", "perm_admin", "perm_member", "perm_outsider"):
        Api(server.url).register_and_login(name).close()
    owner = Api(server.url).login("perm_owner")
    owner.create_project("PERM")
    owner.add_member("PERM", "perm_admin", "admin")
    owner.add_member("PERM", "perm_member", "member")
    system.close()
    owner.close()
    return {"anonymous": None, "outsider": "perm_outsider", "member": "perm_member",
            "project_admin": "perm_admin", "owner": "perm_owner", "system_admin": "perm_system"}


def _path(raw: str) -> str:
    return (raw.replace("{project_id:str}", "PERM").replace("{ticket_id:str}", "PERM-999")
            .replace("{member_id:str}", "missing").replace("{user_id:str}", "missing").replace("{label_id:str}", "missing"))


def _send(url: str, method: str, path: str, entry: Entry, token: str | None) -> int:
    headers = {**entry.headers, **({"Cookie": f"punt_session={token}"} if token else {})}
    body = entry.json() if callable(entry.json) else entry.json
    options: dict[str, Any] = {"headers": headers, "timeout": 30}
    if body is not None:
        options["json"] = body
    if entry.multipart:
        options["files"] = {"file": ("export.ndjson", b"")}
        options["data"] = {"confirmPassword": WRONG}
    with httpx.Client(base_url=url) as client, client.stream(method, path, **options) as response:
        return response.status_code


def test_permission_matrix(server: ServerProcess, callers: dict[str, str | None]) -> None:
    tokens = {caller: _sign_in(server.url, name) if name else None for caller, name in callers.items()}
    wrong = []
    for method, raw_path, name in _routes():
        entry = MATRIX[name]
        for caller in CALLERS:
            token = tokens[caller]
            if entry.fresh_session and callers[caller]:
                token = _sign_in(server.url, callers[caller])
            status = _send(server.url, method, _path(raw_path), entry, token)
            if _allowed(caller, entry.minimum):
                ok = status not in (401, 403) and status < 500
            else:
                ok = status == (401 if caller == "anonymous" else 403)
            if not ok:
                wrong.append(f"{method} {raw_path} as {caller}: {status}")
    assert wrong == [], "\n".join(wrong)
