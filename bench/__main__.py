"""``python -m bench SHAPE [options]``: one command per benchmark shape.

    python -m bench one-family --rate 200 --duration 20
    python -m bench one-family --find-max
    python -m bench many-families --rate 500 --duration 20 --gen-procs 2
    python -m bench many-families --find-max --backend postgres
    python -m bench idle --clients 10000 --users 100 --gen-procs 4
    python -m bench history --messages 1000000
    python -m bench search --messages 1000000 --backend postgres
    python -m bench join --members 1000 --online 200
    python -m bench login-burst --rate 250 --logins 50
    python -m bench scale-out --servers 2 --find-max      (PostgreSQL + Redis)

Every step prints one JSON line and appends a row to docs/performance.md.
All traffic goes to 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import resource
import sys

from bench.joining import join
from bench.search import search
from bench.shapes import MessageShape, history, idle, run_messages


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _message_args(
    parser: argparse.ArgumentParser, *, rate: float, duration: float, gen_procs: int
) -> None:
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, action="append", help="messages/s (repeatable)")
    parser.add_argument("--duration", type=float, default=duration)
    parser.add_argument(
        "--find-max", action="store_true", help="raise the rate until p99 > 100 ms or loss"
    )
    parser.add_argument("--gen-procs", type=int, default=gen_procs)
    parser.add_argument("--servers", type=int, default=1, help="server processes (Redis when > 1)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server process")
    parser.add_argument(
        "--redis", action="store_true", help="use the Redis manager even with one process"
    )
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE for the server processes"
    )
    parser.add_argument("--note", default="")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="priority of server and generators (e.g. -5 on a shared machine)",
    )
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="py-spy the server: PREFIX-stepN-PID.txt (collapsed stacks)",
    )
    parser.set_defaults(default_rate=rate)


def main(argv: list[str] | None = None) -> int:
    _raise_fd_limit()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="shape", required=True)
    one = sub.add_parser("one-family", help="1 chat x 10 members")
    _message_args(one, rate=200, duration=20, gen_procs=1)
    many = sub.add_parser("many-families", help="100 chats x 10 members = 1,000 clients")
    _message_args(many, rate=500, duration=20, gen_procs=2)
    many.add_argument("--chats", type=int, default=100)
    burst = sub.add_parser("login-burst", help="many-families at half load plus 50 logins/s")
    _message_args(burst, rate=250, duration=20, gen_procs=2)
    burst.add_argument("--chats", type=int, default=100)
    burst.add_argument("--logins", type=float, default=50)
    scale = sub.add_parser("scale-out", help="many-families on N server processes over Redis")
    _message_args(scale, rate=300, duration=15, gen_procs=2)
    scale.add_argument("--chats", type=int, default=100)
    scale.set_defaults(backend="postgres")

    idle_p = sub.add_parser("idle", help="server RSS per idle connection")
    idle_p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    idle_p.add_argument("--clients", type=int, default=1000)
    idle_p.add_argument("--users", type=int, default=100)
    idle_p.add_argument("--gen-procs", type=int, default=2)
    idle_p.add_argument("--settle", type=float, default=5.0)
    idle_p.add_argument("--note", default="")
    idle_p.add_argument("--nice", type=int, default=0)

    hist = sub.add_parser("history", help="history page and catch-up on a chat of N messages")
    hist.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    hist.add_argument("--messages", type=int, default=1_000_000)
    hist.add_argument("--samples", type=int, default=500)
    hist.add_argument("--catchup", type=int, default=10_000)
    hist.add_argument("--note", default="")
    hist.add_argument("--nice", type=int, default=0)

    joining = sub.add_parser("join", help="register and first connect in a family of N")
    joining.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    joining.add_argument("--members", type=int, default=1000)
    joining.add_argument("--samples", type=int, default=20)
    joining.add_argument("--online", type=int, default=200)
    joining.add_argument("--note", default="")

    find = sub.add_parser("search", help="GET /search over N messages of one family")
    find.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    find.add_argument("--messages", type=int, default=1_000_000)
    find.add_argument("--samples", type=int, default=200)
    find.add_argument("--note", default="")
    find.add_argument("--nice", type=int, default=0)
    find.add_argument(
        "--explain",
        action="store_true",
        help="PostgreSQL: print each plan (EXPLAIN ANALYZE) to stderr",
    )

    args = parser.parse_args(argv)
    if args.shape == "search":
        search(args.backend, args.messages, args.samples, args.note, args.nice, args.explain)
        return 0
    if args.shape == "idle":
        idle(
            args.backend,
            args.clients,
            args.users,
            args.gen_procs,
            args.settle,
            args.note,
            args.nice,
        )
        return 0
    if args.shape == "join":
        join(args.backend, args.members, args.samples, args.online, args.note)
        return 0
    if args.shape == "history":
        history(args.backend, args.messages, args.samples, args.catchup, args.note, args.nice)
        return 0

    rates = args.rate or [args.default_rate]
    if args.shape == "one-family":
        members, chat_size, family = 10, 10, True
    else:
        members, chat_size, family = args.chats * 10, 10, False
    extra_env = dict(item.split("=", 1) for item in args.env)
    shape = MessageShape(
        name=args.shape,
        backend=args.backend,
        members=members,
        chat_size=chat_size,
        family_chat=family,
        duration=args.duration,
        rates=[float(r) for r in rates],
        find_max=args.find_max,
        gen_procs=args.gen_procs,
        servers=args.servers,
        workers=args.workers,
        redis=args.redis,
        note=args.note,
        logins_per_second=getattr(args, "logins", 0.0),
        extra_env=extra_env,
        profile=args.profile,
        nice=args.nice,
    )
    if args.shape == "login-burst":
        # Baseline at the same rate without logins, then the burst: compare the p99s.
        base = MessageShape(
            **{
                **shape.__dict__,
                "name": "login-burst",
                "logins_per_second": 0.0,
                "note": (args.note + " baseline, no logins").strip(),
            }
        )
        run_messages(base)
    run_messages(shape)
    return 0


if __name__ == "__main__":
    sys.exit(main())
