"""``deskterm report``: support metrics over a date range (docs/metrics.md)."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from deskterm.cli.common import CsvOption, JsonOption, emit_json, fail, output_format, state

# As store.metrics.GROUPINGS, copied: importing the store here would slow `deskterm --help`.
GROUPINGS = ("channel", "queue", "agent", "tier", "week", "month")


def parse_bound(value: str, *, end: bool) -> datetime:
    """``2026-11-30`` (a whole UTC day: the end bound includes it) or an ISO date-time."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"{value!r} is not a date like 2026-11-30 or 2026-11-30T12:00.")
    date_only = len(value.strip()) == 10
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when + timedelta(days=1) if end and date_only else when


def report_range(since: str | None, until: str | None, days: int) -> tuple[datetime, datetime]:
    """The half-open range ``[since, until)``; by default the last ``days`` days up to now."""
    end = parse_bound(until, end=True) if until else datetime.now(UTC)
    start = parse_bound(since, end=False) if since else end - timedelta(days=days)
    if start >= end:
        fail("--since must be before --until.")
    return start, end


def report(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="First day (UTC), e.g. 2026-11-01.")] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day (UTC), included; default now.")
    ] = None,
    days: Annotated[int, typer.Option(help="Range length without --since.", min=1)] = 30,
    by: Annotated[
        str | None, typer.Option(help="Also per group: channel, queue, agent, tier, week, month.")
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
    csv_: Annotated[bool, CsvOption] = False,
) -> None:
    """First response, resolution, FCR, SLA, backlog, volume, satisfaction, HEARD, root causes."""
    fmt = output_format(json_, csv_)
    if by is not None and by not in GROUPINGS:
        fail(f"--by must be one of {', '.join(GROUPINGS)}.")
    start, end = report_range(since, until, days)
    data = state(ctx).store().metrics.report(start, end, by)
    if fmt == "json":
        emit_json(data)
    elif fmt == "csv":
        rows = [{"key": "all", **flatten(data)}]
        rows += [{"key": g["key"], **flatten(g)} for g in data.get("groups", [])]
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    else:
        from deskterm.report_view import print_report

        print_report(data)


def flatten(m: dict[str, Any]) -> dict[str, Any]:
    """The scalar metrics of one report or group, as CSV columns."""
    out: dict[str, Any] = {}
    for name in ("first_response", "resolution"):
        for k in ("median_s", "p90_s", "count"):
            out[f"{name}_{k}"] = m[name][k]
    out["fcr_rate"], out["reopen_rate"] = m["fcr_rate"], m["reopen_rate"]
    for k, v in m["sla"].items():
        out[f"sla_{k}"] = v
    if m.get("backlog") is not None:
        out["backlog_total"] = m["backlog"]["total"]
        for k, v in m["backlog"]["by_age"].items():
            out[f"backlog_{k}"] = v
    out["created"] = m["volume"]["created"]
    for kind in ("csat", "ces", "nps"):
        for k, v in m[kind].items():
            out[f"{kind}_{k}"] = v
    out["heard_completion_rate"] = m["heard"]["completion_rate"]
    out["heard_empathy_before_resolve_rate"] = m["heard"]["empathy_before_resolve_rate"]
    rising = m["root_causes"]["rising"]
    out["root_cause_rising"] = rising["category"] if rising else None
    return out
