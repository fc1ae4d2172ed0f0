"""SLA arithmetic (business hours, time zones, holidays, pauses) and clocks in the store."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from deskterm import sla
from deskterm.ingest.hooks import default_hooks
from deskterm.ingest.pipeline import Ingestor
from deskterm.query import parse_query
from deskterm.settings import ConfigError, Settings, parse_settings
from deskterm.settings.values import parse_duration
from deskterm.store import Store
from deskterm.store.types import utcnow
from tests.store.helpers import mail

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)

OFFICE = {
    "business_hours": {
        "timezone": "Europe/Berlin",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "hours": "09:00-17:00",
        "holidays": ["2026-12-25"],
    },
    "targets": {"normal": {"first_response": "4h", "resolution": "16h"}},
}


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def hours_of(policy: sla.SlaPolicy) -> sla.Calendar:
    return policy.default.calendar


def parse_policy(table: dict[str, object]) -> sla.SlaPolicy:
    return sla.SlaPolicy.from_settings(parse_settings({"sla": table}).sla)


# -- durations and parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", 4 * H),
        ("1d 4h", 28 * H),
        ("1.5h", timedelta(minutes=90)),
        (90, timedelta(minutes=90)),
        ("2w", timedelta(days=14)),
    ],
)
def test_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["4 hours", "", "h", "-1h", 0, True, "4h tomorrow"])
def test_bad_durations_name_the_key(text: object) -> None:
    with pytest.raises(
        ConfigError, match=r"^config \[sla\.targets\.high\] resolution: expected a duration"
    ):
        parse_policy({"targets": {"high": {"resolution": text}}})


def test_none_means_no_target() -> None:
    policy = parse_policy({"targets": {"low": {"resolution": "none"}}})
    assert policy.default.targets["low"].resolution is None
    assert policy.default.targets["low"].first_response == timedelta(days=1)  # default kept


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"business_hours": {"timezone": "Mars/Olympus"}}, r"\[sla\.business_hours\] timezone"),
        ({"business_hours": {"days": ["mon", "funday"]}}, r"\[sla\.business_hours\] days"),
        ({"business_hours": {"hours": "17:00-09:00"}}, r"end after it starts"),
        ({"business_hours": {"holidays": ["25.12.2026"]}}, r"business_hours\] holidays"),
        ({"business_hours": "weekdays"}, r"\[sla\] business_hours: expected a table, or false"),
        ({"at_risk": "150%"}, r"\[sla\] at_risk"),
        ({"enabled": "yes"}, r"\[sla\] enabled: expected true or false, got 'yes'"),
        ({"tiers": {"gold": {"targets": {"high": {"resolution": "x"}}}}},
         r"\[sla\.tiers\.gold\.targets\.high\] resolution"),
    ],
)  # fmt: skip
def test_policy_errors_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_policy(table)


@pytest.mark.parametrize(
    ("table", "warning"),
    [
        ({"targets": {"critical": {}}}, r"\[sla\.targets\] critical \(known: low, normal"),
        ({"targets": {"high": {"first": "1h"}}}, r"\[sla\.targets\.high\] first \(known"),
        ({"tiers": {"gold": {"hours": "x"}}}, r"\[sla\.tiers\.gold\] hours"),
        ({"targetz": {}}, r"\[sla\] targetz — did you mean targets\?"),
    ],
)
def test_unknown_policy_keys_warn(table: dict[str, object], warning: str) -> None:
    (found,) = parse_settings({"sla": table}).warnings
    assert re.search(warning, found)


# -- business-hours arithmetic --------------------------------------------------------------


def test_add_within_one_day_and_across_a_weekend() -> None:
    cal = hours_of(parse_policy(OFFICE))
    # Friday 2026-11-06 15:00 Berlin + 4 h of office time = Monday 11:00.
    assert cal.add(local(2026, 11, 6, 15, 0), 4 * H) == local(2026, 11, 9, 11, 0)
    assert cal.add(local(2026, 11, 4, 9, 30), 2 * H) == local(2026, 11, 4, 11, 30)
    # Saturday night counts from Monday's opening.
    assert cal.add(local(2026, 11, 7, 23, 0), 30 * timedelta(minutes=1)) == local(
        2026, 11, 9, 9, 30
    )
    # Exactly the end of a day stays on that day.
    assert cal.add(local(2026, 11, 4, 9, 0), 8 * H) == local(2026, 11, 4, 17, 0)


def test_between_counts_only_open_time() -> None:
    cal = hours_of(parse_policy(OFFICE))
    assert cal.between(local(2026, 11, 6, 15, 0), local(2026, 11, 9, 11, 0)) == 4 * H
    assert cal.between(local(2026, 11, 7, 10, 0), local(2026, 11, 8, 18, 0)) == timedelta(0)
    assert cal.between(local(2026, 11, 9, 11, 0), local(2026, 11, 6, 15, 0)) == timedelta(0)
    start = local(2026, 11, 2, 13, 17)
    for hours in (1, 7, 9, 23, 41):
        assert cal.between(start, cal.add(start, hours * H)) == hours * H


def test_holidays_are_skipped() -> None:
    cal = hours_of(parse_policy(OFFICE))
    # Thursday 2026-12-24 16:00 + 2 h: 1 h that day, Christmas (Friday) off, weekend off.
    assert cal.add(local(2026, 12, 24, 16, 0), 2 * H) == local(2026, 12, 28, 10, 0)


def test_daylight_saving_change_keeps_local_office_hours() -> None:
    cal = hours_of(parse_policy(OFFICE))
    # Berlin leaves summer time on Sunday 2026-10-25: 09:00 local is 07:00 UTC before
    # and 08:00 UTC after.
    friday = cal.add(local(2026, 10, 23, 16, 0), 2 * H)
    assert friday == local(2026, 10, 26, 10, 0)
    assert friday == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_a_calendar_open_one_day_a_week() -> None:
    policy = parse_policy({"business_hours": {"days": ["sat"], "timezone": "UTC"}})
    cal = hours_of(policy)
    monday = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert cal.add(monday, 9 * H) == datetime(2026, 11, 14, 10, 0, tzinfo=UTC)


def test_tier_overrides_targets_and_hours() -> None:
    policy = parse_policy(
        {
            **OFFICE,
            "tiers": {
                "enterprise": {
                    "business_hours": False,
                    "targets": {"normal": {"first_response": "1h"}},
                }
            },
        }
    )
    ent = policy.plan("Enterprise")
    assert isinstance(ent.calendar, sla.AlwaysOpen)
    assert ent.targets["normal"].first_response == H
    assert ent.targets["normal"].resolution == 16 * H  # inherited from the base
    assert policy.plan("free") is policy.default


# -- clocks ------------------------------------------------------------------------------


class T:
    """A ticket-like object for the pure clock functions."""

    def __init__(self, created: datetime, priority: str = "normal", status: str = "new") -> None:
        self.status = status
        self.priority = priority
        self.created_at = created
        self.first_response_at: datetime | None = None
        self.solved_at: datetime | None = None
        self.sla_first_response_due: datetime | None = None
        self.sla_resolution_due: datetime | None = None
        self.sla_next_due: datetime | None = None
        self.sla_warn_at: datetime | None = None
        self.sla_paused_at: datetime | None = None
        self.sla_paused_seconds = 0.0


def test_new_ticket_clocks_and_at_risk_point() -> None:
    policy = parse_policy({**OFFICE, "at_risk": "25%"})
    t = T(local(2026, 11, 2, 9, 0))
    sla.apply(policy, t, None, t.created_at)
    assert t.sla_first_response_due == local(2026, 11, 2, 13, 0)
    assert t.sla_resolution_due == local(2026, 11, 3, 17, 0)
    assert t.sla_next_due == t.sla_first_response_due
    assert t.sla_warn_at == local(2026, 11, 2, 12, 0)  # 1 h (25 % of 4 h) left
    assert sla.status(t, local(2026, 11, 2, 11, 0)).state == "ok"
    at_risk = sla.status(t, local(2026, 11, 2, 12, 30))
    assert (at_risk.state, at_risk.clock, at_risk.label) == ("at-risk", "first_response", "30m")
    late = sla.status(t, local(2026, 11, 2, 14, 5))
    assert (late.state, late.label, late.short) == ("breached", "-1h 05m", "-1h")
    assert at_risk.short == "30m"
    assert sla.status(t, local(2026, 11, 1, 9, 0)).short == "28h"
    assert sla.format_short(timedelta(days=-4000)) == "-999d"


def test_first_reply_stops_the_first_response_clock() -> None:
    policy = parse_policy(OFFICE)
    t = T(local(2026, 11, 2, 9, 0))
    sla.apply(policy, t, None, t.created_at)
    t.first_response_at = local(2026, 11, 2, 10, 0)
    sla.apply(policy, t, None, t.first_response_at)
    assert t.sla_next_due == t.sla_resolution_due == local(2026, 11, 3, 17, 0)
    assert sla.status(t, local(2026, 11, 2, 14, 0)).clock == "resolution"


def test_pending_pauses_the_resolution_clock_by_open_time() -> None:
    policy = parse_policy(OFFICE)
    t = T(local(2026, 11, 2, 9, 0), status="open")
    t.first_response_at = local(2026, 11, 2, 9, 30)
    sla.apply(policy, t, None, t.created_at)
    assert t.sla_resolution_due == local(2026, 11, 3, 17, 0)
    # Pending from Monday 15:00 to Tuesday 11:00: 2 h Monday + 2 h Tuesday of office time.
    t.status = "pending"
    sla.apply(policy, t, None, local(2026, 11, 2, 15, 0))
    # One tuple, so the type checker does not narrow fields that apply() changes later.
    assert (t.sla_paused_at, t.sla_next_due) == (local(2026, 11, 2, 15, 0), None)
    paused = sla.status(t, local(2026, 11, 3, 18, 0))
    assert (paused.state, paused.label, paused.short) == ("paused", "paused", "pause")
    t.status = "open"
    sla.apply(policy, t, None, local(2026, 11, 3, 11, 0))
    assert t.sla_paused_at is None
    assert t.sla_paused_seconds == 4 * 3600
    assert t.sla_resolution_due == local(2026, 11, 4, 13, 0)  # 16 h + 4 h of office time
    assert t.sla_next_due == t.sla_resolution_due


def test_solved_stops_and_reopen_continues() -> None:
    policy = parse_policy({})  # defaults, 24/7: normal resolution 3 days
    created = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    t = T(created, status="open")
    t.first_response_at = created + H
    sla.apply(policy, t, None, created)
    t.status, t.solved_at = "solved", created + 10 * H
    sla.apply(policy, t, None, t.solved_at)
    assert sla.status(t, created + 100 * H).state == "met"
    t.status, t.solved_at = "open", None
    sla.apply(policy, t, None, created + 34 * H)
    assert t.sla_resolution_due == created + 72 * H + 24 * H


def test_priority_change_recomputes_from_creation() -> None:
    policy = parse_policy({})
    created = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    t = T(created)
    sla.apply(policy, t, None, created)
    assert t.sla_first_response_due == created + 8 * H
    t.priority = "urgent"
    sla.apply(policy, t, None, created + 2 * H)
    assert t.sla_first_response_due == created + H
    assert sla.status(t, created + 2 * H).state == "breached"


def test_disabled_policy_clears_clocks() -> None:
    policy = parse_policy({"enabled": False})
    t = T(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    sla.apply(policy, t, None, t.created_at)
    assert t.sla_next_due is None and sla.status(t, t.created_at).state == "none"


# -- in the store and at ingest ----------------------------------------------------------------


def ingest_with(store: Store, config: Settings, *records: object) -> None:
    Ingestor(store, config, hooks=default_hooks(config)).run(list(records), connector="test")  # type: ignore[arg-type]


def test_ingest_sets_due_times_and_the_store_recomputes_them(store: Store) -> None:
    config = parse_settings({"sla": {"targets": {"normal": {"first_response": "2h"}}}})
    store.sla.use_sla_policy(sla.SlaPolicy.from_settings(config.sla))
    created = utcnow() - 3 * H
    ingest_with(store, config, mail(at=created))
    number = store.queue.list_tickets().rows[0].number
    t = store.tickets.get_ticket(number).ticket
    assert t.sla_first_response_due == created + 2 * H
    assert t.sla_next_due == created + 2 * H
    assert [r.number for r in store.queue.list_tickets(parse_query("sla:breached")).rows] == [
        number
    ]
    assert store.queue.list_tickets(parse_query("sla:at-risk")).rows == []
    assert store.sla.sla_counts() == {"breached": 1, "at-risk": 0}
    store.tickets.set_priority(number, "low", "ana")  # first response 1 day: fine again
    t = store.tickets.get_ticket(number).ticket
    assert t.sla_first_response_due == created + timedelta(days=1)
    assert store.queue.list_tickets(parse_query("sla:breached")).rows == []
    store.tickets.set_status(number, "pending", "ana")
    assert store.tickets.get_ticket(number).ticket.sla_paused_at is not None
    store.tickets.set_status(number, "open", "ana")
    assert store.tickets.get_ticket(number).ticket.sla_paused_at is None


def test_at_risk_filter_and_tier_change(store: Store) -> None:
    config = parse_settings(
        {
            "sla": {
                "targets": {"normal": {"first_response": "4h"}},
                "tiers": {"premium": {"targets": {"normal": {"first_response": "1h"}}}},
            }
        }
    )
    store.sla.use_sla_policy(sla.SlaPolicy.from_settings(config.sla))
    created = utcnow() - 200 * timedelta(minutes=1)  # 3h20m into a 4 h target: at risk
    ingest_with(store, config, mail("vip@acme.com", at=created))
    row = store.queue.list_tickets().rows[0]
    assert [r.number for r in store.queue.list_tickets(parse_query("sla:at-risk")).rows] == [
        row.number
    ]
    assert sla.status(row, utcnow()).state == "at-risk"
    assert row.customer_id is not None
    store.customers.set_customer_tier(row.customer_id, "Premium", "ana")
    t = store.tickets.get_ticket(row.number).ticket
    assert t.sla_first_response_due == created + H
    assert [r.number for r in store.queue.list_tickets(parse_query("sla:breached")).rows] == [
        row.number
    ]
    assert [e.kind for e in store.tickets.events(row.number)][
        -1
    ] == "created"  # tier is a customer event


def test_inbound_reply_to_a_pending_ticket_resumes_its_clock(store: Store) -> None:
    config = parse_settings({})
    store.sla.use_sla_policy(sla.SlaPolicy.from_settings(config.sla))
    start = utcnow() - 10 * H
    first = mail(at=start, message_id="<q1@x>")
    ingest_with(store, config, first)
    number = store.queue.list_tickets().rows[0].number
    store.tickets.set_status(number, "pending", "ana")
    paused_at = store.tickets.get_ticket(number).ticket.sla_paused_at
    assert paused_at is not None
    ingest_with(store, config, mail(at=utcnow() + H, message_id="<q2@x>", in_reply_to="<q1@x>"))
    t = store.tickets.get_ticket(number).ticket
    assert t.status == "open"
    assert t.sla_paused_at is None
    assert t.sla_paused_seconds == pytest.approx(
        3600 + (utcnow() - paused_at).total_seconds(), abs=5
    )


def test_recompute_after_a_policy_change(store: Store) -> None:
    config = parse_settings({})
    store.sla.use_sla_policy(sla.SlaPolicy.from_settings(config.sla))
    created = utcnow() - H
    ingest_with(store, config, mail(at=created))
    stricter = parse_policy({"targets": {"normal": {"first_response": "30m"}}})
    store.sla.use_sla_policy(stricter)
    assert store.sla.recompute_sla() == 1
    assert store.sla.recompute_sla() == 0
    assert store.sla.sla_counts()["breached"] == 1


def test_cli_lists_breached_and_at_risk(store: Store, db_path: Path) -> None:
    from typer.testing import CliRunner

    from deskterm.cli import app

    config = parse_settings({})
    now = utcnow()
    ingest_with(
        store,
        config,
        mail("old@x.org", "Old question", "hello", at=now - 12 * H),  # FR 8 h: breached
        mail("mid@x.org", "Recent question", "hello", at=now - 7 * H),  # 1 h left: at risk
        mail("new@x.org", "New question", "hello", at=now - H),
    )
    runner = CliRunner()
    db = str(db_path)
    out = runner.invoke(app, ["--db", db, "tickets", "list", "--sla", "breached", "--json"])
    assert out.exit_code == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["subject"] for r in rows] == ["Old question"]
    assert rows[0]["sla_state"] == "breached" and rows[0]["sla"].startswith("-4h")
    out = runner.invoke(app, ["--db", db, "tickets", "list", "--sla", "at-risk", "--json"])
    assert [r["subject"] for r in json.loads(out.stdout)] == ["Recent question"]
    out = runner.invoke(app, ["--db", db, "tickets", "list", "-q", "sla:at-risk", "--json"])
    assert [r["subject"] for r in json.loads(out.stdout)] == ["Recent question"]
    out = runner.invoke(app, ["--db", db, "tickets", "list", "--sla", "late"])
    assert out.exit_code == 1 and "breached or at-risk" in out.stderr
    out = runner.invoke(app, ["--db", db, "sla", "status", "--json"])
    assert json.loads(out.stdout) == {"breached": 1, "at-risk": 1}
    out = runner.invoke(app, ["--db", db, "sla", "status", "1", "--json"])
    assert json.loads(out.stdout)["state"] == "breached"
    out = runner.invoke(app, ["--db", db, "tickets", "show", "1"])
    assert "SLA: breached, first response overdue by 4h" in out.stdout
    assert "Emotion: neutral" in out.stdout
