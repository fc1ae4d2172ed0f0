"""Subject normalization and ticket tokens: threading mail without headers, and the
subject of a reply (one set of rules, so a reply threads back to its ticket)."""

from __future__ import annotations

import re
from functools import lru_cache

# Reply/forward prefixes in the languages support desks meet most, with optional
# counters ("Re[2]:", "RE: RE:") and bracketed list tags.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|ref|rif|r|fwd?|fw|wg|tr|rv|enc|doorst|i)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*|\[[^\]]{1,40}\]\s*)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\[(?:ticket\s*)?#\s*(\d{1,12})\]", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def ticket_token(subject: str) -> int | None:
    """The ticket number in a ``[#1234]`` or ``[Ticket #1234]`` token, if any."""
    match = _TOKEN.search(subject or "")
    return int(match.group(1)) if match else None


def format_token(number: int) -> str:
    """The token deskterm puts in reply subjects, recognized by :func:`ticket_token`."""
    return f"[#{number}]"


def strip_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, list tags and ticket tokens, as
    written (the base of a reply's subject)."""
    text = _TOKEN.sub(" ", subject or "")
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text)
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=8192)  # an import asks for each message's subject a few times
def normalize_subject(subject: str) -> str:
    """The subject without prefixes, tokens, case or spacing differences (for matching)."""
    return strip_subject(subject).casefold()


def reply_subject(subject: str, number: int) -> str:
    """``Re: <subject without prefixes and tokens> [#N]``."""
    base = strip_subject(subject)
    return f"Re: {base} {format_token(number)}" if base else f"Re: {format_token(number)}"
