"""Response bodies of the HTTP API, as msgspec Structs used only to describe them in OpenAPI.

The handlers build their responses from read-model rows; these Structs state
the shape those rows take on the wire. Every Struct forbids unknown fields,
so its JSON Schema has ``additionalProperties: false`` and a response that
carries an extra field (a leaked hash, an internal version) fails the
schema check of the contract tests.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "ChangeAuthor",
    "TicketChange",
    "ApiKey",
    "BulkDeleted",
    "Column",
    "ErrorBody",
    "Health",
    "ImportForm",
    "Label",
    "LogPage",
    "Member",
    "Project",
    "Session",
    "Success",
    "Ticket",
    "TicketDetail",
    "User",
    "UserSummary",
    "WipedDatabase",
    "WipedProjects",
]

TicketType = Literal["Story", "Task", "Bug", "Subtask", "Epic"]
Priority = Literal["Lowest", "Low", "Medium", "High", "Highest", "Critical"]
Role = Literal["owner", "admin", "member"]


class Schema(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class FieldProblem(Schema):
    field: str
    message: str


class ErrorBody(Schema):
    """Every 4xx and 5xx body: what failed and, for validation errors, the fields."""

    error: str
    details: list[FieldProblem] | msgspec.UnsetType = msgspec.UNSET


class User(Schema):
    id: str
    username: str
    email: str | None
    name: str | None
    avatar: str | None
    avatarColor: str
    isSystemAdmin: bool
    createdAt: str


class UserSummary(Schema):
    id: str
    username: str
    name: str | None
    avatar: str | None
    avatarColor: str


class MemberUser(Schema):
    id: str
    username: str
    name: str | None
    avatar: str | None


class Session(Schema):
    """The signed-in user and when the session expires; both absent without a session."""

    user: User | msgspec.UnsetType = msgspec.UNSET
    expires: str | msgspec.UnsetType = msgspec.UNSET


class ApiKey(Schema):
    apiKey: str


class Health(Schema):
    status: Literal["ok"]


class ChangeAuthor(Schema):
    id: str
    name: str | None


class TicketChange(Schema):
    """One field-level change of a ticket; ``field`` is ``created`` or ``deleted`` for those two events."""

    field: str
    oldValue: Any
    newValue: Any
    changedBy: ChangeAuthor | None
    changedAt: str
    offset: int


class Success(Schema):
    success: Literal[True]


class BulkDeleted(Schema):
    success: Literal[True]
    deleted: int


class Project(Schema):
    id: str
    name: str
    key: str
    description: str | None
    color: str
    createdAt: str
    updatedAt: str


class Column(Schema):
    id: str
    name: str
    order: int


class Member(Schema):
    id: str
    userId: str
    projectId: str
    role: Role
    user: MemberUser


class Label(Schema):
    id: str
    name: str
    color: str


class Ticket(Schema):
    id: str
    number: int
    key: str
    title: str
    description: str | None
    type: TicketType
    priority: Priority
    order: int
    columnId: str
    assigneeId: str | None
    creatorId: str
    parentId: str | None
    sprintId: str | None
    storyPoints: int | None
    estimate: str | None
    startDate: str | None
    dueDate: str | None
    environment: str | None
    affectedVersion: str | None
    fixVersion: str | None
    labelIds: list[str]
    projectId: str
    createdAt: str
    updatedAt: str


class TicketDetail(Ticket):
    """A ticket with its column, assignee and labels as objects."""

    column: Column | None
    assignee: UserSummary | None
    labels: list[Label]


class NewAdminCredentials(Schema):
    username: str
    temporaryPassword: str


class WipedDatabase(Schema):
    success: Literal[True]
    newAdminCredentials: NewAdminCredentials


class WipeCounts(Schema):
    projects: int
    tickets: int
    labels: int


class WipedProjects(Schema):
    success: Literal[True]
    wiped: WipeCounts


class LoggedEvent(Schema):
    """One event of the log with its metadata and chain hash."""

    offset: int
    stream: str
    version: int
    type: str
    schemaVersion: int
    data: dict
    tabId: str | None
    actorId: str | None
    timestamp: str
    hash: str


class LogPage(Schema):
    events: list[LoggedEvent]
    nextAfter: int
    hasMore: bool


class ImportForm(Schema):
    """The multipart form of a database import."""

    confirmPassword: str
    file: bytes
