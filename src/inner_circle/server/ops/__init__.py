"""Operator work on the data (backup, restore, export): called by the CLI's thin commands
and by tests. Nothing here prints or exits; refusals are :class:`backup.OpsError`."""
