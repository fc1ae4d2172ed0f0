"""Errors the store raises; each message is one sentence a user can act on."""


class StoreError(Exception):
    """The store cannot be opened or used (bad URL, unreachable server, future schema)."""


class NotFound(StoreError):
    """A ticket, customer or other record the caller named does not exist."""


class Conflict(StoreError):
    """Someone else changed the record since it was read (optimistic concurrency).

    ``number`` names the ticket, when the conflict is on one, so a face can reload it.
    """

    def __init__(self, message: str, *, number: int | None = None) -> None:
        super().__init__(message)
        self.number = number


class InvalidValue(StoreError):
    """A value outside the allowed set, such as an unknown status."""


class Cancelled(StoreError):
    """A read was stopped because its reader no longer wants it (see ``ReadCancel``)."""
