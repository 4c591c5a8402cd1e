"""Tables of the read models and their checkpoint."""

from __future__ import annotations

__all__ = ["PROJECTION_SCHEMA", "PROJECTION_TABLES"]

# Every table rebuilt from the log, in the order a comparison dumps them.
PROJECTION_TABLES = (
    "users", "deactivated_users", "projects", "columns", "members", "labels", "tickets", "ticket_labels",
)

PROJECTION_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email TEXT UNIQUE COLLATE NOCASE,
    name TEXT,
    avatar TEXT,
    avatar_color TEXT NOT NULL,
    is_system_admin INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deactivated_users (
    user_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    color TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_ticket_number INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS columns (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    "order" INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS columns_by_project ON columns (project_id, "order");
CREATE TABLE IF NOT EXISTS members (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    UNIQUE (project_id, user_id)
);
CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id);
CREATE TABLE IF NOT EXISTS labels (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    color TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    type TEXT NOT NULL,
    priority TEXT NOT NULL,
    "order" INTEGER NOT NULL,
    column_id TEXT NOT NULL,
    assignee_id TEXT,
    creator_id TEXT NOT NULL,
    parent_id TEXT,
    sprint_id TEXT,
    story_points INTEGER,
    estimate TEXT,
    start_date TEXT,
    due_date TEXT,
    environment TEXT,
    affected_version TEXT,
    fix_version TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (project_id, number)
);
CREATE INDEX IF NOT EXISTS tickets_by_column ON tickets (column_id, "order");
CREATE INDEX IF NOT EXISTS tickets_by_project ON tickets (project_id, number);
CREATE TABLE IF NOT EXISTS ticket_labels (
    ticket_id TEXT NOT NULL,
    label_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, label_id)
);
CREATE INDEX IF NOT EXISTS ticket_labels_by_label ON ticket_labels (label_id);
CREATE TABLE IF NOT EXISTS projection_checkpoint (
    name TEXT PRIMARY KEY,
    offset INTEGER NOT NULL
);
INSERT OR IGNORE INTO projection_checkpoint (name, offset) VALUES ('all', 0);
"""
