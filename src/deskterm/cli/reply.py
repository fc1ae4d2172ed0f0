"""``deskterm reply``: answer a ticket from a script, as the console does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, fail, state


def reply(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    body_file: Annotated[
        Path | None,
        typer.Option(
            "--body-file", "-f", help="The reply text (plain text); - reads stdin.", dir_okay=False
        ),
    ] = None,
    macro: Annotated[
        str | None,
        typer.Option(
            help="Macro to use: its text is the reply unless --body-file is given; "
            "its status, priority and tags apply either way."
        ),
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Status after replying (e.g. pending, solved).")
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Send the draft kept from a failed reply.")
    ] = False,
    edit: Annotated[
        bool,
        typer.Option("--edit", "-e", help="Edit the text in $EDITOR before sending."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Solve even with HEARD steps open (policy warn).")
    ] = False,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Reply to a ticket: email goes out through [smtp]; chat replies are recorded for
    you to paste. A failed send keeps the text as a draft (retry with --draft)."""
    import sys

    from deskterm.macros import find_macro, load_macros, render_for
    from deskterm.reply import NeedsConfirmation, ReplyError, send_reply

    st = state(ctx)
    store, config = st.store(), st.config()
    chosen = find_macro(load_macros(config), macro) if macro else None
    if draft:
        kept = store.replies.get_draft(number, config.agent.name)
        if kept is None:
            fail(f"There is no draft reply for #{number}.")
        body = kept.body
        status = status or kept.status_after
        if chosen is None and kept.macro:
            chosen = find_macro(load_macros(config), kept.macro)
    elif body_file is not None:
        try:
            body = (
                sys.stdin.read() if str(body_file) == "-" else body_file.read_text(encoding="utf-8")
            )
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"Cannot read {body_file}: {exc}.")
    elif chosen is not None:
        body = render_for(store, config, number, chosen)
    elif edit:
        body = ""
    else:
        fail(
            "Give the reply text with --body-file FILE (or - for stdin), --macro, --draft "
            "or --edit."
        )
    if edit:
        from deskterm.editor import EditorError, edit_text

        try:
            body = edit_text(body)
        except EditorError as exc:
            fail(str(exc))
        if not body.strip():
            fail("The reply is empty; nothing was sent.")
    try:
        result = send_reply(
            store, config, number, body, macro=chosen, status=status, confirm_solve=force
        )
    except NeedsConfirmation as exc:
        fail(f"{str(exc).removesuffix('confirm to solve anyway.')}add --force to solve anyway.")
    except ReplyError as exc:
        fail(str(exc))
    if json_:
        emit_json(
            {
                "number": number,
                "delivered": result.delivered,
                "status": result.status,
                "to": result.recipients,
                "message_id": result.message.message_id,
                "channel": result.message.channel,
                "actions": result.actions,
            }
        )
        return
    if result.delivered:
        line = f"Sent the reply to #{number} to {result.recipients}; status {result.status}."
    else:
        line = (
            f"Recorded the reply to #{number} ({result.message.channel}: not delivered by "
            f"deskterm, paste it into the chat); status {result.status}."
        )
    if result.actions:
        line += f" Macro: {', '.join(result.actions)}."
    typer.echo(line)
