"""Store benchmark on a generated demo store (default 1M tickets, ~3M messages).

Builds the store with ``deskterm demo``'s generator in a child process (to measure its
peak RSS and rows/s), then measures in-process through the store API: queue pages
(first and deep keyset pages, one filter at a time), full-text search (newest 50 hits
for a common and a rare word), ticket detail, counts, store size; and ``deskterm
--help`` wall time. Prints a Markdown table for docs/performance.md.

    python bench/bench_store.py --tickets 1000000 [--db /tmp/bench-1m.db] [--reuse]

``--db`` may also be a PostgreSQL URL (an empty database, or ``--reuse`` one built
before): the same measurements, for the team store.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BUILD = """
import json, resource, sys, time
from deskterm.demo import DemoBuilder
from deskterm.desk import open_store
store = open_store(sys.argv[1])
start = time.perf_counter()
report = DemoBuilder(store, tickets=int(sys.argv[2]), seed=7, batch=5000).build()
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"tickets": report.tickets, "messages": report.messages,
                  "events": report.events, "customers": report.customers,
                  "seconds": seconds, "peak_rss_mb": rss}))
"""


def timed(fn: Callable[[], Any], runs: int = 30) -> tuple[float, Any]:
    """Median milliseconds of ``fn`` over ``runs`` calls (after one warm-up)."""
    result = fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="file path or PostgreSQL URL")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing store")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = args.db or f"/tmp/deskterm-bench-{args.tickets}.db"
    server = "://" in db
    results: dict[str, Any] = {"tickets_requested": args.tickets, "store": db}

    if not (args.reuse and (server or Path(db).exists())):
        for suffix in () if server else ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        out = subprocess.run(
            [sys.executable, "-c", BUILD, str(db), str(args.tickets)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        build = json.loads(out.splitlines()[-1])
        rows = build["tickets"] + build["messages"] + build["events"]
        build["rows_per_s"] = rows / build["seconds"]
        results["build"] = build
    from sqlalchemy import text

    from deskterm.desk import open_store
    from deskterm.query import parse_query

    store = open_store(db)
    if server:
        with store.db.engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        results["store_mb"] = int(size or 0) / 2**20
    else:
        files = [Path(f"{db}{s}") for s in ("", "-wal")]
        results["store_mb"] = sum(f.stat().st_size for f in files if f.exists()) / 2**20
    queue: dict[str, dict[str, float]] = {}
    for query in ("", "status:open", "status:new,open", "priority:urgent", "assignee:none",
                  "assignee:Ana Souza", "queue:billing", "channel:telegram", "tag:legal",
                  "tag:vip", "from:acme.com", "from:#17", "from:+14150000003"):  # fmt: skip
        f = parse_query('assignee:"Ana Souza"' if query == "assignee:Ana Souza" else query)
        first_ms, page = timed(lambda f=f: store.queue.list_tickets(f, limit=50))
        cursor = page.next
        for _ in range(200):  # walk 10,000 rows deep, then time the next page there
            if cursor is None:
                break
            cursor = store.queue.list_tickets(f, after=cursor, limit=50).next
        deep_ms = timed(lambda f=f, c=cursor: store.queue.list_tickets(f, after=c, limit=50))[0]
        count_ms, count = timed(lambda f=f: store.queue.count_tickets(f), runs=5)
        queue[query or "(all)"] = {"first_ms": first_ms, "deep_ms": deep_ms,
                                    "count_ms": count_ms, "count": count}  # fmt: skip
    results["queue"] = queue

    search: dict[str, dict[str, float]] = {}
    with store.db.engine.connect() as conn:
        rare = conn.execute(
            text("SELECT subject FROM ticket WHERE subject LIKE :p ORDER BY id LIMIT 1 OFFSET 100"),
            {"p": "%ORD-%"},  # bound: psycopg reads a literal % as a placeholder
        ).scalar_one()
    order = rare[rare.index("ORD-") :].split()[0]
    for word in ("account", "refund", order, "xylophone", "acc*", "refund OR chargeback",
                 "refund -account", '"charged twice"'):  # fmt: skip
        ms, _ = timed(lambda w=word: store.queue.search_messages(w, limit=50))
        count = store.queue.count_search(word)
        search[word] = {"newest50_ms": ms, "hits": count}
    ms, rows = timed(lambda: store.queue.list_tickets(parse_query("account"), limit=50))
    search["queue filter 'account'"] = {"newest50_ms": ms, "hits": len(rows.rows)}
    results["search"] = search

    numbers = [1, args.tickets // 2, args.tickets]
    show = [timed(lambda n=n: store.tickets.get_ticket(n))[0] for n in numbers]
    results["ticket_show_ms"] = statistics.median(show)
    results["customer_profile_ms"] = timed(lambda: store.customers.get_customer(1))[0]
    with store.db.engine.connect() as conn:
        results["messages"] = conn.exec_driver_sql("SELECT max(id) FROM message").scalar()
    results["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    help_times = []
    exe = str(Path(sys.executable).with_name("deskterm"))
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run([exe, "--help"], check=True, capture_output=True, env=os.environ)
        help_times.append(time.perf_counter() - start)
    results["help_ms"] = statistics.median(help_times) * 1000

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_markdown(results)
    return 0


def print_markdown(r: dict[str, Any]) -> None:
    print(f"Store: {r['tickets_requested']:,} tickets, {r['messages']:,} messages, "
          f"{r['store_mb']:.0f} MB on disk.\n")  # fmt: skip
    if "build" in r:
        b = r["build"]
        print(f"Build: {b['seconds']:.0f} s, {b['rows_per_s']:,.0f} rows/s "
              f"(tickets+messages+events), peak RSS {b['peak_rss_mb']:.0f} MB.\n")  # fmt: skip
    print("| queue view | first page | page 10,000 rows deep | count | rows |")
    print("|---|---|---|---|---|")
    for name, q in r["queue"].items():
        print(f"| `{name}` | {q['first_ms']:.2f} ms | {q['deep_ms']:.2f} ms | "
              f"{q['count_ms']:.1f} ms | {q['count']:,} |")  # fmt: skip
    print("\n| search | newest 50 | hits |")
    print("|---|---|---|")
    for word, s in r["search"].items():
        print(f"| `{word}` | {s['newest50_ms']:.2f} ms | {s['hits']:,} |")
    print(f"\nTicket with messages, customer, HEARD: {r['ticket_show_ms']:.2f} ms; "
          f"customer profile: {r['customer_profile_ms']:.2f} ms; "
          f"bench process peak RSS {r['bench_peak_rss_mb']:.0f} MB; "
          f"`deskterm --help` {r['help_ms']:.0f} ms.")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
