"""Human-readable renderings of store objects for the terminal (not the TUI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deskterm.textsafe import clean_line, clean_text
from deskterm.vocab import HEARD_NAMES, HEARD_STEPS

if TYPE_CHECKING:
    from deskterm.store import TicketDetail


def print_ticket(detail: TicketDetail) -> None:
    """A ticket as plain text: header, customer, HEARD, notes, conversation."""
    from rich.console import Console
    from rich.rule import Rule
    from rich.text import Text

    console = Console()
    t = detail.ticket
    console.print(Text(f"#{t.id}  {clean_line(t.subject)}", style="bold"))
    console.print(
        Text(
            f"{t.status} · {t.priority} · queue {t.queue} · {t.channel} · "
            f"assignee {t.assignee or '-'} · tags {', '.join(detail.tags) or '-'}"
        )
    )
    if detail.customer:
        idents = ", ".join(f"{i.kind}:{i.value}" for i in detail.identities)
        console.print(Text(f"Customer: {clean_line(detail.customer.name)} ({idents})"))
    heard = " ".join(
        f"[{'x' if step in detail.heard and detail.heard[step].done else ' '}] {HEARD_NAMES[step]}"
        for step in HEARD_STEPS
    )
    console.print(Text(f"HEARD: {heard}"))
    if detail.note:
        console.print(Rule(f"Resolution notes (v{detail.note.version})"))
        console.print(Text(clean_text(detail.note.body)))
    for msg in detail.messages:
        arrow = {"inbound": "<-", "outbound": "->", "note": "##"}.get(msg.direction, "--")
        when = msg.sent_at.astimezone().strftime("%Y-%m-%d %H:%M")
        console.print(Rule(Text(f"{arrow} {clean_line(msg.author_name)} · {msg.channel} · {when}")))
        console.print(Text(clean_text(msg.body)))
