"""The customer beside the conversation: who they are, every identity, their history.

Shared by the ticket screen's panel and the customer screen's header, so both show a
profile the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from deskterm.screens.format import age, line, local_date, safe, status_label
from deskterm.screens.ticket_cache import HISTORY, RATED
from deskterm.screens.widgets import VimOptionList
from deskterm.store.customers import CustomerProfile
from deskterm.store.satisfaction import SCALES, Rated


def render_profile(
    profile: CustomerProfile | None, *, notes: bool = True, ratings: int = RATED
) -> Content:
    """Name, organization, tier, first seen, identities, the latest ``ratings``
    satisfaction responses and notes."""
    if profile is None:
        return Content.styled("No customer is linked to this ticket.", "dim")
    c = profile.customer
    lines = [Content.styled(line(c.name) or "(no name)", "bold")]
    org = " · ".join(x for x in (line(c.organization), f"tier {line(c.tier)}") if x)
    lines.append(Content(org))
    seen = f"first seen {local_date(profile.first_seen)}"
    csat = profile.last_csat
    if csat is not None:
        seen += f" · last CSAT {csat}/5"
    lines.append(Content.styled(seen, "dim"))
    if line(c.tags):
        lines.append(Content.styled(f"tags: {line(c.tags)}", "dim"))
    lines.append(Content.styled("Identities", "bold"))
    for ident in profile.identities:
        value, display = line(ident.value), line(ident.display)
        shown = value if display in ("", value, line(c.name)) else f"{value} ({display})"
        lines.append(Content.assemble((f"  {line(ident.kind):<8} ", "dim"), shown))
    if not profile.identities:
        lines.append(Content.styled("  none", "dim"))
    if profile.rating_count:
        lines.append(Content.styled("Satisfaction", "bold"))
        lines.extend(rating_line(r) for r in profile.ratings[:ratings])
        hidden = profile.rating_count - min(ratings, len(profile.ratings))
        if hidden:
            more = f"{hidden} more" if ratings else f"{hidden} responses"
            lines.append(Content.styled(f"  {more}: s on the customer screen", "dim"))
    if notes and safe(c.notes).strip():
        lines.append(Content.styled("Notes", "bold"))
        lines.append(Content(safe(c.notes).strip()))
    return Content("\n").join(lines)


def rating_line(r: Rated) -> Content:
    """``CSAT 4/5 2026-10-02 #123 comment``: the comment is outside text, kept literal."""
    high = SCALES[r.kind][1]
    return Content.assemble(
        (f"  {r.kind.upper():<4} ", "dim"),
        (f"{r.score}/{high} ", "bold"),
        (f"{local_date(r.at)} #{r.ticket}", "dim"),
        f" {line(r.comment)}" if r.comment else "",
    )


def history_option(number: int, status: str, subject: str, when: datetime, now: datetime) -> Option:
    text = Content.assemble(
        (f"#{number} ", "bold"),
        (f"{status_label(status):<7} ", "dim"),
        line(subject) or "(no subject)",
        (f" {age(when, now)}", "dim"),
    )
    return Option(text, id=str(number))


class HistoryList(VimOptionList):
    """The customer's tickets; Enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Open ticket", show=False)]


class CustomerPanel(Vertical):
    """Profile on top, ticket history below."""

    class OpenTicket(Message):
        """The agent chose ticket ``number`` from the history."""

        def __init__(self, number: int, numbers: list[int]) -> None:
            super().__init__()
            self.number = number
            self.numbers = numbers

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.numbers: list[int] = []

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("Loading…", "dim"), id="profile")
        yield Static(Content.styled("History (Enter opens)", "bold"), id="history-title")
        yield HistoryList(id="history")

    def show(self, profile: CustomerProfile | None, current: int, now: datetime) -> None:
        self.query_one("#profile", Static).update(render_profile(profile))
        history = self.query_one(HistoryList)
        history.clear_options()
        tickets = profile.tickets if profile else []
        more = len(tickets) > HISTORY
        tickets = tickets[:HISTORY]
        self.numbers = [t.id for t in tickets if t.id is not None]
        history.add_options(
            [
                history_option(t.id, t.status, t.subject, t.updated_at, now)
                for t in tickets
                if t.id is not None
            ]
        )
        if more:
            history.add_option(
                Option(Content.styled("older tickets: c shows them all", "dim"), disabled=True)
            )
        if current in self.numbers:
            history.highlighted = self.numbers.index(current)
        self.query_one("#history-title").display = bool(tickets)

    @on(OptionList.OptionSelected, "#history")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.OpenTicket(int(event.option.id), self.numbers))
