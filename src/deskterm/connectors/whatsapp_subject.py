"""A WhatsApp ticket's subject: the first line the customer wrote, not the chat's name.

A WhatsApp chat has no subject, and every ticket cut from one chat called "WhatsApp
chat with Bea" tells an agent scanning the queue nothing. The pipeline takes a new
ticket's subject from the ``conversation_title`` of the message that opens it, so each
message's title is set here to the first line of the customer message at or after it:
a session an agent opens ("Hi Bea, any news?") is named by the customer's answer.

Who is a customer follows the pipeline's rule: anyone not among the configured chat
agents (with none configured, everyone). Looking ahead is bounded by the session gap
(a reply days later belongs to another ticket) and by :data:`LOOKAHEAD` messages; a
stretch with no customer line keeps the chat's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import timedelta

from deskterm.connectors.records import InboundRecord, Item, Party
from deskterm.textsafe import clean_line

SUBJECT_CHARS = 80
LOOKAHEAD = 500  # messages held while waiting for a customer line
_PLACEHOLDER = re.compile(
    r"^(?:<[^<>\n]{1,60}>|\[attached: [^\]\n]+\]|POLL:|[^\n]{0,60} omitted$)", re.IGNORECASE
)


def subject_line(body: str) -> str:
    """The first line of ``body`` worth a subject, cut at a word near
    :data:`SUBJECT_CHARS`; "" for media placeholders and polls."""
    for raw in body.splitlines():
        line = " ".join(clean_line(raw).split())
        if not line:
            continue
        if _PLACEHOLDER.match(line):
            return ""
        if len(line) <= SUBJECT_CHARS:
            return line
        cut = line.rfind(" ", SUBJECT_CHARS // 2, SUBJECT_CHARS)
        return line[: cut if cut > 0 else SUBJECT_CHARS].rstrip(" ,.;:-") + "…"
    return ""


class Subjects:
    """Sets ``conversation_title`` on a chat's records, in order, holding back the
    messages before a customer's line until it comes."""

    def __init__(self, fallback: str, agents: frozenset[str], gap: timedelta) -> None:
        self.fallback = fallback
        self.agents = agents
        self.gap = gap

    def is_customer(self, party: Party) -> bool:
        """Not one of the configured agents (matched as the pipeline matches them)."""
        return not self.agents or (
            party.value.casefold() not in self.agents and party.name.casefold() not in self.agents
        )

    def apply(self, items: Iterable[Item]) -> Iterator[Item]:
        pending: list[Item] = []
        opened: InboundRecord | None = None  # the first record held
        for item in items:
            if not isinstance(item, InboundRecord):
                if pending:
                    pending.append(item)
                else:
                    yield item
                continue
            if opened is not None and (
                item.sent_at - opened.sent_at > self.gap or len(pending) >= LOOKAHEAD
            ):
                yield from self._release(pending, self.fallback)
                opened = None
            subject = subject_line(item.body) if self.is_customer(item.author) else ""
            pending.append(item)
            if subject:
                yield from self._release(pending, subject)
                opened = None
            elif opened is None:
                opened = item
        yield from self._release(pending, self.fallback)

    @staticmethod
    def _release(pending: list[Item], subject: str) -> Iterator[Item]:
        for item in pending:
            if isinstance(item, InboundRecord):
                item.conversation_title = subject
            yield item
        pending.clear()
