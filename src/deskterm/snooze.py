"""When a snoozed ticket comes back: date phrases ("tomorrow 9:00", "in 3d", "mon")
read by dateparser in the agent's local time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time

MORNING = time(9, 0)  # "mon" means Monday morning, not midnight


class WhenError(ValueError):
    """A phrase that names no future moment; the message says what to type."""


def parse_when(phrase: str, now: datetime) -> datetime:
    """The UTC moment ``phrase`` names, after ``now`` (an aware datetime)."""
    import dateparser  # slow to import: only when a snooze is set

    text = phrase.strip()
    local_now = now.astimezone()
    when = dateparser.parse(
        text,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if when is None:
        raise WhenError(f"Cannot read {phrase!r} as a time; try 'tomorrow 9:00', 'in 3d' or 'mon'.")
    if when.time() == time(0, 0) and not any(c.isdigit() for c in text):
        when = datetime.combine(when.date(), MORNING)
    aware: datetime = when.replace(tzinfo=local_now.tzinfo).astimezone(UTC)
    if aware <= now:
        raise WhenError(f"{phrase!r} is in the past; a snooze needs a future time.")
    return aware
