"""Team soak: simulated agents work a big store while a mail import runs (issue 11).

    python bench/bench_team.py --db /tmp/team.db [--tickets 100000] [--messages 50000]
        [--agents 20] [--seconds 60] [--reuse]
    python bench/bench_team.py --db postgresql+psycopg://…/team …

Builds a demo store (``--tickets``) and a generated maildir (``--messages``), starts
the real ``deskterm import mail`` in a child process, and meanwhile runs ``--agents``
agents, each an OS process with its own connections, for ``--seconds``. Each agent
works on the tickets the import is creating and threading mail into: it opens one
(reads it, as the console does), changes its priority or queue with the version it
read, saves resolution notes, saves a reply draft, or takes the next ticket, and logs
every change that succeeded.

Each agent also writes its presence heartbeat every second from a thread, as the
console's live feed does (20 more writes a second; reported as ``heartbeat``, not
among the actions): an import paces its batches while a console is open.

Agents are people: between two actions each one pauses for a random time in
``--think`` (default 0.5–2 s, already a very busy agent: 20 of them make ~16 actions a
second, far above a real team's rate), so the latencies are those of a working desk,
not of 20 processes in a tight loop fighting for two cores.

Afterwards every logged change is checked against the store: the last change to a
ticket's priority, queue or assignee must be what the store holds (an import writing
back a stale copy shows here as a reverted update), every saved notes version must be
there with its text, and no ticket may have been taken twice. Prints latencies
(p50/p95/p99 per action), actions per second, conflicts, lost updates, double
claims, the import's throughput while the agents worked (messages stored during the
soak window) and over the whole run, CPU seconds of agents and importer, the machine's
busy share and load average, as JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

DESKTERM = str(Path(sys.executable).with_name("deskterm"))
ACTIONS = (("open", 30), ("priority", 20), ("queue", 15), ("notes", 15), ("draft", 10),
           ("take", 10))  # fmt: skip
PRIORITIES = ("low", "normal", "high", "urgent")
QUEUES = ("general", "billing", "l2", "shipping")
BEAT_S = 1.0  # the console's presence heartbeat (screens/live.py BEAT)


def agent(
    target: str, base: int, seconds: float, think: tuple[float, float], name: str, seed: int,
    out: Any, ready: Any,
) -> None:  # fmt: skip
    """One agent's loop; puts (latencies by action, changes, takes, conflicts, CPU
    seconds) on ``out``. Between actions the agent thinks for a random time in
    ``think`` (seconds), as a person reading a ticket would."""
    from deskterm.store import Conflict, NotFound, Store

    rng = random.Random(seed)
    store = Store.open(target, upgrade=False)
    showing: list[int | None] = [None]  # the ticket on screen, for the heartbeat
    beats: list[float] = []
    stop = threading.Event()

    def heartbeat() -> None:
        # As the console's live feed does: a presence write every second, in a thread.
        while not stop.wait(BEAT_S):
            start = time.perf_counter()
            store.presence.beat(name, name, showing[0], "viewing")
            beats.append((time.perf_counter() - start) * 1000)

    ready.wait()  # every agent has started up (imports, connections) and so has the import
    beater = threading.Thread(target=heartbeat, daemon=True)
    beater.start()
    time.sleep(rng.uniform(*think))  # agents do not all start at the same instant
    latency: dict[str, list[float]] = {a: [] for a, _ in ACTIONS}
    changes: list[tuple[int, str, str, int]] = []  # ticket, field, value, version after
    takes: list[int] = []
    conflicts = 0
    names, weights = zip(*ACTIONS, strict=True)
    deadline = time.monotonic() + seconds
    top = base
    while time.monotonic() < deadline:
        if rng.random() < 0.05 or top <= base:
            top = store.queue.watermark()[1] or base
        if top <= base:
            time.sleep(0.05)
            continue
        number = rng.randint(base + 1, top)
        action = rng.choices(names, weights)[0]
        start = time.perf_counter()
        try:
            if action == "take":
                taken = store.claims.take_next(name)
                if taken is not None:
                    takes.append(taken)
            else:
                showing[0] = number
                detail = store.tickets.get_ticket(number)
                version = detail.ticket.version
                if action == "priority":
                    value = rng.choice(PRIORITIES)
                    t = store.tickets.update(number, name, priority=value, expected_version=version)
                    changes.append((number, "priority", value, t.version))
                elif action == "queue":
                    value = rng.choice(QUEUES)
                    t = store.tickets.update(number, name, queue=value, expected_version=version)
                    changes.append((number, "queue", value, t.version))
                elif action == "notes":
                    text = f"{name} {time.time_ns()}"
                    note = store.tickets.save_note(number, text, name, expected_version=version)
                    changes.append((number, "note", text, note.version))
                elif action == "draft":
                    store.replies.save_draft(number, name, f"draft by {name}")
        except Conflict:
            conflicts += 1
        except NotFound:
            continue
        latency[action].append((time.perf_counter() - start) * 1000)
        time.sleep(max(0.0, min(rng.uniform(*think), deadline - time.monotonic())))
    stop.set()
    beater.join()
    store.presence.leave(name)
    store.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    latency["heartbeat"] = beats
    out.put((latency, changes, takes, conflicts, usage.ru_utime + usage.ru_stime))


def build(target: str, tickets: int, reuse: bool) -> None:
    if reuse:
        return
    code = (
        "import sys\nfrom deskterm.demo import DemoBuilder\nfrom deskterm.store import Store\n"
        "s = Store.open(sys.argv[1])\nDemoBuilder(s, tickets=int(sys.argv[2]), seed=7,"
        " batch=5000).build()\ns.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, target, str(tickets)], check=True)


def verify(target: str, logs: list[tuple[Any, ...]]) -> dict[str, int]:
    """Lost or reverted updates, double claims and missing notes versions."""
    from deskterm.store import Store

    last: dict[tuple[int, str], tuple[int, str]] = {}
    notes: list[tuple[int, int, str]] = []
    taken: list[int] = []
    for _lat, changes, takes, _c, _cpu in logs:
        taken += takes
        for number, field, value, version in changes:
            if field == "note":
                notes.append((number, version, value))
            elif (number, field) not in last or last[(number, field)][0] < version:
                last[(number, field)] = (version, value)
    store = Store.open(target, upgrade=False)
    lost = 0
    for (number, field), (_version, value) in last.items():
        lost += getattr(store.tickets.get_ticket(number).ticket, field) != value
    for number, version, text in notes:
        kept = {n.version: n.body for n in store.tickets.note_versions(number)}
        lost += kept.get(version) != text
    assignees = {n: store.tickets.get_ticket(n).ticket.assignee for n in set(taken)}
    store.close()
    return {
        "checked_changes": len(last) + len(notes),
        "lost_or_reverted": lost,
        "double_claims": len(taken) - len(set(taken)),
        "claims": len(taken),
        "claims_reassigned_since": sum(1 for a in assignees.values() if a is None),
    }


def percentiles(values: list[float]) -> dict[str, float | int]:
    """Count, p50, p95 and p99 of latencies in ms."""
    if len(values) < 2:
        return {"n": len(values)}
    cuts = statistics.quantiles(values, n=100)
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 1),
        "p95": round(cuts[94], 1),
        "p99": round(cuts[98], 1),
    }


def newest_message(target: str) -> int:
    """The highest message id: how far the import has got."""
    from sqlalchemy import text

    from deskterm.store import Store

    store = Store.open(target, upgrade=False)
    try:
        with store.db.engine.connect() as conn:
            return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM message")).scalar_one())
    finally:
        store.close()


def busy_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--think", default="0.5,2.0", help="an agent's pause between actions: MIN,MAX seconds"
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/deskterm-team-bench"))
    parser.add_argument("--corpus", type=Path, help="a maildir to import (default: generated)")
    parser.add_argument("--reuse", action="store_true", help="reuse the store (already built)")
    args = parser.parse_args()
    low, high = (float(v) for v in args.think.split(","))

    from mail_corpus import write_maildir

    corpus = args.corpus or args.workdir / f"maildir-{args.messages}"
    if not corpus.exists():
        write_maildir(corpus, args.messages)
    build(args.db, args.tickets, args.reuse)

    from deskterm.store import Store

    store = Store.open(args.db)
    base = store.queue.watermark()[1] or 0
    store.close()
    first_message = newest_message(args.db)

    env = {**os.environ, "DESKTERM_HOME": str(args.workdir / "home")}
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    ready = ctx.Barrier(args.agents + 1)
    procs = [
        ctx.Process(
            target=agent,
            args=(args.db, base, args.seconds, (low, high), f"agent{i}", i, out, ready),
        )
        for i in range(args.agents)
    ]
    load_before = os.getloadavg()
    for p in procs:
        p.start()
    ready.wait()
    cpu_before = busy_cpu()
    started = time.monotonic()
    importer = subprocess.Popen(
        [DESKTERM, "--db", args.db, "import", "mail", str(corpus), "--json"],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    import_output: list[str] = []
    import_ended: list[float] = []

    def wait_import() -> None:  # its own end, which may come before the agents'
        import_output.append(importer.communicate()[0])
        import_ended.append(time.monotonic())

    waiter = threading.Thread(target=wait_import)
    waiter.start()
    logs = [out.get(timeout=args.seconds + 120) for _ in procs]
    soak_end = time.monotonic()
    during_soak = newest_message(args.db) - first_message
    cpu_soak = busy_cpu()
    load_soak = os.getloadavg()
    for p in procs:
        p.join()
    waiter.join()
    import_out = import_output[0]
    import_seconds = import_ended[0] - started
    summary = json.loads(import_out) if import_out.strip() else {}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    agents_cpu = sum(log[4] for log in logs)

    latencies: dict[str, list[float]] = {}
    for lat, *_rest in logs:
        for action, values in lat.items():
            latencies.setdefault(action, []).extend(values)
    # The heartbeat runs in the background (the agent never waits on it): reported
    # on its own, not among the actions.
    everything = [v for a, values in latencies.items() if a != "heartbeat" for v in values]
    soak_seconds = soak_end - started
    busy, total = (a - b for a, b in zip(cpu_soak, cpu_before, strict=True))
    report = {
        "store": "postgresql" if "://" in args.db else "sqlite",
        "tickets": args.tickets,
        "agents": args.agents,
        "seconds": args.seconds,
        "think_s": [low, high],
        "actions": len(everything),
        "actions_per_s": round(len(everything) / soak_seconds, 1),
        "conflicts": sum(log[3] for log in logs),
        "all_ms": percentiles(everything),
        "by_action_ms": {a: percentiles(v) for a, v in latencies.items()},
        "import": {
            "messages_new": summary.get("messages_new"),
            "messages_failed": summary.get("messages_failed"),
            "seconds": round(import_seconds, 1),
            "msgs_per_s": round((summary.get("messages_new") or 0) / import_seconds),
            "during_soak_msgs": during_soak,
            "during_soak_msgs_per_s": round(during_soak / soak_seconds),
            "finished_during_soak": importer.returncode == 0 and import_seconds <= soak_seconds,
        },
        "cpu_s": {
            "agents": round(agents_cpu, 1),
            "importer": round(children.ru_utime + children.ru_stime - agents_cpu, 1),
            "machine_busy_pct_during_soak": round(100 * busy / total, 1),
        },
        "loadavg_1m": {"before": round(load_before[0], 2), "end_of_soak": round(load_soak[0], 2)},
        **verify(args.db, logs),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
