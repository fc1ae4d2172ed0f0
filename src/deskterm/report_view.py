"""How the report reads to a person, shared by `deskterm report` and the dashboard:
formatted durations and rates, the summary rows, and the Rich tables (the JSON is
the contract)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from deskterm.sla import format_remaining
from deskterm.textsafe import display


def duration(seconds: float | None) -> str:
    return "-" if seconds is None else format_remaining(timedelta(seconds=seconds))


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def summary_rows(m: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs for one report or group; the dashboard's tiles use the same."""
    return [
        ("First response, median", duration(m["first_response"]["median_s"])),
        ("First response, p90", duration(m["first_response"]["p90_s"])),
        ("Resolution, median", duration(m["resolution"]["median_s"])),
        ("Resolution, p90", duration(m["resolution"]["p90_s"])),
        ("First-contact resolution", percent(m["fcr_rate"])),
        ("Reopened", percent(m["reopen_rate"])),
        ("SLA first response met", percent(m["sla"]["first_response_met_rate"])),
        ("SLA resolution met", percent(m["sla"]["resolution_met_rate"])),
        ("SLA breaches", str(m["sla"]["breached"])),
        ("Created", str(m["volume"]["created"])),
        ("Backlog", "-" if m.get("backlog") is None else str(m["backlog"]["total"])),
        (f"CSAT ({m['csat']['responses']})", percent(m["csat"]["satisfied_rate"])),
        (f"CES ({m['ces']['responses']})", number(m["ces"]["mean"])),
        (f"NPS ({m['nps']['responses']})", number(m["nps"]["score"])),
        ("HEARD complete", percent(m["heard"]["completion_rate"])),
    ]


# Which of summary_rows' lines the per-group table shows (it must fit 80 columns),
# and their short headings.
GROUP_COLUMNS = (0, 2, 4, 6, 9, 11)
GROUP_HEADS = ("1st resp.", "Resolution", "FCR", "SLA 1st", "Created", "CSAT")


def print_report(data: dict[str, Any]) -> None:
    console = Console()
    r = data["range"]
    title = f"{r['since'][:16]} to {r['until'][:16]} UTC"
    table = Table("Metric", "Value", title=title, title_justify="left")
    for label, value in summary_rows(data):
        table.add_row(label, value)
    console.print(table)
    if data["backlog"]["total"]:
        ages = Table(*data["backlog"]["by_age"], title="Backlog by age", title_justify="left")
        ages.add_row(*(str(v) for v in data["backlog"]["by_age"].values()))
        console.print(ages)
    causes = data["root_causes"]
    if causes["totals"]:
        t = Table("Root cause", "Count", "Previous", title="Root causes", title_justify="left")
        for cat, n in sorted(causes["totals"].items(), key=lambda kv: -kv[1]):
            t.add_row(display(cat, one_line=True), str(n), str(causes["previous"].get(cat, 0)))
        console.print(t)
        if causes["rising"]:
            rising = causes["rising"]
            console.print(
                f"Rising most: {display(rising['category'], one_line=True)} (+{rising['change']})"
            )
    if data.get("groups"):
        groups = Table(data["by"], *GROUP_HEADS, title=f"By {data['by']}", title_justify="left")
        for g in data["groups"]:
            rows = summary_rows(g)
            cells = (rows[i][1] for i in GROUP_COLUMNS)
            groups.add_row(display(str(g["key"]), one_line=True), *cells)
        console.print(groups)
