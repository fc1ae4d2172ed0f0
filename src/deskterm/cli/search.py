"""``deskterm search``: full-text search over messages, newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_rows, state


def search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Words, "quoted phrases", word* (prefix), a OR b, -word (not); see docs/query.md.',
        ),
    ],
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many hits.")] = 50,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Search message bodies and subjects; the newest matches come first."""
    store = state(ctx).store()
    hits = store.queue.search_messages(query, limit=limit)
    for hit in hits:
        hit["number"] = hit.pop("ticket_id")
        hit["message_id"] = hit.pop("id")
    emit_rows(
        hits,
        ("number", "sent_at", "author_name", "channel", "ticket_subject", "excerpt"),
        "json" if json_ else "table",
        title=f"{len(hits)} matches",
    )
