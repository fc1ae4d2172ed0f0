"""Console latency and memory on a big store, measured with Pilot (headless Textual).

    python bench/bench_tui.py --db /tmp/m1.db            # a store from `deskterm demo`
    python bench/bench_tui.py --db /tmp/m1.db --limits   # exit 1 when a target is missed
    python bench/bench_tui.py --db postgresql+psycopg://…/desk   # a team store

What is measured (targets from the console issue, on the 1M-ticket demo store):

* launch: wall time from spawning a fresh process running the real ``deskterm --db``
  entry point (typer, config, store, app) to the first frame that shows rows of the
  queue < 1 s;
* keypress: time from posting a key event to the first frame that shows its effect —
  ``j``/``k`` (cursor moved), ``enter`` (ticket screen with its conversation),
  ``escape`` (queue back) — median < 50 ms;
* filter: from Enter in the filter bar to the first frame with the filtered rows < 200 ms;
* memory: peak RSS after browsing 1,000 tickets (``]`` through the queue, each ticket
  loaded and drawn) and scrolling 3,000 rows < 250 MB.

"A frame" is a call of the app's ``_display`` with a compositor update: the headless
driver renders every widget line like a terminal would, it only skips the final write.
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
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGETS = {"launch_s": 1.0, "key_ms": 50.0, "filter_ms": 200.0, "rss_mb": 250.0}
FILTERS = (
    "status:open",
    "from:acme.com",
    "tag:vip priority:high",
    "queue:billing status:pending",
    "refund",
    '"charged twice" status:open',
)


def _app(db: str) -> Any:
    from deskterm.app import make_app
    from deskterm.desk import open_store
    from deskterm.settings import AgentSettings, Settings

    return make_app(open_store(db), Settings(agent=AgentSettings(name="Ana Souza")))


class Frames:
    """Records frames and the first one at which a condition holds."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.condition: Callable[[], bool] | None = None
        self.hit: float | None = None
        self.hit_cpu = 0.0
        self.cpu: list[float] = []  # process CPU seconds of each measurement
        original = app._display

        def spy(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            waiting = renderable is not None and self.condition is not None and self.hit is None
            if waiting and self.condition is not None and self.condition():
                self.hit = time.perf_counter()
                self.hit_cpu = time.process_time()

        app._display = spy

    async def measure(
        self, action: Callable[[], None], condition: Callable[[], bool], timeout: float = 10
    ) -> float:
        """Seconds from ``action`` to the first frame where ``condition`` holds."""
        self.hit = None
        self.condition = condition
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        while self.hit is None:
            if time.perf_counter() - start > timeout:
                raise TimeoutError("the screen never showed the expected state")
            await asyncio.sleep(0.0005)
        self.condition = None
        self.cpu.append(self.hit_cpu - start_cpu)
        return self.hit - start


def rss_mb() -> float:
    """Current resident memory of this process (the peak comes from getrusage)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def press(app: Any, key: str) -> Callable[[], None]:
    from textual import events

    char = key if len(key) == 1 else None
    return lambda: app.post_message(events.Key(key, char))


async def _settle(pilot: Any) -> None:
    """Let background work (pages, counts, read-ahead after its short timer) finish, so
    each measurement starts from a quiet app, as after an agent's natural pause."""
    await settle_workers(pilot.app)
    await pilot.pause(0.2)
    await settle_workers(pilot.app)
    await pilot.pause()


def launch_probe(db: str, spawned_at: float) -> None:
    """Child process: run the real ``deskterm --db DB`` entry point with the app's
    ``run`` swapped for a headless run that reports the first frame with rows."""
    from deskterm.app import DesktermApp

    async def probe(app: DesktermApp) -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            from deskterm.screens.ticket_table import TicketTable

            frames = Frames(app)

            def shown() -> bool:
                tables = app.screen.query(TicketTable)
                return bool(tables) and tables.first().row_count > 0

            frames.condition = shown
            deadline = time.monotonic() + 30
            while frames.hit is None and time.monotonic() < deadline:
                await asyncio.sleep(0.0005)
            rows = app.screen.query_one(TicketTable).row_count
            cpu = time.process_time()  # this process's CPU: what a busy machine cannot inflate
            print(json.dumps({"launch_s": time.time() - spawned_at, "cpu_s": cpu, "rows": rows}))
            await pilot.exit(None)

    DesktermApp.run = lambda self, *a, **k: asyncio.run(probe(self))  # type: ignore[method-assign]
    sys.argv = ["deskterm", "--db", db]
    from deskterm.cli import main

    main()


def measure_launch(db: str, runs: int) -> list[tuple[float, float]]:
    """Fresh processes; the agent is Ana Souza (a demo agent), so "My open" has rows."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text('[agent]\nname = "Ana Souza"\n', encoding="utf-8")
        env = {**os.environ, "DESKTERM_CONFIG": str(config)}
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, __file__, "--db", db, "--probe-launch", repr(time.time())],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            if not result["rows"]:
                raise RuntimeError("the queue never showed a row")
            times.append((result["launch_s"], result["cpu_s"]))
    return times


async def measure_session(db: str, keys: int, browse: int, scroll: int) -> dict[str, Any]:
    from textual.widgets import Input

    from deskterm.screens.queue import QueueScreen
    from deskterm.screens.ticket import TicketScreen
    from deskterm.screens.ticket_table import TicketTable

    app = _app(db)
    result: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        frames = Frames(app)
        queue = app.screen
        table = queue.query_one(TicketTable)
        await pilot.press("6")  # the "All" view: every ticket
        await _settle(pilot)
        result["rss_stages"] = {"launched": rss_mb()}

        move = []
        for n in range(keys):
            key = "j" if n % 4 < 2 else "k"
            before = table.cursor_row
            move.append(
                await frames.measure(press(app, key), lambda b=before: table.cursor_row != b)
            )
        result["jk_ms"] = [t * 1000 for t in move]
        result["jk_cpu_ms"] = [t * 1000 for t in frames.cpu[-len(move) :]]

        opens, backs, open_cpu, back_cpu = [], [], [], []
        for n in range(max(5, keys // 4)):
            await pilot.press("j")
            await _settle(pilot)
            number = table.current.number

            def opened(number: int = number) -> bool:
                screen = app.screen
                return (
                    isinstance(screen, TicketScreen)
                    and screen.number == number
                    and screen.data is not None
                )

            opens.append(await frames.measure(press(app, "enter"), opened))
            open_cpu.append(frames.cpu[-1])
            await _settle(pilot)
            backs.append(
                await frames.measure(
                    press(app, "escape"), lambda: isinstance(app.screen, QueueScreen)
                )
            )
            back_cpu.append(frames.cpu[-1])
            await _settle(pilot)
            del n
        result["open_ms"] = [t * 1000 for t in opens]
        result["back_ms"] = [t * 1000 for t in backs]
        result["open_cpu_ms"] = [t * 1000 for t in open_cpu]
        result["back_cpu_ms"] = [t * 1000 for t in back_cpu]

        filters = []
        for query in FILTERS:
            await pilot.press("slash")
            bar = queue.query_one("#filter", Input)
            bar.value = query
            await _settle(pilot)
            generation = table._generation

            def filtered(generation: int = generation) -> bool:
                return table._generation > generation and not table.loading_page

            wall = await frames.measure(press(app, "enter"), filtered)
            filters.append((query, wall * 1000, frames.cpu[-1] * 1000))
            await _settle(pilot)
        result["filter_ms"] = filters
        result["rss_stages"]["keys and filters"] = rss_mb()
        await pilot.press("slash")
        queue.query_one("#filter", Input).value = ""
        await pilot.press("enter")
        await _settle(pilot)

        # Memory: scroll far down the queue (pages come and go), then browse tickets.
        start = time.perf_counter()
        for _ in range(scroll):
            await pilot.press("j")
        await _settle(pilot)
        result["scroll_rows"] = scroll
        result["scroll_s"] = time.perf_counter() - start
        result["window_rows"] = table.row_count
        result["rss_stages"]["scrolled"] = rss_mb()

        await pilot.press("enter")
        await _settle(pilot)
        start = time.perf_counter()
        browsed = 1
        while browsed < browse:
            await pilot.press("right_square_bracket")
            await settle_workers(pilot.app)
            await pilot.pause()
            browsed += 1
        result["browsed"] = browsed
        result["browse_s"] = time.perf_counter() - start
        result["last_ticket"] = getattr(app.screen, "number", None)
        result["rss_stages"]["browsed"] = rss_mb()
        await pilot.press("escape")
        await _settle(pilot)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="a store built by `deskterm demo`")
    parser.add_argument("--keys", type=int, default=60, help="j/k presses to time")
    parser.add_argument("--browse", type=int, default=1000, help="tickets to open with ]")
    parser.add_argument("--scroll", type=int, default=3000, help="rows to move down")
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--limits", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON")
    parser.add_argument("--probe-launch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if "://" not in args.db and not Path(args.db).exists():
        parser.error(f"{args.db} does not exist; build it with: deskterm demo --db PATH --no-open")
    if args.probe_launch:
        launch_probe(args.db, float(args.probe_launch))
        return 0

    launches = measure_launch(args.db, args.launches)
    session = asyncio.run(measure_session(args.db, args.keys, args.browse, args.scroll))
    med = statistics.median
    summary = {
        "launch_s": med([w for w, _ in launches]),
        "jk_ms": med(session["jk_ms"]),
        "open_ms": med(session["open_ms"]),
        "back_ms": med(session["back_ms"]),
        "filter_ms": max(ms for _, ms, _ in session["filter_ms"]),
        "rss_mb": session["rss_mb"],
    }
    if args.json:
        print(json.dumps({"launches": launches, **session, "summary": summary}, indent=2))
    walls, cpus = [w for w, _ in launches], [c for _, c in launches]
    print(
        f"launch to first queue page: median {summary['launch_s']:.2f} s "
        f"(min {min(walls):.2f}, max {max(walls):.2f}, {len(walls)} runs; "
        f"CPU median {med(cpus):.2f} s)"
    )
    for name in ("jk", "open", "back"):
        values, cpu = session[f"{name}_ms"], session[f"{name}_cpu_ms"]
        print(
            f"key {name:<5} median {med(values):6.1f} ms  p90 "
            f"{sorted(values)[int(len(values) * 0.9)]:6.1f} ms  ({len(values)} presses; "
            f"CPU median {med(cpu):5.1f} ms)"
        )
    for query, ms, cpu_ms in session["filter_ms"]:
        print(f"filter {query!r:<32} {ms:6.1f} ms  (CPU {cpu_ms:5.1f} ms)")
    print(
        f"scrolled {session['scroll_rows']} rows in {session['scroll_s']:.1f} s "
        f"(table holds {session['window_rows']} rows)"
    )
    print(
        f"browsed {session['browsed']} tickets in {session['browse_s']:.1f} s "
        f"(last #{session['last_ticket']})"
    )
    stages = ", ".join(f"{k} {v:.0f}" for k, v in session["rss_stages"].items())
    print(f"peak RSS {summary['rss_mb']:.0f} MB (current after: {stages})")
    missed = [
        name
        for name, value, limit in (
            ("launch", summary["launch_s"], TARGETS["launch_s"]),
            ("j/k", summary["jk_ms"], TARGETS["key_ms"]),
            ("open", summary["open_ms"], TARGETS["key_ms"]),
            ("back", summary["back_ms"], TARGETS["key_ms"]),
            ("filter", summary["filter_ms"], TARGETS["filter_ms"]),
            ("rss", summary["rss_mb"], TARGETS["rss_mb"]),
        )
        if value > limit
    ]
    if missed:
        print(f"over target: {', '.join(missed)}", file=sys.stderr)
    return 1 if missed and args.limits else 0


async def settle_workers(app: Any) -> None:
    """Wait for the console's finishing workers (not its live feed, which never ends)."""
    busy = app.work_in_flight()
    if busy:
        await app.workers.wait_for_complete(busy)


if __name__ == "__main__":
    raise SystemExit(main())
