"""Request bodies of the commands, as msgspec Structs.

Unknown fields are rejected (400 naming the field), so a misspelt field is
reported instead of silently ignored. A field left out of a PATCH body is
``UNSET`` and keeps its value; ``null`` clears it where the API allows.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "AddMember",
    "BulkDeleteTickets",
    "BulkUpdateTickets",
    "ConfirmPassword",
    "CreateLabel",
    "CreateProject",
    "CreateTicket",
    "Login",
    "Register",
    "UpdateMe",
    "UpdateMember",
    "UpdateProject",
    "UpdateTicket",
    "WipeDatabase",
]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Register(Body, kw_only=True):
    username: str
    password: str
    email: str | None = None
    name: str | None = None


class Login(Body, kw_only=True):
    username: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    password: str
    # Sent by browser sign-in forms; accepted and ignored.
    csrfToken: str | UnsetType = UNSET
    callbackUrl: str | UnsetType = UNSET
    redirect: str | bool | UnsetType = UNSET
    json: str | bool | UnsetType = UNSET


class UpdateMe(Body, kw_only=True):
    name: str | None | UnsetType = UNSET
    avatarColor: str | UnsetType = UNSET


class CreateProject(Body, kw_only=True):
    name: str
    key: str
    description: str | None = None
    color: str | None = None


class UpdateProject(Body, kw_only=True):
    name: str | UnsetType = UNSET
    description: str | None | UnsetType = UNSET
    color: str | UnsetType = UNSET
    key: str | UnsetType = UNSET


class AddMember(Body, kw_only=True):
    userId: str | UnsetType = UNSET
    username: str | UnsetType = UNSET
    role: str = "member"


class UpdateMember(Body, kw_only=True):
    role: str


class CreateLabel(Body, kw_only=True):
    name: str
    color: str | None = None


class TicketFields(Body, kw_only=True):
    """The ticket fields a PATCH may set; each one left out keeps its value."""

    title: str | UnsetType = UNSET
    description: str | None | UnsetType = UNSET
    type: str | UnsetType = UNSET
    priority: str | UnsetType = UNSET
    columnId: str | UnsetType = UNSET
    assigneeId: str | None | UnsetType = UNSET
    parentId: str | None | UnsetType = UNSET
    sprintId: str | None | UnsetType = UNSET
    storyPoints: int | None | UnsetType = UNSET
    estimate: str | None | UnsetType = UNSET
    startDate: str | None | UnsetType = UNSET
    dueDate: str | None | UnsetType = UNSET
    environment: str | None | UnsetType = UNSET
    affectedVersion: str | None | UnsetType = UNSET
    fixVersion: str | None | UnsetType = UNSET
    labelIds: list[str] | UnsetType = UNSET


class CreateTicket(TicketFields, kw_only=True):
    title: str


class UpdateTicket(TicketFields, kw_only=True):
    order: int | UnsetType = UNSET


class BulkUpdateTickets(Body, kw_only=True):
    ticketIds: list[str]
    updates: UpdateTicket


class BulkDeleteTickets(Body, kw_only=True):
    ticketIds: list[str]


class ConfirmPassword(Body, kw_only=True):
    confirmPassword: str


class WipeDatabase(Body, kw_only=True):
    confirmPassword: str
    confirmation: str
