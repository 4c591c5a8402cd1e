"""Features for auditors: the log by page, ticket history, time travel, integrity, replay, export and import."""
