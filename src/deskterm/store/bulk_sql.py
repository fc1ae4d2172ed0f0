"""The set-based statements of a bulk action that touch other tables than ``ticket``:
tags added and removed, and the HEARD check of a bulk solve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, literal, select

from deskterm.store.models import ActionTicket, Event, HeardStep, Ticket, TicketTag, table_of
from deskterm.vocab import HEARD_STEPS

T = table_of(Ticket)
E = table_of(Event)
AT = table_of(ActionTicket)
TT = table_of(TicketTag)
HS = table_of(HeardStep)


def add_tag(conn: Connection, aid: str, members: Any, tag: str, actor: str, at: Any) -> None:
    """Add ``tag`` to the members that lack it."""
    has = select(TT.c.ticket_id).where(TT.c.tag == tag)
    conn.execute(
        insert(E).from_select(
            ["ticket_id", "kind", "old", "new", "actor", "at", "action_id"],
            select(
                T.c.id,
                literal("tag_added"),
                literal(None),
                literal(tag),
                literal(actor),
                at,
                literal(aid),
            ).where(T.c.id.in_(members), T.c.id.not_in(has)),
        )
    )
    conn.execute(
        insert(TT).from_select(
            ["ticket_id", "tag", "updated_at"],
            select(E.c.ticket_id, literal(tag), at).where(
                E.c.action_id == aid,
                E.c.kind == "tag_added",
                E.c.new == tag,
                E.c.ticket_id.in_(members),
            ),
        )
    )


def remove_tag(
    conn: Connection, aid: str, members: Any, lo: int, hi: int, tag: str, actor: str, at: Any
) -> None:
    """Remove ``tag`` from the members that have it."""
    conn.execute(
        insert(E).from_select(
            ["ticket_id", "kind", "old", "new", "actor", "at", "action_id"],
            select(
                TT.c.ticket_id,
                literal("tag_removed"),
                literal(tag),
                literal(None),
                literal(actor),
                at,
                literal(aid),
            ).where(TT.c.tag == tag, TT.c.ticket_id.in_(members)),
        )
    )
    removed = select(E.c.ticket_id).where(
        and_(E.c.action_id == aid, E.c.kind == "tag_removed", E.c.old == tag),
        E.c.ticket_id.between(lo, hi),
    )
    conn.execute(delete(TT).where(TT.c.tag == tag, TT.c.ticket_id.in_(removed)))


def without_open_heard(conn: Connection, aid: str, ids: list[int], result: Any) -> list[int]:
    """Take tickets with HEARD steps open out of the action, as conflicts."""
    done = (
        select(func.count())
        .where(HS.c.ticket_id == AT.c.ticket_id, HS.c.done.is_(True))
        .scalar_subquery()
    )
    open_ = set(
        conn.execute(
            select(AT.c.ticket_id).where(AT.c.action_id == aid, done < len(HEARD_STEPS))
        ).scalars()
    )
    if not open_:
        return ids
    conn.execute(delete(AT).where(AT.c.action_id == aid, AT.c.ticket_id.in_(open_)))
    result.conflicts += [(n, "HEARD steps open") for n in sorted(open_)]
    return [n for n in ids if n not in open_]
