"""The queue's columns: what each shows, how wide it is, and from which width it appears.

Widths are fixed (only the subject stretches) so paging never makes columns jump and
the table never measures content to size itself. Narrow terminals drop the columns
with the highest ``shown_from`` first; at 80 columns the essentials remain.

Colour is never the only signal (``NO_COLOR``): an overdue SLA countdown has a minus
sign and is bold, an at-risk one a ``!`` in front.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from deskterm import sla
from deskterm.screens.format import (
    EMOTION_STYLES,
    age,
    cell,
    channel_label,
    emotion_label,
    priority_label,
    status_label,
)
from deskterm.store.queue import TicketRow

CellRenderer = Callable[[TicketRow, datetime], Text]

_PRIORITY_STYLES = {"urgent": "bold reverse", "high": "bold", "normal": "", "low": "dim"}
_STATUS_STYLES = {"new": "bold", "solved": "dim", "closed": "dim"}
SLA_STYLES = {
    "breached": "bold red",
    "at-risk": "yellow",
    "paused": "dim",
    "met": "dim",
    "missed": "dim red",
}


def priority_cell(row: TicketRow, now: datetime) -> Text:
    return cell(priority_label(row.priority), _PRIORITY_STYLES.get(row.priority, ""))


def sla_cell(row: TicketRow, now: datetime) -> Text:
    """Time left on the running SLA clock: red once breached, yellow when at risk."""
    state = sla.status(row, now)
    text = f"!{state.short}" if state.state == "at-risk" else state.short
    return Text(text, style=SLA_STYLES.get(state.state, ""), justify="right", no_wrap=True)


def status_cell(row: TicketRow, now: datetime) -> Text:
    return cell(status_label(row.status), _STATUS_STYLES.get(row.status, ""))


def number_cell(row: TicketRow, now: datetime) -> Text:
    return Text(f"#{row.number}", justify="right", no_wrap=True)


def customer_cell(row: TicketRow, now: datetime) -> Text:
    return cell(row.customer or "—")


def subject_cell(row: TicketRow, now: datetime) -> Text:
    return cell(row.subject or "(no subject)", "bold" if row.status == "new" else "")


def channel_cell(row: TicketRow, now: datetime) -> Text:
    return cell(channel_label(row.channel))


def age_cell(row: TicketRow, now: datetime) -> Text:
    return Text(age(row.updated_at, now), justify="right", no_wrap=True)


def assignee_cell(row: TicketRow, now: datetime) -> Text:
    return cell(row.assignee or "—", "" if row.assignee else "dim")


def emotion_cell(row: TicketRow, now: datetime) -> Text:
    """The emotion of the customer's latest message (blank when neutral)."""
    return cell(emotion_label(row.emotion), EMOTION_STYLES.get(row.emotion or "", ""))


@dataclass(frozen=True)
class Column:
    """One queue column."""

    key: str
    label: str
    width: int  # 0: takes what is left
    shown_from: int  # table width (cells) from which the column is shown
    render: CellRenderer


QUEUE_COLUMNS: tuple[Column, ...] = (
    Column("priority", "Pri", 4, 0, priority_cell),
    Column("sla", "SLA", 5, 0, sla_cell),
    Column("status", "Status", 7, 0, status_cell),
    Column("number", "#", 8, 0, number_cell),
    Column("customer", "Customer", 12, 0, customer_cell),
    Column("subject", "Subject", 0, 0, subject_cell),
    Column("channel", "Ch", 5, 92, channel_cell),
    Column("age", "Age", 4, 0, age_cell),
    Column("assignee", "Assignee", 11, 104, assignee_cell),
    Column("emotion", "Emotion", 8, 116, emotion_cell),
)

MIN_FLEX = 16


def fit(columns: Sequence[Column], width: int, padding: int) -> list[tuple[Column, int]]:
    """The columns shown at ``width`` cells and the width each gets."""
    shown = [c for c in columns if width >= c.shown_from]
    fixed = sum(c.width for c in shown) + 2 * padding * len(shown)
    flex = max(MIN_FLEX, width - fixed)
    return [(c, c.width or flex) for c in shown]
