"""Messages and small protocols that cross screens.

A screen that changes a ticket posts :class:`TicketChanged`; it bubbles to the app,
which hands it to every screen in the stack so lists refresh when they come back.
"""

from __future__ import annotations

from typing import Protocol

from textual.message import Message


class TicketChanged(Message):
    """Ticket ``number`` was changed from the console (status, notes, HEARD, …)."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number


class TicketSequence(Protocol):
    """The list a ticket was opened from, for ``]``/``[`` (next/previous ticket)."""

    def neighbour(self, number: int, step: int) -> int | None:
        """The ticket ``step`` places from ``number`` (and select it), or ``None``."""
        ...

    def peek(self, number: int, step: int) -> int | None:
        """The same ticket as :meth:`neighbour`, without selecting it (prefetching)."""
        ...


class NumberSequence:
    """A fixed list of ticket numbers (a customer's history) as a sequence."""

    def __init__(self, numbers: list[int]) -> None:
        self.numbers = numbers

    def neighbour(self, number: int, step: int) -> int | None:
        return self.peek(number, step)

    def peek(self, number: int, step: int) -> int | None:
        if number not in self.numbers:
            return None
        index = self.numbers.index(number) + step
        return self.numbers[index] if 0 <= index < len(self.numbers) else None
