"""``deskterm search``: full-text search over messages, newest first."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskterm.cli.common import state
from deskterm.cli.output import Output, list_options


@list_options(limit=50)
def search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Words, "quoted phrases", word* (prefix), a OR b, -word (not); see docs/query.md.',
        ),
    ],
    *,
    out: Output,
) -> None:
    """Search message bodies and subjects; the newest matches come first."""
    store = state(ctx).store()

    def fetch(before: int | None, n: int) -> tuple[list[dict[str, Any]], int | None]:
        hits = store.queue.search_messages(query, limit=n, before=before)
        for hit in hits:
            hit["number"] = hit.pop("ticket_id")
            hit["message_id"] = hit.pop("id")
        return hits, hits[-1]["message_id"] if len(hits) == n else None

    out.emit(
        fetch,
        ("number", "sent_at", "author_name", "channel", "ticket_subject", "excerpt"),
        noun="match",
        count=lambda: store.queue.count_search(query),
    )
