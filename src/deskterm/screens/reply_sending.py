"""Sending the composer's reply: in a worker, through :func:`deskterm.reply.send_reply`,
which keeps the text as the draft whenever nothing went out.

A mixin of :class:`~deskterm.screens.reply_composer.ReplyComposer` (the composer gives
the text, the draft and the header), so the composer's file keeps under its size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from deskterm.screens.base import DeskNode
from deskterm.screens.confirm import ConfirmScreen
from deskterm.screens.format import line, status_label

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.containers import Vertical
    from textual.widgets import TextArea

    from deskterm.macros import Macro
    from deskterm.reply import ReplyResult

CHANNEL_NAMES = {"whatsapp": "WhatsApp", "telegram": "Telegram", "slack": "Slack",
                 "discord": "Discord", "email": "email"}  # fmt: skip


def channel_name(channel: str) -> str:
    """The channel as people write it (the queue's short labels are for columns)."""
    return CHANNEL_NAMES.get(channel, line(channel))


@dataclass(frozen=True)
class DraftState:
    """What the store's draft holds (or will once the pending write has run)."""

    body: str = ""
    macro: str | None = None
    status: str | None = None


if TYPE_CHECKING:
    _Base = Vertical
else:
    _Base = object


class ReplySending(DeskNode, _Base):
    """The sending half of the reply composer (a mixin)."""

    number: int
    loaded: bool
    channel: str
    macro: Macro | None
    status_after: str | None
    saved: DraftState
    sending: set[int]  # tickets with a send in flight
    editor: TextArea

    if TYPE_CHECKING:

        def open(self, *, focus: bool = True, then: Callable[[], None] | None = None) -> None: ...

        def close(self) -> None: ...

        def _cancel_writes(self, number: int) -> None: ...

        def _schedule(self) -> None: ...

        def _reset(self) -> None: ...

        def _head(self, doing: str = "") -> None: ...

    class Sent(Message, namespace="reply_composer"):  # on_reply_composer_sent, as before
        """A reply to ticket ``number`` was sent or recorded."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def send(self, *, confirm_solve: bool = False) -> None:
        """Send (email) or record (chat) the reply in a worker."""
        if not self.loaded:
            self.open(then=self.send)
            return
        if self.number in self.sending:
            self.notify("The reply is already being sent.", markup=False)
            return
        body = self.editor.text
        if not body.strip():
            self.notify("The reply is empty.", severity="warning", markup=False)
            return
        self._cancel_writes(self.number)  # send_reply saves the draft itself
        self.sending.add(self.number)
        self.editor.read_only = True
        self._head("Sending…" if self.channel == "email" else "Recording…")
        self._send(self.number, body, self.macro, self.status_after, confirm_solve)

    @work(thread=True, exit_on_error=False, group="reply-send")
    def _send(
        self, number: int, body: str, macro: Macro | None, status: str | None, confirm: bool
    ) -> None:
        from deskterm.reply import NeedsConfirmation, ReplyError, send_reply

        state = DraftState(body, macro.name if macro else None, status)
        try:
            result = send_reply(
                self.desk.store,
                self.desk.config,
                number,
                body,
                actor=self.desk.config.agent.name,
                macro=macro,
                status=status,
                confirm_solve=confirm,
            )
        except NeedsConfirmation as exc:
            self.app.call_from_thread(self._confirm, number, state, str(exc))
        except ReplyError as exc:
            self.app.call_from_thread(self._failed, number, state, str(exc))
        except BaseException:
            self.app.call_from_thread(self._failed, number, None, "")
            raise  # shown by the worker error handler
        else:
            self.app.call_from_thread(self._sent, number, result)

    def _confirm(self, number: int, state: DraftState, why: str) -> None:
        self._failed(number, state, "")

        def answered(yes: bool | None) -> None:
            if yes and number == self.number and self.loaded:
                self.send(confirm_solve=True)
            else:
                self.editor.focus()

        status = status_label(state.status or (self.macro.status if self.macro else "") or "")
        self.app.push_screen(
            ConfirmScreen(why, f"Send the reply and mark #{number} {status} anyway?"), answered
        )

    def _failed(self, number: int, state: DraftState | None, why: str) -> None:
        """Nothing was sent: the text stays (``send_reply`` kept it as the draft)."""
        self.sending.discard(number)
        if why:
            self.notify(why, title="Reply not sent", severity="error", markup=False, timeout=10)
        if number != self.number:
            return
        self.editor.read_only = False
        if state is not None:
            self.saved = state
        self._head()
        self._schedule()  # anything typed meanwhile, or a draft send_reply never saved

    def _sent(self, number: int, result: ReplyResult) -> None:
        self.sending.discard(number)
        if result.clipboard_text is not None:
            self.app.copy_to_clipboard(result.clipboard_text)
            where = channel_name(self.channel) if number == self.number else "the chat"
            text = (
                f"Reply to #{number} recorded, not delivered by deskterm; it is on the "
                f"clipboard to paste into {where}."
            )
        else:
            text = f"Reply to #{number} sent to {result.recipients}."
        changes = "; ".join([f"Status {status_label(result.status)}", *result.actions])
        self.notify(f"{text} {changes}.", title="Reply", markup=False)
        if number == self.number:
            self.editor.read_only = False
            self._reset()
            self.close()
        self.post_message(self.Sent(number))
