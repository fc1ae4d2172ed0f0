"""SLA policies: first-response and resolution targets, business hours, pauses.

A policy comes from ``[sla]`` in the config (PRODUCT.md §5)::

    [sla]
    at_risk = "25%"                      # at risk once this much of the target is left
    [sla.targets.urgent]
    first_response = "1h"
    resolution = "4h"
    [sla.business_hours]                 # optional; without it clocks run 24/7
    timezone = "Europe/Berlin"
    days = ["mon", "tue", "wed", "thu", "fri"]
    hours = "09:00-17:00"
    holidays = ["2026-12-25", "2026-12-26"]
    [sla.tiers.enterprise]               # per customer tier: targets and/or hours
    business_hours = false               # 24/7 for this tier
    [sla.tiers.enterprise.targets.urgent]
    first_response = "30m"

Durations count only open time: with business hours ``8h`` is one working day of
09:00-17:00, and ``1d`` is 24 hours of open time.

Each ticket carries two clocks. The first-response clock runs from creation until the
first public reply. The resolution clock runs from creation until solved, and stops
while the ticket is pending or on hold (waiting on the customer or a third party):
the paused open time is added to its target when it runs again. The ticket keeps the
due times plus ``sla_next_due`` (the earliest running deadline) and ``sla_warn_at``
(when that becomes at risk), so the store can find breached and at-risk tickets with
an index instead of evaluating every ticket.

This module is pure: no database, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from deskterm.settings import ConfigError
from deskterm.settings.values import parse_duration
from deskterm.vocab import PRIORITIES

if TYPE_CHECKING:
    from deskterm.settings.workflow import HoursSettings, SlaSettings, TargetsSettings

# Statuses in which the resolution clock does not run. Solved and closed stop it too:
# a reopened ticket continues with the time it had left.
PAUSED_STATUSES = ("pending", "on_hold", "solved", "closed")
DONE_STATUSES = ("solved", "closed")
_MAX_DAYS = 3 * 366  # a calendar with no open time must fail, not loop

DEFAULT_TARGETS: dict[str, tuple[str, str]] = {
    "urgent": ("1h", "4h"),
    "high": ("4h", "1d"),
    "normal": ("8h", "3d"),
    "low": ("1d", "5d"),
}


class Calendar(Protocol):
    """Counts open time: business hours, or every hour of every day."""

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of open time after ``start``."""
        ...

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Open time from ``start`` to ``end`` (zero if ``end`` is earlier)."""
        ...

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open windows (UTC) that overlap ``[start, end)``, for the report."""
        ...


@dataclass(frozen=True)
class AlwaysOpen:
    """Clocks that run around the clock."""

    def add(self, start: datetime, amount: timedelta) -> datetime:
        return start + amount

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return [(start, end)] if end > start else []


@dataclass(frozen=True)
class BusinessHours:
    """Open on ``days`` (0 = Monday) from ``start`` to ``end`` local time, except holidays.

    Windows are computed per local date, so a daylight-saving change shortens or
    lengthens that day's window in UTC exactly as the wall clock does.
    """

    tz: ZoneInfo
    days: frozenset[int]
    start: tuple[int, int]
    end: tuple[int, int]
    holidays: frozenset[date] = frozenset()

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        return _window(self, day)

    def _compute_window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days or day in self.holidays:
            return None
        midnight = datetime.combine(day, time(0))
        opens = midnight + timedelta(hours=self.start[0], minutes=self.start[1])
        closes = midnight + timedelta(hours=self.end[0], minutes=self.end[1])
        return (
            opens.replace(tzinfo=self.tz).astimezone(UTC),
            closes.replace(tzinfo=self.tz).astimezone(UTC),
        )

    def _windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            window = self._window(day)
            if window is not None and window[1] > moment:
                yield window
            day += timedelta(days=1)
        raise ConfigError("[sla] business_hours leaves no open time within three years.")

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open windows (UTC) that overlap ``[start, end)``, for the report's calendar."""
        out = []
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        while day <= end.astimezone(self.tz).date():
            window = self._window(day)
            if window is not None and window[1] > start and window[0] < end:
                out.append((max(window[0], start), min(window[1], end)))
            day += timedelta(days=1)
        return out

    def add(self, start: datetime, amount: timedelta) -> datetime:
        left = amount
        for opens, closes in self._windows_from(start):
            begin = max(opens, start)
            span = closes - begin
            if left <= span:
                return begin + left
            left -= span
        raise AssertionError("unreachable: _windows_from raises when exhausted")

    def between(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._windows_from(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total


@lru_cache(maxsize=8192)
def _window(hours: BusinessHours, day: date) -> tuple[datetime, datetime] | None:
    """One day's open window in UTC, cached: clocks ask for the same days over and over."""
    return hours._compute_window(day)


@dataclass(frozen=True)
class Targets:
    """How long the first public reply and the resolution may take (``None``: no target)."""

    first_response: timedelta | None
    resolution: timedelta | None


@dataclass(frozen=True)
class Plan:
    """The targets per priority and the calendar that applies to one customer tier."""

    targets: Mapping[str, Targets]
    calendar: Calendar


@dataclass(frozen=True)
class SlaPolicy:
    """Every tier's plan; tiers without an override use ``default``."""

    default: Plan
    tiers: Mapping[str, Plan] = field(default_factory=dict)
    at_risk: float = 0.25
    enabled: bool = True

    def plan(self, tier: str | None) -> Plan:
        return self.tiers.get((tier or "").lower(), self.default)

    @property
    def uses_tiers(self) -> bool:
        """Whether the tier matters (so callers can skip looking it up)."""
        return bool(self.tiers)

    @classmethod
    def from_settings(cls, settings: SlaSettings) -> SlaPolicy:
        """The policy ``[sla]`` describes: tiers inherit what they leave out."""
        defaults = {
            p: Targets(parse_duration(DEFAULT_TARGETS[p][0]), parse_duration(DEFAULT_TARGETS[p][1]))
            for p in PRIORITIES
        }
        targets = _targets(settings.targets, defaults)
        calendar = _calendar(settings.business_hours)
        tiers = {
            name.lower(): Plan(
                _targets(tier.targets, targets),
                _calendar(tier.business_hours)
                if "business_hours" in tier.model_fields_set
                else calendar,
            )
            for name, tier in settings.tiers.items()
        }
        return cls(Plan(targets, calendar), tiers, settings.at_risk, settings.enabled)

    def refresh(self, ticket: SlaFields, tier: str | None, now: datetime) -> bool:
        """:func:`apply` this policy (what the store calls on every change)."""
        return apply(self, ticket, tier, now)

    def business_calendars(
        self, start: datetime, end: datetime
    ) -> dict[str | None, list[tuple[datetime, datetime]]]:
        """Open windows in ``[start, end)`` of the default calendar (key ``None``) and of
        each tier whose calendar differs from it, for the report's business-hours times;
        empty when every clock runs around the clock."""
        plans = {None: self.default} | {
            tier: plan
            for tier, plan in self.tiers.items()
            if plan.calendar != self.default.calendar
        }
        if all(isinstance(plan.calendar, AlwaysOpen) for plan in plans.values()):
            return {}
        return {tier: plan.calendar.windows(start, end) for tier, plan in plans.items()}


def _targets(table: TargetsSettings, base: Mapping[str, Targets]) -> dict[str, Targets]:
    out = dict(base)
    for priority in PRIORITIES:
        given = getattr(table, priority)
        if given is not None:
            out[priority] = Targets(
                given.first_response
                if "first_response" in given.model_fields_set
                else base[priority].first_response,
                given.resolution
                if "resolution" in given.model_fields_set
                else base[priority].resolution,
            )
    return out


def _calendar(hours: HoursSettings | None) -> Calendar:
    if hours is None:
        return AlwaysOpen()
    (start, end) = hours.span
    return BusinessHours(hours.timezone, hours.days, start, end, hours.holidays)


# -- clocks on a ticket -----------------------------------------------------------------


class SlaFields(Protocol):
    """The ticket attributes the clocks read and write (a ``Ticket`` or ingest state)."""

    status: str
    priority: str
    created_at: datetime
    first_response_at: datetime | None
    sla_first_response_due: datetime | None
    sla_resolution_due: datetime | None
    sla_next_due: datetime | None
    sla_warn_at: datetime | None
    sla_paused_at: datetime | None
    sla_paused_seconds: float


def apply(policy: SlaPolicy, ticket: SlaFields, tier: str | None, now: datetime) -> bool:
    """Bring the ticket's SLA columns up to date after a change at ``now``.

    Starts or ends a pause of the resolution clock when the status says so, then
    recomputes every due time from the creation time, the plan of the ticket's tier and
    priority, and the open time spent paused. Returns whether anything changed.
    """
    before = _snapshot(ticket)
    plan = policy.plan(tier)
    cal = plan.calendar
    paused = ticket.status in PAUSED_STATUSES
    if paused and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    elif not paused and ticket.sla_paused_at is not None:
        spent = cal.between(ticket.sla_paused_at, max(now, ticket.sla_paused_at))
        ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0.0) + spent.total_seconds()
        ticket.sla_paused_at = None
    if not policy.enabled:
        ticket.sla_first_response_due = ticket.sla_resolution_due = None
        ticket.sla_next_due = ticket.sla_warn_at = None
        return _snapshot(ticket) != before
    targets = plan.targets.get(ticket.priority) or plan.targets["normal"]
    created = ticket.created_at
    pause = timedelta(seconds=ticket.sla_paused_seconds or 0.0)
    keep = 1.0 - policy.at_risk
    running: list[tuple[datetime, datetime]] = []
    fr_due = None
    if targets.first_response is not None:
        fr_due = cal.add(created, targets.first_response)
        if ticket.first_response_at is None and ticket.status not in DONE_STATUSES:
            running.append((fr_due, cal.add(created, targets.first_response * keep)))
    res_due = None
    if targets.resolution is not None:
        res_due = cal.add(created, targets.resolution + pause)
        if not paused:
            running.append((res_due, cal.add(created, targets.resolution * keep + pause)))
    ticket.sla_first_response_due = fr_due
    ticket.sla_resolution_due = res_due
    ticket.sla_next_due = min((due for due, _ in running), default=None)
    ticket.sla_warn_at = min((warn for _, warn in running), default=None)
    return _snapshot(ticket) != before


def _snapshot(ticket: SlaFields) -> tuple[Any, ...]:
    return (
        ticket.sla_first_response_due,
        ticket.sla_resolution_due,
        ticket.sla_next_due,
        ticket.sla_warn_at,
        ticket.sla_paused_at,
        ticket.sla_paused_seconds,
    )


# -- what the queue and the ticket screen show -------------------------------------------


@dataclass(frozen=True)
class SlaStatus:
    """A ticket's SLA at one moment, for the queue's countdown column.

    ``state`` is ``breached`` (red), ``at-risk`` (yellow), ``ok``, ``paused`` (only
    the stopped resolution clock is left), ``met``/``missed`` (solved or closed, by the
    resolution target) or ``none`` (no target applies).
    """

    state: str
    clock: str | None = None  # first_response | resolution
    due: datetime | None = None
    remaining: timedelta | None = None  # negative once breached

    @property
    def label(self) -> str:
        """Short text for a narrow column: ``2h 14m``, ``-35m``, ``paused``, ``met``."""
        if self.state in ("breached", "at-risk", "ok") and self.remaining is not None:
            return format_remaining(self.remaining)
        return "" if self.state == "none" else self.state

    @property
    def short(self) -> str:
        """At most five characters: ``45m``, ``7h``, ``-2h``, ``pause``, ``met``, ``miss``."""
        if self.state in ("breached", "at-risk", "ok") and self.remaining is not None:
            return format_short(self.remaining)
        return {"paused": "pause", "met": "met", "missed": "miss"}.get(self.state, "")


def format_short(delta: timedelta) -> str:
    """At most five characters for a queue column: ``45m``, ``7h``, ``3d``, ``-2h``."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    if minutes < 60:
        return f"{sign}{minutes}m"
    if minutes < 48 * 60:
        return f"{sign}{minutes // 60}h"
    return f"{sign}{min(minutes // 1440, 999)}d"


def format_remaining(delta: timedelta) -> str:
    """``3d 4h``, ``2h 14m``, ``35m`` (``-`` in front when overdue)."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {mins:02d}m"
    return f"{sign}{mins}m"


def status(ticket: Any, now: datetime) -> SlaStatus:
    """The SLA state of a ticket (a ``Ticket``, a queue ``TicketRow``, any object with
    the SLA attributes) at ``now``."""
    state = ticket.status
    fr_due = getattr(ticket, "sla_first_response_due", None)
    res_due = getattr(ticket, "sla_resolution_due", None)
    if state in DONE_STATUSES:
        solved = getattr(ticket, "solved_at", None)
        if res_due is None or solved is None:
            return SlaStatus("none")
        met = solved <= res_due and not getattr(ticket, "sla_resolution_missed", False)
        return SlaStatus("met" if met else "missed", "resolution", res_due)
    due = getattr(ticket, "sla_next_due", None)
    if due is None:
        paused = getattr(ticket, "sla_paused_at", None) is not None and res_due is not None
        return SlaStatus("paused", "resolution", res_due) if paused else SlaStatus("none")
    clock = (
        "first_response"
        if due == fr_due and getattr(ticket, "first_response_at", None) is None
        else "resolution"
    )
    remaining = due - now
    warn = getattr(ticket, "sla_warn_at", None)
    if remaining <= timedelta(0):
        kind = "breached"
    elif warn is not None and now >= warn:
        kind = "at-risk"
    else:
        kind = "ok"
    return SlaStatus(kind, clock, due, remaining)
