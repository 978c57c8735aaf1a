"""Soak: real clients and random faults against a real server, for a bounded time.

    scripts/soak --minutes 10            (or: python -m tests.delivery.soak --seconds 30)

Starts ``inner-circle serve`` on loopback (a private PostgreSQL cluster when Debian's
server binaries are here, else the shared PostgreSQL if reachable, else SQLite), and
N members, each with a :class:`ResilientClient`. Until the time is up, the members
send at random into the family chat and two groups, and a chaos loop picks at random:

- ``drop``: cut one client's connection (it reconnects and catches up by itself);
- ``away``: take one device offline for a few seconds, then bring it back;
- ``kill``: kill -9 the server and start it again on the same port;
- ``outage``: stop the database for a few seconds (private PostgreSQL only);
- ``device``: log a second device in for a member (a fresh start);
- ``read``: a device marks a chat read up to where it is.

Then the sends drain, the faults stop, and every device must converge. The verdict
line counts sent, acked, stored, delivered, duplicates and losses, and the exit code
is 1 on any loss or duplicate (or a device that never converges), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from inner_circle.protocol.rest import MessageOut
from inner_circle.sdk import InnerCircleClient
from tests.delivery.checks import full_history
from tests.delivery.harness import PrivatePostgres, ServerProcess, delivery_server, wait_until
from tests.delivery.resilient import ResilientClient
from tests.support import PASSWORD, POSTGRES, POSTGRES_URL, Family

ACTIONS = ("drop", "away", "kill", "outage", "device", "read")


@dataclass
class Verdict:
    database: str
    seconds: float
    members: int
    devices: int = 0
    sent: int = 0
    acked: int = 0
    stored: int = 0
    delivered: int = 0
    expected_deliveries: int = 0
    duplicates: int = 0
    losses: int = 0
    unconverged_devices: int = 0
    read_mismatches: int = 0
    resends: int = 0
    reconnects: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return (
            self.losses == 0
            and self.duplicates == 0
            and self.unconverged_devices == 0
            and self.read_mismatches == 0
            and self.sent == self.acked
            and not self.problems
        )

    def line(self) -> str:
        faults = ",".join(f"{k}={v}" for k, v in sorted(self.faults.items())) or "none"
        errors = ",".join(f"{k}={v}" for k, v in sorted(self.errors.items())) or "none"
        return (
            f"SOAK {'PASS' if self.clean else 'FAIL'}: db={self.database} "
            f"seconds={self.seconds:.0f} members={self.members} devices={self.devices} "
            f"sent={self.sent} acked={self.acked} stored={self.stored} "
            f"delivered={self.delivered}/{self.expected_deliveries} "
            f"duplicates={self.duplicates} losses={self.losses} "
            f"unconverged={self.unconverged_devices} read_mismatches={self.read_mismatches} "
            f"resends={self.resends} reconnects={self.reconnects} "
            f"faults[{faults}] error_acks[{errors}]"
        )


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.random = random.Random(args.seed)
        self.deadline = 0.0
        self.server: ServerProcess | None = None
        self.cluster: PrivatePostgres | None = None
        self.family: Family | None = None
        self.devices: list[ResilientClient] = []
        self.members: list[InnerCircleClient] = []
        self.chats: dict[uuid.UUID, set[uuid.UUID]] = {}  # chat -> member ids
        self.sending = True
        self.verdict = Verdict(database="?", seconds=args.seconds, members=args.clients)
        self.log_lines: list[str] = []

    def log(self, text: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {text}"
        self.log_lines.append(line)
        if self.args.verbose:
            print(line, flush=True)

    # --- setting up -----------------------------------------------------------------------

    async def open_database(self, workdir: Path) -> str:
        choice = self.args.database
        if choice in ("auto", "private-pg") and PrivatePostgres.unavailable_reason() is None:
            self.cluster = PrivatePostgres()
            await asyncio.to_thread(self.cluster.init)
            self.verdict.database = "postgresql(private)"
            return await self.cluster.create_database()
        if choice == "private-pg":
            raise SystemExit(f"soak: {PrivatePostgres.unavailable_reason()}")
        if choice in ("auto", "shared-pg") and await asyncio.to_thread(POSTGRES.reachable):
            self.verdict.database = "postgresql(shared)"
            return await asyncio.to_thread(POSTGRES.create_database, "ic_soak")
        if choice == "shared-pg":
            raise SystemExit(f"soak: PostgreSQL not reachable at {POSTGRES_URL}")
        self.verdict.database = "sqlite"
        return f"sqlite+aiosqlite:///{workdir / 'soak.db'}"

    async def setup(self, workdir: Path) -> None:
        url = await self.open_database(workdir)
        self.server = delivery_server(url, workdir / "data")
        await self.server.astart()
        self.family = Family(self.server)
        self.members = [
            await self.family.member(f"soak{i}") for i in range(max(2, self.args.clients))
        ]
        everyone = {m.user_id for m in self.members}
        family_chat = await self.members[0].family_chat()
        self.chats[family_chat.id] = everyone
        half = self.members[: len(self.members) // 2 + 1]
        for name, group in (("Evens", self.members[::2]), ("Firsts", half)):
            chat = await group[0].create_group(name, [m.user_id for m in group[1:]])
            self.chats[chat.id] = {m.user_id for m in group}
        for index, member in enumerate(self.members):
            await self.add_device(member, name=f"soak{index}")

    async def add_device(self, api: InnerCircleClient, name: str) -> ResilientClient:
        device = ResilientClient(api, PASSWORD, name=name, seed=self.random.randrange(1 << 30))
        await device.start(timeout=60)
        self.devices.append(device)
        return device

    # --- traffic and faults ---------------------------------------------------------------

    def chats_of(self, device: ResilientClient) -> list[uuid.UUID]:
        return [c for c, members in self.chats.items() if device.user_id in members]

    async def sender(self, device: ResilientClient) -> None:
        n = 0
        in_flight: set[asyncio.Task[MessageOut]] = set()
        rate = self.args.rate
        while self.sending and time.monotonic() < self.deadline:
            chat_id = self.random.choice(self.chats_of(device))
            task = asyncio.create_task(device.send(chat_id, f"{device.name} #{n}"))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            n += 1
            if len(in_flight) >= 4:  # a few unacknowledged at once, like a real outbox
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(self.random.expovariate(rate))  # pacing the traffic
        if in_flight:
            await asyncio.wait(in_flight)
        for task in list(in_flight):
            task.result()

    async def chaos(self) -> None:
        actions = [a for a in ACTIONS if a not in self.args.without]
        if self.cluster is None and "outage" in actions:
            actions.remove("outage")
        deck: list[str] = []
        while time.monotonic() < self.deadline - 2:
            # The gap between faults, so traffic flows in between.
            await asyncio.sleep(self.random.uniform(*self.args.fault_gap))
            if time.monotonic() >= self.deadline - 2:
                break
            if not deck:  # every kind of fault once per round, in a random order ...
                deck = self.random.sample(actions, len(actions))
                if not self.verdict.faults:  # ... but the crashes first, for short runs
                    deck.sort(key=lambda a: a in ("kill", "outage"))
            action = deck.pop()
            await getattr(self, f"fault_{action}")()
            self.verdict.faults[action] += 1

    async def fault_drop(self) -> None:
        device = self.random.choice(self.devices)
        self.log(f"drop {device.name}")
        await device.drop(abrupt=self.random.random() < 0.5)

    async def fault_away(self) -> None:
        device = self.random.choice(self.devices)
        self.log(f"away {device.name}")
        await device.go_offline(abrupt=self.random.random() < 0.5)
        await asyncio.sleep(self.random.uniform(1, 4))  # how long the device is away
        await device.start(timeout=60)

    async def fault_kill(self) -> None:
        assert self.server is not None
        self.log("kill -9 server")
        self.server.kill()
        await self.server.astart(timeout=60)

    async def fault_outage(self) -> None:
        assert self.cluster is not None and self.server is not None
        self.log("database outage")
        await asyncio.to_thread(self.cluster.stop, "immediate")
        await asyncio.sleep(self.random.uniform(1, 5))  # how long the database is down
        await asyncio.to_thread(self.cluster.start)
        server = self.server

        async def ready() -> bool:
            return await server.astatus("/readyz") == 200

        await wait_until(ready, timeout=60, what="readiness after the outage")

    async def fault_device(self) -> None:
        if len(self.devices) >= len(self.members) + self.args.max_extra_devices:
            return await self.fault_read()
        member = self.random.choice(self.members)
        assert self.family is not None and member.user is not None
        api = self.family.client()
        for attempt in range(60):  # the server may be restarting
            try:
                await api.login(member.user.username, PASSWORD)
                break
            except Exception:
                await asyncio.sleep(min(1.0, 0.1 * (attempt + 1)))  # backoff before retrying
        name = f"{member.user.username}-dev{len(self.devices)}"
        self.log(f"new device {name}")
        await self.add_device(api, name)
        return None

    async def fault_read(self) -> None:
        device = self.random.choice(self.devices)
        chat_id = self.random.choice(self.chats_of(device))
        history = device.history(chat_id)
        if history:
            self.log(f"read {device.name}")
            await asyncio.wait_for(device.mark_read(chat_id, history[-1].seq), 60)

    # --- the verdict ----------------------------------------------------------------------

    async def judge(self) -> None:
        v = self.verdict
        v.devices = len(self.devices)
        observer = {
            c: next(m for m in self.members if m.user_id in ids) for c, ids in self.chats.items()
        }
        server = {c: await full_history(observer[c], c) for c in self.chats}
        stored = [m for history in server.values() for m in history]
        v.stored = len(stored)
        keys = Counter((m.sender_id, m.client_message_id) for m in stored)
        v.duplicates = sum(n - 1 for n in keys.values())
        for history in server.values():
            if [m.seq for m in history] != list(range(1, len(history) + 1)):
                v.problems.append("seq gap or repeat in a chat")
        by_id = {m.id: m for m in stored}
        for device in self.devices:
            v.sent += device.stats.sent
            v.acked += len(device.acked)
            v.resends += device.stats.resends
            v.reconnects += max(0, device.stats.connects - 1)
            v.errors.update(device.stats.errors)
            v.losses += sum(1 for m in device.acked.values() if m.id not in by_id)
            v.losses += len(device.outbox)
            if device.stats.sync_anomalies:
                v.problems.append(f"{device.name}: {device.stats.sync_anomalies} sync anomalies")

        for device in self.devices:
            chats = self.chats_of(device)

            def converged(d: ResilientClient = device, cs: list[uuid.UUID] = chats) -> bool:
                return all([m.id for m in d.history(c)] == [m.id for m in server[c]] for c in cs)

            try:
                await device.wait_until(converged, timeout=60)
            except TimeoutError:
                v.unconverged_devices += 1
            for chat_id in chats:
                expected = {m.id for m in server[chat_id]}
                held = {m.id for m in device.history(chat_id)}
                v.expected_deliveries += len(expected)
                v.delivered += len(expected & held)
                missing = expected - held
                v.losses += len(missing)
                if missing or held - expected:
                    self.log(f"{device.name} differs in {chat_id}: {len(missing)} missing")

        # Read positions: every device agrees with the server.
        for chat_id, members in self.chats.items():
            states = (await observer[chat_id].chat(chat_id)).read_states
            expected_read = {s.user_id: s.last_read_seq for s in states}
            for device in self.devices:
                if device.user_id not in members:
                    continue

                def agrees(
                    d: ResilientClient = device,
                    c: uuid.UUID = chat_id,
                    e: dict[uuid.UUID, int] = expected_read,
                ) -> bool:
                    return d.read_state(c, e) == e

                try:
                    await device.wait_until(agrees, timeout=20)
                except TimeoutError:
                    v.read_mismatches += 1
                    self.log(f"{device.name} read state differs in {chat_id}")

    # --- the run --------------------------------------------------------------------------

    async def run(self) -> Verdict:
        workdir = Path(tempfile.mkdtemp(prefix="ic-soak-"))
        started = time.monotonic()
        try:
            await self.setup(workdir)
            self.deadline = time.monotonic() + self.args.seconds
            self.log(f"soak on {self.verdict.database} for {self.args.seconds:.0f} s")
            senders = [asyncio.create_task(self.sender(d)) for d in self.devices]
            await self.chaos()
            self.sending = False
            # Extra devices added during the run only receive; wait for every outbox.
            await asyncio.wait_for(asyncio.gather(*senders), self.args.drain_timeout)
            assert self.server is not None
            if not self.server.running:
                await self.server.astart()
            await self.judge()
        except Exception as exc:
            self.verdict.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.verdict.seconds = time.monotonic() - started
            await self.teardown(workdir)
        return self.verdict

    async def teardown(self, workdir: Path) -> None:
        for device in self.devices:
            try:
                await asyncio.wait_for(device.close(), 10)
            except Exception:
                pass
        if self.family is not None:
            await self.family.close()
        if self.server is not None:
            await self.server.astop()
            if self.verdict.problems or not self.verdict.clean:
                tail = self.server.log_tail(60)
                self.log("server log tail:\n" + tail)
            if self.cluster is None and self.server.database_url.startswith("postgresql"):
                await asyncio.to_thread(POSTGRES.drop_database, self.server.database_url)
        if self.cluster is not None:
            await asyncio.to_thread(self.cluster.destroy)
        shutil.rmtree(workdir, ignore_errors=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="how long the faults go on")
    length.add_argument("--seconds", type=float, help="the same, in seconds [default: 60]")
    parser.add_argument("--clients", type=int, default=5, help="members, one device each")
    parser.add_argument("--rate", type=float, default=8.0, help="sends per second per client")
    parser.add_argument("--seed", type=int, default=None, help="for a repeatable fault plan")
    parser.add_argument(
        "--database", choices=("auto", "private-pg", "shared-pg", "sqlite"), default="auto"
    )
    parser.add_argument(
        "--without", nargs="*", choices=ACTIONS, default=[], help="faults to leave out"
    )
    parser.add_argument(
        "--fault-gap",
        type=float,
        nargs=2,
        default=(1.0, 4.0),
        metavar=("MIN", "MAX"),
        help="seconds of plain traffic between two faults [default: 1 4]",
    )
    parser.add_argument("--max-extra-devices", type=int, default=3)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true", help="also print the verdict as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each fault")
    args = parser.parse_args(argv)
    args.seconds = args.minutes * 60 if args.minutes is not None else (args.seconds or 60.0)
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    soak = Soak(args)
    verdict = asyncio.run(soak.run())
    if not verdict.clean:
        print("\n".join(soak.log_lines[-80:]), file=sys.stderr)
        for problem in verdict.problems:
            print(f"problem: {problem}", file=sys.stderr)
    print(f"seed={args.seed}")
    print(verdict.line(), flush=True)
    if args.json:
        body = {k: v for k, v in vars(verdict).items()}
        print(json.dumps({**body, "clean": verdict.clean}, default=str))
    return 0 if verdict.clean else 1


if __name__ == "__main__":
    sys.exit(main())
