"""Triage-at-speed benchmark on a generated demo store.

Measures on a store built like bench_store.py's (``--tickets``, default 1M; reuse one
with ``--db … --reuse``): "mark all" of the largest status view (a count on an
index; nothing loaded), a bulk status change of 10k tickets by number with its events
and SLA clocks, its undo, and ``deskterm tickets update -q`` on about 10k tickets as a
separate process (start-up included) followed by ``deskterm undo``. Prints a Markdown
table for docs/performance.md.

    python bench/bench_triage.py --tickets 300000 --db /tmp/triage.db [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_store import BUILD, timed

CPU: dict[str, float] = {}  # CPU seconds (user + sys) of each timed step


def seconds(fn: Any, name: str = "") -> tuple[float, Any]:
    """Wall seconds of ``fn``; its CPU seconds, this process's and its children's
    (the CLI runs), go to ``CPU[name]``."""
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    start = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - start
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    CPU[name] = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime
                    for a, b in zip(after, before, strict=True))  # fmt: skip
    return wall, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="reuse an existing store")
    parser.add_argument("--bulk", type=int, default=10_000, help="tickets per bulk change")
    args = parser.parse_args()
    db = args.db or Path(f"/tmp/deskterm-bench-{args.tickets}.db")
    if not (args.reuse and db.exists()):
        db.unlink(missing_ok=True)
        subprocess.run([sys.executable, "-c", BUILD, str(db), str(args.tickets)], check=True)

    from sqlalchemy import func, select

    from deskterm.query import parse_query
    from deskterm.store import Store
    from deskterm.store.bulk_ops import Changes, Selection
    from deskterm.store.models import Ticket

    store = Store.open(db)
    r: dict[str, Any] = {"store": str(db), "tickets": store.tickets.ticket_count()}
    # "mark all" of the largest status view
    sizes = {
        s: store.queue.count_tickets(parse_query(f"status:{s}"))
        for s in ("solved", "closed", "open", "pending", "new")
    }
    biggest = max(sizes, key=lambda s: sizes[s])
    view = parse_query(f"status:{biggest}")
    r["mark_all_view"] = f"status:{biggest}"
    r["mark_all_ms"], r["mark_all_count"] = timed(lambda: store.bulk_ops.count(view), runs=10)

    # bulk status change of N tickets by number (as marks from the console)
    with store.db.read() as session:
        ids = list(
            session.execute(
                select(Ticket.id)
                .where(Ticket.status == "open")
                .order_by(Ticket.id)
                .limit(args.bulk)  # type: ignore[arg-type]
            ).scalars()
        )
    r["bulk_n"] = len(ids)
    r["bulk_s"], res = seconds(
        lambda: store.bulk_ops.apply(
            Selection(numbers=dict.fromkeys(ids)), Changes(status="solved"), "bench"
        ),
        "bulk",
    )
    r["bulk_events"] = res.events
    r["undo_s"], undone = seconds(lambda: store.undo.undo("bench"), "undo")
    r["undo_changed"] = undone.changed

    # tickets update -q on about N tickets, in a separate process, then undo
    with store.db.read() as session:
        queues = session.execute(
            select(Ticket.queue, Ticket.priority, func.count()).group_by(  # type: ignore[call-overload]
                Ticket.queue, Ticket.priority
            )
        ).all()
    q, p, n = min(queues, key=lambda row: abs(row[2] - args.bulk))
    query = f"queue:{q} priority:{p}"
    store.close()
    cli = [sys.executable, "-c", "from deskterm.cli import main; main()", "--db", str(db)]
    env = {**os.environ, "DESKTERM_HOME": str(db.parent / "bench-home")}
    r["cli_query"], r["cli_n"] = query, n
    r["cli_s"], out = seconds(
        lambda: subprocess.run(
            [*cli, "tickets", "update", "-q", query, "--add-tag", "bench",
             "--set", "status=pending", "--json"],
            capture_output=True, text=True, env=env, check=True,
        ),
        "cli",
    )  # fmt: skip
    r["cli_changed"] = json.loads(out.stdout)["changed"]
    r["cli_undo_s"], _ = seconds(
        lambda: subprocess.run([*cli, "undo"], capture_output=True, env=env, check=True),
        "cli_undo",
    )
    r["cpu_s"] = CPU
    r["load_average"] = os.getloadavg()[0]
    print(json.dumps(r, indent=2))
    print()
    print(f"Store: {r['tickets']:,} tickets ({db.name}); load average "
          f"{r['load_average']:.1f}.\n")  # fmt: skip
    rows = [
        (f"Mark all of `{r['mark_all_view']}` ({r['mark_all_count']:,} tickets)",
         f"{r['mark_all_ms']:.1f} ms", "≤ 200 ms"),
        (f"Bulk status change of {r['bulk_n']:,} tickets ({r['bulk_events']:,} events)",
         f"{r['bulk_s']:.2f} s ({CPU['bulk']:.2f} s CPU)", "≤ 3 s"),
        (f"Its undo ({r['undo_changed']:,} tickets)",
         f"{r['undo_s']:.2f} s ({CPU['undo']:.2f} s CPU)", "≤ 3 s"),
        (f"`tickets update -q \"{query}\"` ({r['cli_changed']:,} tickets, status and "
         "tag, process start-up included)", f"{r['cli_s']:.2f} s ({CPU['cli']:.2f} s CPU)",
         "≤ 3 s"),
        ("`deskterm undo` of it", f"{r['cli_undo_s']:.2f} s ({CPU['cli_undo']:.2f} s CPU)",
         "≤ 3 s"),
    ]  # fmt: skip
    print("| Operation | Result | Target |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
