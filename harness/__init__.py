"""The one way to start Inner Circle servers as processes, for the tests and the benchmark.

:class:`ServerGroup` is a deployment under test: one database (a SQLite file in the data
folder, a fresh PostgreSQL database it creates and drops, or a database the caller owns),
optionally Redis under a key prefix of its own, and one or more ``inner-circle serve``
processes (:class:`ServerProcess`) on loopback. It waits until every process answers
``/readyz`` (no fixed sleeps), writes each process's output to a log file whose tail is
shown when something fails, and cleans up: terminate, kill after a timeout, drop the
database, delete the Redis keys under its prefix.

:class:`Postgres`, :class:`Redis` and :class:`PrivatePostgres` are the services around it:
the shared PostgreSQL (databases made and dropped by name), Redis (reachable? flush a
prefix) and a throwaway PostgreSQL cluster that a test may stop under a live server.

Why a top-level package and not a module in ``tests/``, ``bench/`` or the product:
``bench/`` must not import ``tests/`` (the benchmark is not a test and runs without
pytest), ``tests/`` should not depend on the benchmark's package, and nothing here may
ship in the ``inner-circle`` distribution (it starts servers with test settings and drops
databases). A sibling of ``src/``, ``tests/`` and ``bench/`` that both import, outside the
wheel (setuptools finds packages under ``src/`` only), is the one place that fits. It
imports the product only through its command line and, for :attr:`ServerGroup.settings`,
its ``Settings``; it never imports ``tests`` or ``bench``.
"""

from harness.process import PASSWORD, ServerFailed, ServerGroup, ServerProcess, cli, running_logs
from harness.services import (
    Postgres,
    PrivatePostgres,
    Redis,
    SeaweedS3,
    free_port,
    free_ports,
    in_thread,
)

__all__ = [
    "PASSWORD",
    "Postgres",
    "PrivatePostgres",
    "Redis",
    "SeaweedS3",
    "ServerFailed",
    "ServerGroup",
    "ServerProcess",
    "cli",
    "free_port",
    "free_ports",
    "in_thread",
    "running_logs",
]
