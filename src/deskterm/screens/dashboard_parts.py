"""The dashboard's pieces: KPI tiles with their change, the charts, the heatmap.

Every number shown comes from a ``store.metrics.report`` dict (the same one
``deskterm report --json`` prints) through the formatters of ``cli/report_view``,
so the dashboard and the report cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.content import Content
from textual.widgets import Static
from textual_plotext import PlotextPlot

from deskterm.report_view import duration, number, percent
from deskterm.textsafe import display

Report = dict[str, Any]


def _get(m: Report, path: str) -> Any:
    value: Any = m
    for part in path.split("."):
        value = None if value is None else value.get(part)
    return value


# (title, path in the report, formatter, kind of change, higher is better). Medians of
# times; titles short enough for four tiles across 80 columns.
TILES: tuple[tuple[str, str, Callable[[Any], str], str, bool], ...] = (
    ("1st response", "first_response.median_s", duration, "ratio", False),
    ("Resolution", "resolution.median_s", duration, "ratio", False),
    ("FCR", "fcr_rate", percent, "points", True),
    ("SLA 1st reply", "sla.first_response_met_rate", percent, "points", True),
    ("SLA breaches", "sla.breached", number, "count", False),
    ("Backlog", "backlog.total", number, "count", False),
    ("CSAT", "csat.satisfied_rate", percent, "points", True),
    ("NPS", "nps.score", number, "count", True),
    ("HEARD done", "heard.completion_rate", percent, "points", True),
    ("Created", "volume.created", number, "count", True),
)


def change(now: Any, before: Any, kind: str, higher_is_better: bool) -> tuple[str, str]:
    """``("▲ 12%", "good")``: the change against the previous period of the same length,
    and whether it is good news."""
    if now is None or before is None:
        return "no data before", "flat"
    if kind == "ratio":
        if not before:
            return "no data before", "flat"
        delta = (now - before) / before * 100
        text = f"{abs(delta):.0f}%"
    elif kind == "points":
        delta = (now - before) * 100
        text = f"{abs(delta):.1f} pt"
    else:
        delta = now - before
        text = f"{abs(delta):g}"
    if abs(delta) < 0.05:
        return "= before", "flat"
    arrow = "▲" if delta > 0 else "▼"
    good = (delta > 0) == higher_is_better
    return f"{arrow} {text}", "good" if good else "bad"


def tile_texts(now: Report, before: Report) -> list[tuple[str, str, str, str]]:
    """(title, value, change, mood) for every tile."""
    out = []
    for title, path, fmt, kind, higher in TILES:
        value = _get(now, path)
        moved, mood = change(value, _get(before, path), kind, higher)
        out.append((title, fmt(value), moved, mood))
    return out


class Tile(Static):
    """One KPI: title, value and the change against the previous period."""

    def show(self, title: str, value: str, moved: str, mood: str) -> None:
        self.set_classes(f"tile {mood}")
        self.update(
            Content.assemble((title, "dim"), "\n", (value, "bold"), "\n", (moved, "italic"))
        )


def _weeks(groups: list[Report]) -> list[str]:
    return [str(g["key"])[5:] for g in groups]  # MM-DD of the week's Monday


def draw_weekly(
    plot: PlotextPlot, title: str, groups: list[Report], path: str, scale: float
) -> None:
    """A bar per week of one metric (``scale`` turns seconds into hours, rates into %)."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    plt.title(title)
    labels, values = [], []
    for label, g in zip(_weeks(groups), groups, strict=True):
        value = _get(g, path)
        if value is not None:
            labels.append(label)
            values.append(round(value * scale, 1))
    if values:
        plt.bar(labels, values, marker="sd")
    plot.refresh()


def draw_bars(plot: PlotextPlot, title: str, counts: dict[str, int]) -> None:
    """Bars of a ``{label: count}`` mapping (volume by channel, backlog by age)."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    plt.title(title)
    if counts and any(counts.values()):
        plt.bar([display(k, one_line=True) for k in counts], list(counts.values()), marker="sd")
    plot.refresh()


MARKERS = ("*", "+", "o", "x")  # lines stay apart without colour (NO_COLOR)


def draw_causes(plot: PlotextPlot, causes: Report, top: int = 4) -> None:
    """The most frequent root causes, one line each across the periods."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    plt.title(f"Root causes by {causes['period']}")
    periods = sorted({s["period"] for s in causes["series"]})
    leaders = sorted(causes["totals"], key=lambda c: (-causes["totals"][c], c))[:top]
    for cat, marker in zip(leaders, MARKERS, strict=False):
        per = {s["period"]: s["count"] for s in causes["series"] if s["category"] == cat}
        plt.plot(
            list(range(len(periods))),
            [per.get(p, 0) for p in periods],
            label=display(cat, one_line=True),
            marker=marker,
        )
    if periods:
        plt.xticks(list(range(len(periods))), [p[5:] for p in periods])
    plot.refresh()


SHADES = " ░▒▓█"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def heatmap(grid: list[list[int]]) -> Content:
    """Created tickets by weekday × UTC hour, in shades that need no colour."""
    top = max((max(row) for row in grid), default=0)
    hours = "".join(f"{h:<6}" for h in range(0, 24, 3))
    lines = ["Created by weekday × hour (UTC)", f"     {hours}"]
    for day, row in zip(DAYS, grid, strict=True):
        lines.append(f"{day}  " + "".join(2 * SHADES[_shade(n, top)] for n in row))
    lines.append(f"     busiest hour: {top} tickets")
    return Content("\n".join(lines))


def _shade(n: int, top: int) -> int:
    """0 for none, else 1-4 by the share of the busiest cell."""
    return 0 if not n or not top else 1 + min(3, (n * 4 - 1) // top)
