"""Commands: validate a request against the current state and decide its events.

Every command is a function ``(tx, ...) -> result`` run by the writer inside
a transaction. HTTP controllers, the command line, the demo loader and the
tests all issue commands this way, so each path checks the same rules.
"""
