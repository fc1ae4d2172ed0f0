"""Metrics benchmark: ``deskterm report`` and the dashboard on a generated demo store.

Builds (or reuses) a demo store of ``--tickets`` tickets with the demo generator in a
child process, then measures, for the 90 days before now:

* ``report --json`` and ``report --json --by agent`` as whole processes (the real
  ``deskterm`` entry point: start-up, store open, queries, JSON), median of 3;
* ``store.metrics.report`` in process (warm), median of 5, for no grouping, agent, week;
* the dashboard, headless: from the ``D`` key to the frame with its numbers (first
  paint), from ``d`` to the frame of the next range pressed at once (range switch,
  cold), and again once the prefetch worker is done (prefetched switch), median of 3;
* with ``--pg URL`` (a server URL; a database ``deskterm_bench_<N>`` is created there
  and filled by the same generator), or ``--pg-store URL`` (an existing store database,
  used as it is), the same report on PostgreSQL.

Whole-process runs report wall time and the child's CPU seconds (user + sys); the
load average is recorded before and after. The store is opened (and upgraded) once
before anything is timed.

    python bench/bench_report.py --tickets 100000 [--db PATH] [--reuse] [--pg URL]
        [--pg-store URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BUILD = """
import json, resource, sys, time
from deskterm.demo import DemoBuilder
from deskterm.store import Store
store = Store.open(sys.argv[1])
start = time.perf_counter()
report = DemoBuilder(store, tickets=int(sys.argv[2]), seed=7, batch=5000).build()
print(json.dumps({"tickets": report.tickets, "messages": report.messages,
                  "events": report.events, "seconds": time.perf_counter() - start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build(target: str, tickets: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", BUILD, target, str(tickets)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    return result


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def whole_process(target: str, *extra: str, runs: int = 3) -> dict[str, float]:
    """Median wall milliseconds and CPU seconds of ``deskterm report`` processes."""
    exe = str(Path(sys.executable).with_name("deskterm"))
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [exe, "--db", target, "report", "--days", "90", "--json", *extra],
            check=True, capture_output=True, env=os.environ,
        )  # fmt: skip
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"wall_ms": statistics.median(walls), "cpu_s": round(statistics.median(cpus), 2)}


def opened(target: str) -> None:
    """Open the store once (upgrading it and filling its facts) before any timing."""
    from deskterm.store import Store

    Store.open(target).close()


def in_process(target: str) -> dict[str, float]:
    """Warm reports in one process, each read whole: the parts a process keeps between
    reports (``store/metrics_memo.py``) are dropped before each run."""
    from deskterm.store import Store
    from deskterm.store.metrics_memo import PeriodMemo

    store = Store.open(target)
    until = datetime.now(UTC)
    since = until - timedelta(days=90)

    def whole(by: str | None) -> Any:
        store.metrics.memo = PeriodMemo()
        return store.metrics.report(since, until, by)

    out = {by or "none": median_ms(lambda b=by: whole(b), runs=5) for by in (None, "agent", "week")}
    store.close()
    return out


async def dashboard(target: str) -> dict[str, float]:
    """First paint and range switch: key press to the frame showing the new numbers.

    Keys are posted to the app directly, not with ``pilot.press``: that waits until
    the process is idle, and the dashboard's other reports and its prefetch keep
    threads busy long after the frame is drawn (at 1M it counted the 90-day prefetch
    into the first paint: 3.0 s for a frame drawn at 0.75 s)."""
    from deskterm.app import make_app
    from deskterm.screens.dashboard import DashboardScreen
    from deskterm.settings import AgentSettings, Settings
    from deskterm.store import Store

    paint, switch, prefetched = [], [], []
    for _ in range(3):
        app = make_app(Store.open(target), Settings(agent=AgentSettings(name="Ana Souza")))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            start = time.perf_counter()
            _key(app, "D")
            while not isinstance(app.screen, DashboardScreen) or app.screen.data is None:
                await asyncio.sleep(0.002)
            paint.append((await _drawn(app.screen) - start) * 1000)
            screen = app.screen
            # Cold: d at once, while the range's other reports are still being read.
            switch.append(await _switch(app, screen))
            # Prefetched: once every worker (the prefetch of 7 and 30 days) is done.
            while any(w.is_running for w in app.workers if w.group != "live"):
                await asyncio.sleep(0.01)
            prefetched.append(await _switch(app, screen))
    return {
        "first_paint_ms": statistics.median(paint),
        "range_switch_ms": statistics.median(switch),
        "range_switch_prefetched_ms": statistics.median(prefetched),
    }


def _key(app: Any, key: str) -> None:
    """A key press, as the terminal driver delivers it."""
    from textual import events

    app.post_message(events.Key(key, key))


async def _drawn(screen: Any) -> float:
    """When the frame after the current state is on screen."""
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    screen.call_after_refresh(lambda: done.set_result(time.perf_counter()))
    screen.refresh()
    return await done


async def _switch(app: Any, screen: Any) -> float:
    """From ``d`` to the frame with the next range's week report (the tiles and charts)."""
    before = screen.data
    start = time.perf_counter()
    _key(app, "d")
    while screen.data is None or screen.data is before:
        await asyncio.sleep(0.002)
    return (await _drawn(screen) - start) * 1000


def pg_database(server: str, tickets: int) -> tuple[str, bool]:
    """A database for the bench on ``server``; whether it already existed."""
    import sqlalchemy as sa

    name = f"deskterm_bench_{tickets}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).first()
        if not exists:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    return url, bool(exists)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="reuse an existing store")
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL")
    parser.add_argument("--pg-store", default=None, help="an existing PostgreSQL store URL")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = args.db or Path(f"/tmp/metrics-bench-{args.tickets}.db")
    results: dict[str, Any] = {"tickets": args.tickets, "load_before": os.getloadavg()}
    if not args.no_sqlite:
        if not (args.reuse and db.exists()):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            results["build"] = build(str(db), args.tickets)
        opened(str(db))
        results["sqlite"] = {
            "report_json": whole_process(str(db)),
            "report_by_agent": whole_process(str(db), "--by", "agent"),
            "in_process_ms": in_process(str(db)),
            "dashboard": asyncio.run(dashboard(str(db))),
        }
    url = args.pg_store
    if args.pg and not url:
        url, existed = pg_database(args.pg, args.tickets)
        if not (args.reuse and existed):
            results["pg_build"] = build(url, args.tickets)
    if url:
        opened(url)
        results["postgresql"] = {
            "report_json": whole_process(url),
            "report_by_agent": whole_process(url, "--by", "agent"),
            "in_process_ms": in_process(url),
        }
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
