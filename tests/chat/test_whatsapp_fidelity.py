"""WhatsApp fidelity: date order from the whole file, two-digit years, odd separators,
and a ticket subject taken from what the customer wrote."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from deskterm.connectors.chatbase import ConnectorError
from deskterm.connectors.whatsapp import WhatsAppExport, WhatsAppOptions
from deskterm.connectors.whatsapp_subject import subject_line
from deskterm.store import Store
from tests.chat.builders import Msg, cli, records, whatsapp_text, write

BEA = "Bea Costa"
ANA = "Ana Souza"


def read(path: Path, **options: object) -> list[object]:
    export = WhatsAppExport(path, WhatsAppOptions(**options))  # type: ignore[arg-type]
    try:
        return list(export.items())
    finally:
        export.close()


def dates_of(path: Path, **options: object) -> list[str]:
    return [r.sent_at.date().isoformat() for r in records(read(path, **options))]


def android(header: str, author: str, text: str) -> str:
    return f"{header} - {author}: {text}\n"


def lines(fmt: str, days: list[date]) -> str:
    return "".join(android(d.strftime(fmt) + ", 10:00", BEA, f"m{i}") for i, d in enumerate(days))


# Days all ≤ 12 (each date fits day/month and month/day), crossing a month boundary.
DAYS = [date(2024, 3, 10), date(2024, 3, 11), date(2024, 3, 12), date(2024, 4, 1),
        date(2024, 4, 2)]  # fmt: skip


@pytest.mark.parametrize("fmt", ["%d/%m/%y", "%m/%d/%y", "%d.%m.%Y", "%m-%d-%Y"])
def test_the_reading_that_keeps_time_order_wins(tmp_path: Path, fmt: str) -> None:
    # Read the other way, the chat would jump back from the 3rd of December to the
    # 4th of January (or 1 December → 4 January): that reading loses.
    path = write(tmp_path / "chat.txt", lines(fmt, DAYS))
    assert dates_of(path) == [d.isoformat() for d in DAYS]


def test_a_chat_over_a_few_days_beats_one_message_a_month(tmp_path: Path) -> None:
    days = [date(2024, 1, d) for d in range(3, 11)]  # both readings stay in time order
    path = write(tmp_path / "chat.txt", lines("%d/%m/%y", days))
    assert dates_of(path) == [d.isoformat() for d in days]


def test_still_undecided_asks_clearly(tmp_path: Path) -> None:
    days = [date(2020, 1, 2), date(2020, 3, 4)]  # 62 days apart either way
    path = write(tmp_path / "chat.txt", lines("%d/%m/%Y", days))
    with pytest.raises(ConnectorError) as err:
        read(path)
    assert "are day/month or month/day" in str(err.value)
    assert "--date-order dmy or --date-order mdy" in str(err.value)
    assert dates_of(path, date_order="mdy") == ["2020-02-01", "2020-04-03"]


@pytest.mark.parametrize(
    ("fmt", "days"),
    [
        ("%y-%m-%d", [date(2024, 1, 11), date(2024, 1, 12), date(2024, 1, 15), date(2024, 2, 3)]),
        ("%y-%m-%d", [date(2019, 12, 30), date(2019, 12, 31)]),
        ("%y/%m/%d", [date(2023, 5, 2), date(2023, 5, 9)]),
        ("%d-%m-%y", [date(2024, 1, 11), date(2024, 1, 12), date(2024, 1, 15)]),
        ("%d-%m-%y", [date(2020, 1, 25)]),
        ("%m-%d-%y", [date(2024, 1, 11), date(2024, 1, 12), date(2024, 1, 15)]),
        ("%m-%d-%y", [date(2024, 11, d) for d in range(5, 9)]),
    ],
)
def test_two_digit_years_first_or_last(tmp_path: Path, fmt: str, days: list[date]) -> None:
    path = write(tmp_path / "chat.txt", lines(fmt, days))
    assert dates_of(path) == [d.isoformat() for d in days]


def test_a_forced_order_that_gives_impossible_dates_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "chat.txt", lines("%y-%m-%d", [date(2024, 1, 11), date(2024, 2, 3)]))
    with pytest.raises(ConnectorError, match=r"--date-order mdy does not fit .* read as ymd"):
        read(path, date_order="mdy")


@pytest.mark.parametrize(
    "header",
    [
        "31.12.19, 13:34.",  # a period after the time
        "31.12.2019 klo 13.34",  # Finnish
        "31/12/2019 à 13:34",  # French
        "31/12/19; 13:34",  # a semicolon after the date
        "31.12.19 klo 13.34.",
    ],
)
def test_odd_separators(tmp_path: Path, header: str) -> None:
    text = android(header, BEA, "the parcel is late") + "and broken\n"
    text += android(header.replace("13", "14", 1).replace("34", "40"), ANA, "sorry!")
    [first, second] = records(read(write(tmp_path / "chat.txt", text)))
    assert first.sent_at == datetime(2019, 12, 31, 13, 34, tzinfo=UTC)
    assert first.body == "the parcel is late\nand broken"
    assert second.author.name == ANA


def test_subject_is_the_first_customer_line(tmp_path: Path) -> None:
    start = datetime(2024, 5, 13, 9, 0)
    messages = [
        Msg(start, ANA, "Hi Bea, did the refund arrive?"),
        Msg(start + timedelta(minutes=5), BEA, "<Media omitted>"),
        Msg(start + timedelta(minutes=6), BEA, "No!  It did not.\nStill waiting"),
        Msg(start + timedelta(minutes=9), ANA, "Checking"),
        Msg(start + timedelta(days=3), ANA, "Any news?"),  # a new session, no answer
        Msg(start + timedelta(days=9), BEA, "x" * 30 + " " + "long words " * 10),
    ]
    path = write(tmp_path / "WhatsApp Chat with Bea.txt", whatsapp_text("android-en_GB", messages))
    got = records(read(path, agents=frozenset({ANA.casefold()})))
    assert [r.conversation_title for r in got] == [
        "No! It did not.", "No! It did not.", "No! It did not.",
        "WhatsApp chat with Bea",  # agents only until the session ended
        "WhatsApp chat with Bea", subject_line(messages[-1].text),
    ]  # fmt: skip
    cut = got[-1].conversation_title
    assert cut.endswith("…") and len(cut) <= 81  # cut between words, and says so
    assert messages[-1].text.startswith(cut[:-1] + " ")
    # Without configured agents everyone is a customer, as in the pipeline.
    assert records(read(path))[0].conversation_title == "Hi Bea, did the refund arrive?"


def test_ticket_subject_through_the_cli(tmp_path: Path, db_path: Path, store: Store) -> None:
    start = datetime(2024, 5, 13, 9, 0)
    messages = [Msg(start, BEA, "My card was charged twice"),
                Msg(start + timedelta(minutes=3), ANA, "Sorry! Checking.")]  # fmt: skip
    path = write(tmp_path / "WhatsApp Chat with Bea.txt", whatsapp_text("android-en_GB", messages))
    cli("--db", str(db_path), "import", "whatsapp", str(path), "--tz", "UTC")
    [ticket] = store.queue.list_tickets(limit=5).rows
    assert ticket.subject == "My card was charged twice"
