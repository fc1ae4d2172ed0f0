"""The tables that shape the workflow: ``[sla]`` and ``[[rules]]``.

Durations, hours and regexes are parsed here, when the file is loaded; the SLA
calendar maths stay in :mod:`deskterm.sla` and rule matching in :mod:`deskterm.triage`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    Strict,
    model_validator,
)

from deskterm.settings.tables import Flag, Priority, Text, Words, _not_empty, _said, _Table
from deskterm.settings.values import (
    nearest,
    parse_clock,
    parse_dates,
    parse_days,
    parse_duration,
    parse_fraction,
    parse_patterns,
    parse_zone,
)

Duration = Annotated[timedelta | None, PlainValidator(parse_duration)]
Clock = Annotated[tuple[int, int], PlainValidator(parse_clock)]
Patterns = Annotated[tuple[re.Pattern[str], ...], PlainValidator(parse_patterns)]


# -- SLA ----------------------------------------------------------------------------------


class TargetSettings(_Table):
    """One priority's targets; a key left out is inherited (``None``: no target)."""

    first_response: Duration = None
    resolution: Duration = None


class TargetsSettings(_Table):
    """``[sla.targets.PRIORITY]`` tables."""

    low: TargetSettings | None = None
    normal: TargetSettings | None = None
    high: TargetSettings | None = None
    urgent: TargetSettings | None = None


class HoursSettings(_Table):
    """``business_hours``: open days and hours in a time zone, minus holidays."""

    timezone: Annotated[ZoneInfo, PlainValidator(parse_zone)] = ZoneInfo("UTC")
    days: Annotated[frozenset[int], PlainValidator(parse_days)] = frozenset(range(5))
    hours: Annotated[str, Strict()] | None = None
    start: Clock = (9, 0)
    end: Clock = (17, 0)
    holidays: Annotated[frozenset[date], PlainValidator(parse_dates)] = frozenset()
    _span: tuple[tuple[int, int], tuple[int, int]] = PrivateAttr(default=((9, 0), (17, 0)))

    @model_validator(mode="after")
    def _opening(self) -> HoursSettings:
        start, end = self.start, self.end
        if self.hours is not None:
            first, sep, last = self.hours.partition("-")
            try:
                start, end = parse_clock(first), parse_clock(last)
            except ValueError:
                sep = ""
            if not sep:
                raise _said("hours", f"expected hours like '09:00-17:00', got {self.hours!r}")
        if start >= end:
            raise _said("hours", "expected the day to end after it starts")
        self._span = (start, end)
        return self

    @property
    def span(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Opening and closing time, as (hours, minutes)."""
        return self._span


def _false_is_none(value: Any) -> Any:
    if value is False or value is None:
        return None
    if not isinstance(value, dict | HoursSettings):
        raise ValueError("expected a table, or false for 24/7")
    return value


Hours = Annotated[HoursSettings | None, BeforeValidator(_false_is_none)]


class TierSettings(_Table):
    """``[sla.tiers.TIER]``: what differs for one customer tier (the rest is inherited)."""

    targets: TargetsSettings = TargetsSettings()
    business_hours: Hours = None  # false: 24/7; left out: the default hours


class SlaSettings(_Table):
    """``[sla]``: targets per priority, business hours, per-tier overrides."""

    enabled: Flag = True
    at_risk: Annotated[float, PlainValidator(parse_fraction)] = 0.25
    targets: TargetsSettings = TargetsSettings()
    business_hours: Hours = None
    tiers: dict[str, TierSettings] = {}


# -- triage rules -------------------------------------------------------------------------


class ConditionSettings(BaseModel):
    """A rule's ``when`` or ``unless``: regexes (a list means any), flags and a score."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    subject: Patterns = ()
    body: Patterns = ()
    text: Patterns = ()
    sender: Patterns = Field(default=(), alias="from")
    to: Patterns = ()
    channel: Patterns = ()
    from_domain: Patterns = ()
    tier: Patterns = ()
    emotion: Patterns = ()
    priority: Patterns = ()
    queue: Patterns = ()
    status: Patterns = ()
    direction: Patterns = ()
    new: Flag | None = None
    min_emotion_score: Annotated[float, Strict()] | None = None

    @model_validator(mode="before")
    @classmethod
    def _known(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("expected a table like { subject = 'refund' }")
        for key in data:
            if key not in cls.condition_keys():
                near = nearest(key, cls.condition_keys())
                raise _said(
                    key,
                    f"not a condition{near} (an ignored condition would make the rule "
                    f"match more than it says)",
                )
        score = data.get("min_emotion_score")
        if score is not None and not (isinstance(score, int | float) and 0 <= score <= 1):
            raise _said("min_emotion_score", f"expected a number from 0 to 1, got {score!r}")
        return data

    @classmethod
    def condition_keys(cls) -> list[str]:
        return [f.alias or name for name, f in cls.model_fields.items()]

    def given(self) -> Iterator[tuple[str, Any]]:
        """The conditions the file sets, as (key, value) in the file's spelling."""
        for name, f in type(self).model_fields.items():
            if name in self.model_fields_set:
                yield f.alias or name, getattr(self, name)

    def written(self) -> dict[str, Any]:
        """The conditions as the file wrote them (regexes as their text)."""
        out: dict[str, Any] = {}
        for key, value in self.given():
            if isinstance(value, tuple):
                texts = [p.pattern for p in value]
                value = texts[0] if len(texts) == 1 else texts
            out[key] = value
        return out


class ActionSettings(_Table):
    """A rule's ``set``: what it does to a matching ticket."""

    queue: Text | None = None
    priority: Priority | None = None
    raise_priority: Priority | None = None
    tags: Annotated[Words, AfterValidator(lambda v: tuple(t.lower() for t in _not_empty(v)))] = ()
    assignee: Text | None = None
    stop: Flag = False

    @model_validator(mode="after")
    def _one_priority(self) -> ActionSettings:
        if self.priority is not None and self.raise_priority is not None:
            raise _said("raise_priority", "set either priority or raise_priority, not both")
        return self


class RuleSettings(_Table):
    """One ``[[rules]]`` entry."""

    name: Text
    when: ConditionSettings = ConditionSettings()
    unless: ConditionSettings = ConditionSettings()
    actions: ActionSettings = Field(default=ActionSettings(), alias="set")
    stop: Flag = False
    enabled: Flag = True


def _rules_array(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        raise ValueError("expected an array of tables: write each rule as [[rules]]")
    return value
