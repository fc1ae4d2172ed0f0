"""Parsers for the small languages inside config values: durations (``"1d 4h"``),
times of day, weekdays, dates, fractions (``"25%"``), zones and regexes.

Pure functions at the bottom of the layers, so :mod:`deskterm.settings` can check a
value when the file is loaded without importing the services that use it. Each raises
``ValueError("expected ...")``; the settings module adds file, table, key and value.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|min|s)\b", re.IGNORECASE)
_UNIT = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}


def parse_duration(value: Any) -> timedelta | None:
    """``"1d 4h"``, ``"30m"``, ``90`` (minutes); ``"none"``/``false`` for no target."""
    if value is False or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(minutes=float(value))
    if isinstance(value, str):
        text = value.strip()
        parts = _DURATION.findall(text)
        leftover = _DURATION.sub("", text).strip()
        if parts and not leftover:
            seconds = sum(float(n) * _UNIT[u.lower()] for n, u in parts)
            if seconds > 0:
                return timedelta(seconds=seconds)
    raise ValueError("expected a duration like '4h', '30m' or '1d 4h' (or 'none')")


def parse_clock(value: Any) -> tuple[int, int]:
    """(hours, minutes) of ``HH:MM``; ``24:00`` is allowed as the end of a day."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if minutes <= 59 and (hours < 24 or (hours == 24 and not minutes)):
            return hours, minutes
    raise ValueError("expected a time of day like '09:00'")


def parse_days(value: Any) -> frozenset[int]:
    """Weekday numbers (0 = Monday) of ``["mon", "Tuesday", ...]``."""
    if isinstance(value, list) and value:
        keys = [str(name).strip().lower()[:3] for name in value]
        if all(key in DAY_NAMES for key in keys):
            return frozenset(DAY_NAMES.index(key) for key in keys)
    raise ValueError("expected a list of weekdays like ['mon', 'tue']")


def parse_dates(value: Any) -> frozenset[date]:
    """TOML dates or ISO date strings."""
    if isinstance(value, list):
        try:
            return frozenset(v if isinstance(v, date) else date.fromisoformat(v) for v in value)
        except (TypeError, ValueError):
            pass
    raise ValueError("expected a list of dates like ['2026-12-25']")


def parse_fraction(value: Any) -> float:
    """``0.25`` or ``"25%"``, at least 0 and below 1."""
    number: float | None = None
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = float(value.strip()[:-1]) / 100
        except ValueError:
            number = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    if number is None or not 0 <= number < 1:
        raise ValueError("expected a fraction from 0 to below 1, like 0.25 or '25%'")
    return number


def parse_zone(value: Any) -> ZoneInfo:
    """An IANA time zone (``UTC`` and ``Z`` too)."""
    if isinstance(value, str) and value:
        if value.upper() in ("UTC", "Z"):
            return ZoneInfo("UTC")
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ValueError("expected a time zone name such as 'Europe/Berlin'")


def parse_patterns(value: Any) -> tuple[re.Pattern[str], ...]:
    """One case-insensitive regex or a list of them (any may match)."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ValueError("expected a regular expression or a list of them")
    patterns = []
    for text in items:
        try:
            patterns.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            raise ValueError(f"expected a valid regular expression ({exc})") from None
    return tuple(patterns)


def nearest(key: str, known: list[str]) -> str:
    """`` — did you mean KEY?`` for a misspelt key, else the list of known keys."""
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" — did you mean {match[0]}?" if match else f" (known: {', '.join(known)})"
