"""How a WhatsApp export prints its message headers, found by reading it once.

Every locale prints dates its own way, and a phone's export says nothing about which
one it used. The layout (Android ``date, time - Name:`` or iOS ``[date, time] Name:``)
and the date separator are whatever most header lines agree on. The order of the
date's fields is harder: ``03/04/19`` is the 3rd of April, March the 4th, or (with a
two-digit year first, as some phones write it) the 19th of April 2003.

So every reading (day/month/year, month/day/year, year/month/day) is tried on the
dates of the whole file, in file order. A reading that gives impossible dates (a
13th month, the 30th of February, a two-digit year before WhatsApp or ahead) or makes
the chat jump back in time contradicts the file; the reading with the fewest
contradictions wins. When two readings are both possible and both in time order, the
one under which the chat moves in small steps wins if it is clearly steadier than the
other (4× over several date changes, or years against days over any): a support chat
over eight days is likelier than one message on the first of eight months. A tie
that is left between a year-first reading and one year-last reading (a chat of one
day, ``25/01/20``) goes to the year last, as nearly every locale writes it. Only a
file that is still undecided (day/month against month/day) needs ``--date-order``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from deskterm.connectors.chatbase import ConnectorError

DATE_ORDERS = ("dmy", "mdy", "ymd")

MARK = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_SP = "[ \u00a0\u202f]"
# After the date: a comma or semicolon, then the time, maybe after a word ("à 13:34",
# "klo 13.34"), maybe with a 12-hour marker, maybe followed by a stray period
# ("13:34. -").
_TIME = (
    rf"[,;]?{_SP}+(?:(?:à|a las|às|um|klo|kl\.|alle|в){_SP})?"
    rf"(?:(?P<pre>上午|下午|오전|오후|午前|午後){_SP}?)?"
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    rf"(?:{_SP}?(?P<ampm>[AaPp]\.?{_SP}?[Mm]\.?|vorm\.|nachm\.|ص|م))?\.?"
)
_OPEN = {"ios": rf"^[{MARK}]*\[[{MARK}]*", "android": rf"^[{MARK}]*"}
_CLOSE = {"ios": rf"[{MARK}]*\]{_SP}?", "android": rf"{_SP}?[-–]{_SP}"}
HEADER = re.compile(
    rf"^[{MARK}]*(?P<br>\[)?[{MARK}]*"
    r"(?P<d1>\d{1,4})(?P<sep>[./\-]) ?(?P<d2>\d{1,2})(?P=sep) ?(?P<d3>\d{1,4})\.?"
    + _TIME
    + rf"(?(br){_CLOSE['ios']}|{_CLOSE['android']})"
)
"""A header in any layout and with any separator (the first pass)."""

FIRST_YEAR = 2009  # WhatsApp's first release: no export holds an earlier date
MAX_DATES = 200_000  # date changes remembered per layout (a decade of daily chat)
STEADIER = 4  # how much steadier a reading must be to win a tie of contradictions...
MIN_STEPS = 3  # ...over more date changes than this
YEARS_AGAINST_DAYS = 60  # a ratio that decides even on two dates


@dataclass(frozen=True)
class ChatFormat:
    """How one export prints its headers, found by the first pass."""

    layout: str  # android | ios
    sep: str
    order: str  # dmy | mdy | ymd


def header_pattern(fmt: ChatFormat) -> re.Pattern[str]:
    """The header of exactly one layout and separator: faster than :data:`HEADER`, and
    a pasted line from another phone's export stays part of the message it is in."""
    sep = re.escape(fmt.sep)
    when = rf"(?P<d1>\d{{1,4}}){sep} ?(?P<d2>\d{{1,2}}){sep} ?(?P<d3>\d{{1,4}})\.?"
    return re.compile(_OPEN[fmt.layout] + when + _TIME + _CLOSE[fmt.layout])


def read_date(order: str, d1: int, d2: int, d3: int, last_year: int) -> date | None:
    """The date ``d1 sep d2 sep d3`` means in ``order``, or None if it is impossible."""
    if order == "dmy":
        day, month, year = d1, d2, d3
    elif order == "mdy":
        month, day, year = d1, d2, d3
    else:
        year, month, day = d1, d2, d3
    if year < 100:  # two digits: a year since WhatsApp began, and not ahead of us
        year += 2000
        if not FIRST_YEAR <= year <= last_year:
            return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass
class Tally:
    """The header lines of one layout and separator: how many, and their dates."""

    count: int = 0
    example: str = ""
    dates: list[tuple[int, int, int]] = field(default_factory=list)
    _last: tuple[str, ...] = ()

    def add(self, fields: tuple[str, ...]) -> None:
        """Count a header by its date's three fields as written; the date is kept
        when it differs from the last one (most lines share their neighbour's)."""
        self.count += 1
        if fields != self._last:
            self._last = fields
            if len(self.dates) < MAX_DATES:
                self.dates.append((int(fields[0]), int(fields[1]), int(fields[2])))


@dataclass(frozen=True)
class Reading:
    """How well one date order fits a file's dates."""

    order: str
    impossible: int  # dates that cannot be
    backwards: int  # steps back in time of more than a day
    travel: int  # days moved in all, back and forth

    @property
    def contradictions(self) -> int:
        return self.impossible + self.backwards


def score(order: str, dates: list[tuple[int, int, int]], last_year: int) -> Reading:
    """How ``order`` fits ``dates`` (in file order, consecutive repeats removed).

    A step back of one day is tolerated: exports hold messages slightly out of order
    around midnight.
    """
    impossible = backwards = travel = 0
    previous: int | None = None
    for d1, d2, d3 in dates:
        when = read_date(order, d1, d2, d3, last_year)
        if when is None:
            impossible += 1
            continue
        day = when.toordinal()
        if previous is not None:
            travel += abs(day - previous)
            if day < previous - 1:
                backwards += 1
        previous = day
    return Reading(order, impossible, backwards, travel)


def decide_order(tally: Tally, forced: str | None, label: str, last_year: int) -> str:
    """The date order of the file ``label`` (see the module's docstring).

    ``forced`` (``--date-order``) is taken unless it gives impossible dates where
    another order gives none. :class:`ConnectorError` when the file cannot tell.
    """
    readings = sorted(
        (score(order, tally.dates, last_year) for order in DATE_ORDERS),
        key=lambda r: (r.contradictions, r.travel),
    )
    by_order = {r.order: r for r in readings}
    best = readings[0]
    if forced is not None:
        chosen = by_order[forced]
        if chosen.impossible and not best.impossible:
            raise ConnectorError(
                f"--date-order {forced} does not fit {label}: {chosen.impossible} of its "
                f"dates are impossible that way (e.g. {tally.example!r}); its dates read "
                f"as {best.order}."
            )
        return forced
    if best.impossible > max(1, len(tally.dates) // 100):
        raise ConnectorError(
            f"The dates in {label} fit no date order (even read as {best.order}, "
            f"{best.impossible} are impossible, e.g. {tally.example!r}); check that it is "
            "one chat export."
        )
    tied = [r for r in readings if r.contradictions == best.contradictions]
    if len(tied) == 1 or all(_steadier(best, r, len(tally.dates)) for r in tied[1:]):
        return best.order
    year_last = [r.order for r in tied if r.order != "ymd"]
    if len(year_last) == 1:
        return year_last[0]
    choices = " or ".join(f"--date-order {r.order}" for r in tied)
    raise ConnectorError(
        f"Cannot tell whether the dates in {label} are day/month or month/day: every "
        f"date in it fits both, in time order (e.g. {tally.example!r}). Run again with "
        f"{choices}."
    )


def _steadier(best: Reading, other: Reading, dates: int) -> bool:
    """Whether ``best`` moves through time clearly more steadily than ``other``."""
    ratio = other.travel / max(1, best.travel)
    return ratio >= YEARS_AGAINST_DAYS or (dates > MIN_STEPS and ratio >= STEADIER)
