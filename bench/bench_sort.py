"""Queue sorting benchmark: every order of the built-in views on a big store.

For each view (all tickets and the console's built-in views) and each order
(activity, created, priority, SLA due, customer, reminder), through the store API:
the first page, a page 10,000 rows deep (walked there page by page, as the console
scrolls), the page above that one (the console paging up), and the last page (``G``).
Pages are 50 rows; each time is the median of ``--runs`` calls after a warm-up. Prints
a Markdown table for docs/performance.md, and the process CPU time.

    python bench/bench_sort.py --db /work/bench-stores/sort-1m.db

The store must exist (bench_store.py builds one; opening it migrates it). ``--db``
may be a PostgreSQL URL.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from bench_store import timed

VIEWS = ("all", "open", "unassigned", "pending", "sla", "due")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="file path or PostgreSQL URL")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--deep", type=int, default=200, help="pages walked before 'deep'")
    parser.add_argument("--views", default=",".join(VIEWS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from deskterm.desk import open_store
    from deskterm.views import find_view
    from deskterm.vocab import SORTS

    store = open_store(args.db)
    queue = store.queue
    cpu0, wall0 = time.process_time(), time.perf_counter()
    results: list[dict[str, Any]] = []
    for name in args.views.split(","):
        f = find_view("nobody", name).filter
        count = queue.count_tickets(f)
        for sort in SORTS:
            first_ms, page = timed(
                lambda f=f, s=sort: queue.list_tickets(f, None, 50, s), args.runs
            )
            cursor, walked = page.next, 1
            while cursor is not None and walked < args.deep:
                cursor, walked = queue.list_tickets(f, cursor, 50, sort).next, walked + 1
            row: dict[str, Any] = {"view": name, "sort": sort, "tickets": count,
                                   "first_ms": first_ms, "deep_rows": walked * 50}  # fmt: skip
            if cursor is not None:
                row["deep_ms"] = timed(
                    lambda f=f, s=sort, c=cursor: queue.list_tickets(f, c, 50, s), args.runs
                )[0]
                row["up_ms"] = timed(
                    lambda f=f, s=sort, c=cursor: queue.list_tickets_before(f, c, 50, s),
                    args.runs,
                )[0]
            row["last_ms"] = timed(
                lambda f=f, s=sort: queue.list_tickets_before(f, None, 50, s),
                max(3, args.runs // 3),
            )[0]
            results.append(row)
            print(json.dumps(row), flush=True)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if args.json:
        print(json.dumps({"rows": results, "cpu_s": cpu, "wall_s": wall}, indent=2))
        return 0
    load = os.getloadavg()[0]
    print(f"\nStore: {args.db}; {wall:.0f} s wall, {cpu:.0f} s CPU; load average {load:.1f}.\n")
    print("| view | order | tickets | first page | 10,000 rows deep | page above it | last page |")
    print("|---|---|---|---|---|---|---|")
    for r in results:

        def ms(key: str, r: dict[str, Any] = r) -> str:
            return f"{r[key]:.2f} ms" if key in r else "—"

        print(f"| {r['view']} | {SORTS[r['sort']]} | {r['tickets']:,} | {ms('first_ms')} | "
              f"{ms('deep_ms')} | {ms('up_ms')} | {ms('last_ms')} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
