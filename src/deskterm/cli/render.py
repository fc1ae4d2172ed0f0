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
    if merges := " · ".join(detail.merge_facts()):
        console.print(Text(merges[0].upper() + merges[1:] + "."))
    if detail.customer:
        idents = ", ".join(f"{i.kind}:{i.value}" for i in detail.identities)
        console.print(Text(f"Customer: {clean_line(detail.customer.name)} ({idents})"))
    heard = " ".join(
        f"[{'x' if step in detail.heard and detail.heard[step].done else ' '}] {HEARD_NAMES[step]}"
        for step in HEARD_STEPS
    )
    console.print(Text(f"HEARD: {heard}"))
    workflow = _sla_and_emotion(detail)
    if workflow:
        console.print(Text(workflow))
    if detail.note:
        console.print(Rule(f"Resolution notes (v{detail.note.version})"))
        console.print(Text(clean_text(detail.note.body)))
    for msg in detail.messages:
        arrow = {"inbound": "<-", "outbound": "->", "note": "##"}.get(msg.direction, "--")
        when = msg.sent_at.astimezone().strftime("%Y-%m-%d %H:%M")
        console.print(Rule(Text(f"{arrow} {clean_line(msg.author_name)} · {msg.channel} · {when}")))
        console.print(Text(clean_text(msg.body)))


def _sla_and_emotion(detail: TicketDetail) -> str:
    """``SLA: at-risk, first response due in 45m · Emotion: anger (0.8): Empathetic …``"""
    from deskterm.emotion import response_style
    from deskterm.sla import status
    from deskterm.store.types import utcnow

    t = detail.ticket
    parts = []
    clock = status(t, utcnow())
    if clock.state != "none":
        what = clock.state
        if clock.clock and clock.state in ("ok", "at-risk", "breached"):
            late = clock.state == "breached"
            when = f"overdue by {clock.label.lstrip('-')}" if late else f"due in {clock.label}"
            what += f", {clock.clock.replace('_', ' ')} {when}"
        parts.append(f"SLA: {what}")
    if t.emotion:
        style = response_style(t.emotion)
        score = f" ({t.emotion_score:.1f})" if t.emotion_score is not None else ""
        parts.append(f"Emotion: {t.emotion}{score}" + (f": {style.style}" if style else ""))
    return " · ".join(parts)
