"""The dashboard: KPI tiles against the previous period, charts and a per-group table.

Workers read three reports from ``store.metrics``: the range by week first (drawn as
soon as it arrives), then at once the previous range (the tiles' changes) and the range
by the chosen grouping. The numbers are those of ``deskterm report --json`` for the
same range. Every day range ends at one moment (kept while the store stands still), so
the weeks two ranges share are read once. Once a range is drawn, a worker prefetches
the other day ranges (see ``dashboard_cache`` for when a prefetched range may be shown),
so ``d`` is quick.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from deskterm.report_view import GROUP_COLUMNS, GROUP_HEADS, summary_rows
from deskterm.screens import dashboard_parts as parts
from deskterm.screens.base import DeskNode
from deskterm.screens.dashboard_cache import MAX_AGE, NAMES, Cached, ReportCache
from deskterm.screens.widgets import KeyBar, TitleBar
from deskterm.store.errors import Cancelled
from deskterm.store.read_cancel import ReadCancel
from deskterm.textsafe import display

RANGES = (7, 30, 90)
GROUPS = (None, "channel", "queue", "agent", "tier")


class DashboardScreen(DeskNode, Screen[None]):
    """How the desk is doing over the last 7, 30 or 90 days."""

    DEFAULT_CSS = """
    DashboardScreen #dash-body { height: 1fr; }
    DashboardScreen #dash-range { height: 1; padding: 0 1; }
    DashboardScreen #tiles { grid-size: 4; grid-gutter: 0 1; height: auto; padding: 0 1; }
    DashboardScreen .tile { height: auto; border-left: wide $panel-lighten-2; padding: 0 1; }
    DashboardScreen .tile.good { border-left: wide $success; }
    DashboardScreen .tile.bad { border-left: wide $error; }
    DashboardScreen PlotextPlot { height: 12; margin: 1 1 0 1; }
    DashboardScreen #heatmap { height: auto; margin: 1 1 0 1; }
    DashboardScreen #groups { height: auto; max-height: 16; margin: 1 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("d", "days", "Range: 7/30/90 days"),
        Binding("c", "custom", "Range: custom (days, or FROM..TO)", show=False),
        Binding("g", "group", "Group by"),
        Binding("r", "reload", "Refresh", show=False),
        Binding("j", "scroll(1)", "Scroll down", show=False),
        Binding("k", "scroll(-1)", "Scroll up", show=False),
        Binding("question_mark", "app.help", "Help", key_display="?"),
    ]

    def __init__(self, days: int = 30) -> None:
        super().__init__()
        self.days = days
        self.by: str | None = None
        self.custom: tuple[datetime, datetime] | None = None  # a typed range, until d
        self.data: dict[str, Any] | None = None  # the range, by week (what is shown)
        self.previous: dict[str, Any] | None = None
        self.groups: dict[str, Any] | None = None
        self.reading: tuple[datetime, datetime] | None = None  # the range being read
        self.cache = ReportCache()  # prefetched ranges
        self.as_of: tuple[datetime, float, int] | None = None  # (until, read at, serial)
        self.reads = ReadCancel()  # the shown range's reports and prefetch, while running

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="dash-body"):
            yield Static(id="dash-range")
            with Grid(id="tiles"):
                for _ in parts.TILES:
                    yield parts.Tile(classes="tile")
            yield PlotextPlot(id="chart-first-response")
            yield PlotextPlot(id="chart-channels")
            yield PlotextPlot(id="chart-backlog")
            yield PlotextPlot(id="chart-csat")
            yield PlotextPlot(id="chart-causes")
            yield Static(id="heatmap")
            yield DataTable(id="groups", show_cursor=False, zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#groups").display = False
        self.load()

    def on_unmount(self) -> None:
        self.reads.cancel()  # nobody waits for the reports any more: the cores are free

    def bounds(self) -> tuple[datetime, datetime]:
        """The shown range: a custom one, or the last ``days`` days up to the anchor."""
        if self.custom is not None:
            return self.custom
        until = self.until()
        return until - timedelta(days=self.days), until

    def until(self) -> datetime:
        """Where the day ranges end: the console's clock when first asked, kept while
        the store stands still (up to ``MAX_AGE``), so every range and grouping is as
        of one moment and the weeks they share are read once (``store.metrics``)."""
        now, serial = time.monotonic(), self.desk.change_serial
        if self.as_of is None or self.as_of[2] != serial or now - self.as_of[1] > MAX_AGE:
            self.as_of = (self.desk.clock(), now, serial)
        return self.as_of[0]

    def load(self) -> None:
        """Show the range: from the cache when prefetched and still true, else read it
        (the week report first, then the previous period and the groups)."""
        # The cores are the new range's: stop the reads of the one left and the prefetch.
        self.reads.cancel()
        self.reads = ReadCancel()
        self.workers.cancel_group(self, "dashboard-prefetch")
        key = (self.days, self.by)
        hit = self.cache.get(key, self.desk.change_serial) if self.custom is None else None
        bounds = hit.bounds if hit is not None else self.bounds()
        self.reading = bounds
        self.data = self.previous = None
        self._title(bounds[1], "loading…")
        self._read_now(*bounds, hit, self.reads)

    def _prefetch_next(self) -> None:
        """Once the range is drawn, read the other day ranges in the background, the
        one ``d`` goes to first."""
        if self.custom is not None:
            return
        at = RANGES.index(self.days) if self.days in RANGES else -1
        wanted = [RANGES[(at + i) % len(RANGES)] for i in range(1, len(RANGES))]
        todo = [d for d in wanted if d != self.days and (d, self.by) not in self.cache]
        if todo:
            self._prefetch(todo, self.by, self.desk.change_serial, self.until(), self.reads)

    @work(thread=True, exclusive=True, group="dashboard-prefetch", exit_on_error=False)
    def _prefetch(
        self, days: list[int], by: str | None, serial: int, until: datetime, reads: ReadCancel
    ) -> None:
        worker = get_current_worker()
        metrics = self.desk.store.metrics
        try:
            for n in days:
                cached = Cached((until - timedelta(days=n), until), serial, metrics.mark())
                for name in NAMES:
                    cached.reports[name] = self._report(name, *cached.bounds, by, reads)
                if worker.is_cancelled:
                    return
                self.app.call_from_thread(self.cache.keep, (n, by), cached, self.desk.change_serial)
        except Cancelled:
            return

    def _report(
        self, name: str, since: datetime, until: datetime, by: str | None, reads: ReadCancel
    ) -> Any:
        """One of the three reports a range shows (live reads and prefetch alike)."""
        metrics = self.desk.store.metrics
        if name == "data":
            # The weekly charts need first response and satisfaction per week only.
            parts_ = ("first_response", "satisfaction")
            return metrics.report(since, until, "week", group_parts=parts_, cancel=reads)
        if name == "previous":
            return metrics.report(since - (until - since), since, cancel=reads)
        return metrics.report(since, until, by, cancel=reads) if by else None

    def _read(self, fresh: Cached, name: str, by: str | None, reads: ReadCancel) -> None:
        """Read one report of the range in this worker and show it (nothing once the
        range was left: its reads were cancelled)."""
        try:
            report = self._report(name, *fresh.bounds, by, reads)
        except Cancelled:
            return
        self._arrived(fresh, name, report)

    @work(thread=True, exclusive=True, group="dashboard-now", exit_on_error=False)
    def _read_now(
        self, since: datetime, until: datetime, hit: Cached | None, reads: ReadCancel
    ) -> None:
        mark = self.desk.store.metrics.mark()
        if hit is not None and hit.mark == mark:
            for name in NAMES:
                self._arrived(hit, name, hit.reports[name])
            return
        if hit is not None:  # the store moved under the cache: the range as of now
            self.app.call_from_thread(self._stale)
            return
        self._read(Cached((since, until), self.desk.change_serial, mark), "data", None, reads)

    def _stale(self) -> None:
        self.cache.drop()
        self.load()

    @work(thread=True, exclusive=True, group="dashboard-before", exit_on_error=False)
    def _read_before(self, since: datetime, until: datetime, reads: ReadCancel) -> None:
        fresh = Cached((since, until), self.desk.change_serial, self.desk.store.metrics.mark())
        self._read(fresh, "previous", None, reads)

    @work(thread=True, exclusive=True, group="dashboard-groups", exit_on_error=False)
    def _read_groups(
        self, since: datetime, until: datetime, by: str | None, reads: ReadCancel
    ) -> None:
        fresh = Cached((since, until), self.desk.change_serial, self.desk.store.metrics.mark())
        self._read(fresh, "groups", by, reads)

    def _arrived(self, fresh: Cached, name: str, report: Any) -> None:
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, fresh, name, report)

    def _show(self, fresh: Cached, name: str, report: Any) -> None:
        """Draw one report of the range being read (a late one of an older range is
        dropped) and cache it; once all three are in, prefetch the other ranges."""
        bounds, cached = fresh.bounds, fresh.complete
        if bounds != self.reading:
            return
        setattr(self, name, report)
        if self.custom is None:
            entry = self.cache.add((self.days, self.by), fresh, name, report,
                                   self.desk.change_serial)  # fmt: skip
            if entry.complete:
                self._prefetch_next()
        if name == "groups":
            self._show_groups(report)
            return
        if self.data is not None:
            self._show_tiles(self.data, self.previous)
        if name == "data":
            self._show_charts(bounds[1], report)
            if not cached:  # read now: read the rest
                # Then what only adds to it, so the range has the cores to itself first.
                self._read_before(*bounds, self.reads)
                self._read_groups(*bounds, self.by, self.reads)

    def _show_tiles(self, now: dict[str, Any], before: dict[str, Any] | None) -> None:
        texts = parts.tile_texts(now, before or now)
        for tile, (title, value, moved, mood) in zip(self.query(parts.Tile), texts, strict=True):
            tile.show(
                title,
                value,
                moved if before is not None else "…",
                mood if before is not None else "flat",
            )

    def _show_charts(self, until: datetime, now: dict[str, Any]) -> None:
        grouped = f" · by {self.by}" if self.by else ""
        self._title(until, f"▲▼ vs the {self.days} days before{grouped}")
        weeks = now.get("groups", [])
        parts.draw_weekly(self.plot("first-response"), "First response by week (median, hours)",
                          weeks, "first_response.median_s", 1 / 3600)  # fmt: skip
        parts.draw_bars(self.plot("channels"), "Created by channel", now["volume"]["by_channel"])
        parts.draw_bars(self.plot("backlog"), "Backlog by age", now["backlog"]["by_age"])
        parts.draw_weekly(self.plot("csat"), "CSAT by week (% satisfied)", weeks,
                          "csat.satisfied_rate", 100)  # fmt: skip
        parts.draw_causes(self.plot("causes"), now["root_causes"])
        self.query_one("#heatmap", Static).update(parts.heatmap(now["volume"]["by_weekday_hour"]))

    def _title(self, until: datetime, note: str) -> None:
        span = f"{self.days} days to {until:%Y-%m-%d %H:%M} UTC"
        if self.custom is not None:
            span = f"{self.custom[0]:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
        self.query_one("#dash-range", Static).update(Content(f"{span} · {note}"))

    def plot(self, name: str) -> PlotextPlot:
        return self.query_one(f"#chart-{name}", PlotextPlot)

    def _show_groups(self, groups: dict[str, Any] | None) -> None:
        table = self.query_one("#groups", DataTable)
        table.display = groups is not None
        table.clear(columns=True)
        if groups is None:
            return
        table.add_columns(str(groups["by"]), *GROUP_HEADS)
        for g in groups["groups"]:
            rows = summary_rows(g)
            table.add_row(
                display(str(g["key"]), one_line=True), *(rows[i][1] for i in GROUP_COLUMNS)
            )

    def action_custom(self) -> None:
        from deskterm.screens.prompt import PromptScreen

        prompt = PromptScreen(
            "Range (UTC): days up to now, or FROM..TO",
            "",
            placeholder="14 or 2026-10-01..2026-10-31",
        )
        self.app.push_screen(prompt, self._custom_typed)

    def _custom_typed(self, text: str | None) -> None:
        if not text:
            return
        try:
            bounds = parse_range(text, self.desk.clock())
        except ValueError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.custom = bounds
        self.days = max(1, round((bounds[1] - bounds[0]) / timedelta(days=1)))
        self.load()

    def action_days(self) -> None:
        self.custom = None
        self.days = (
            RANGES[(RANGES.index(self.days) + 1) % len(RANGES)] if self.days in RANGES else 7
        )
        self.load()

    def action_group(self) -> None:
        self.by = GROUPS[(GROUPS.index(self.by) + 1) % len(GROUPS)]
        self.load()

    def action_reload(self) -> None:
        self.as_of = None  # the ranges as of now
        self.cache.drop()
        self.load()

    def action_scroll(self, step: int) -> None:
        body = self.query_one("#dash-body", VerticalScroll)
        body.scroll_relative(y=step * 3, animate=False)

    def action_back(self) -> None:
        self.app.pop_screen()


def parse_range(text: str, now: datetime) -> tuple[datetime, datetime]:
    """``14`` (days up to ``now``) or ``2026-10-01..2026-10-31`` (whole UTC days)."""
    text = text.strip()
    if text.isdigit() and int(text) > 0:
        return now - timedelta(days=int(text)), now
    first, sep, last = text.partition("..")
    try:
        since = datetime.fromisoformat(first.strip()).replace(tzinfo=UTC)
        until = datetime.fromisoformat(last.strip()).replace(tzinfo=UTC) + timedelta(days=1)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of days or FROM..TO dates.") from None
    if not sep or since >= until:
        raise ValueError("Give FROM..TO with FROM on or before TO.")
    return since, until
