"""WhatsApp exports: every layout and locale, zips, media, marks, odd lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from deskterm.connectors.chatbase import ConnectorError
from deskterm.connectors.records import InboundRecord
from deskterm.connectors.whatsapp import WhatsAppExport, WhatsAppOptions, title_from_name
from tests.chat.builders import (
    LOCALES,
    LRM,
    Msg,
    conversation,
    failures,
    records,
    whatsapp_text,
    write,
    zip_bytes,
)

START = datetime(2019, 12, 30, 13, 33)


def read(path: Path, **options: object) -> list[object]:
    export = WhatsAppExport(path, WhatsAppOptions(**options))  # type: ignore[arg-type]
    try:
        return list(export.items())
    finally:
        export.close()


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_every_locale_reads_the_same_conversation(tmp_path: Path, locale: str) -> None:
    spec = LOCALES[locale]
    messages = conversation(START, spec.seconds)
    path = write(tmp_path / "WhatsApp Chat with Bea.txt", whatsapp_text(locale, messages))
    got = records(read(path))
    assert [(r.sent_at, r.author.name, r.body) for r in got] == [
        (m.when.replace(tzinfo=UTC), m.author, m.text) for m in messages
    ]
    assert got[0].author.kind == "phone" and got[0].author.value == "+14155550142"
    assert got[1].author.kind == "whatsapp" and got[1].author.value == "Ana Souza"
    assert {r.conversation for r in got} == {"whatsapp:Bea"}
    assert got[0].conversation_title == "Hi, my order #4411 never arrived"
    assert len({r.source_key for r in got}) == len(got)


def test_time_zone_converts_local_times_to_utc(tmp_path: Path) -> None:
    text = whatsapp_text("android-en_GB", [Msg(datetime(2020, 7, 14, 9, 0), "Bea", "summer")])
    text += whatsapp_text("android-en_GB", [Msg(datetime(2020, 12, 14, 9, 0), "Bea", "winter")])
    path = write(tmp_path / "chat.txt", text)
    got = records(read(path, tz=ZoneInfo("Europe/Berlin")))
    assert [r.sent_at for r in got] == [
        datetime(2020, 7, 14, 7, 0, tzinfo=UTC),
        datetime(2020, 12, 14, 8, 0, tzinfo=UTC),
    ]
    # Keys do not depend on the zone: a re-import with another --tz finds duplicates.
    assert [r.source_key for r in got] == [r.source_key for r in records(read(path))]


def test_ambiguous_dates_need_date_order(tmp_path: Path) -> None:
    messages = [
        Msg(datetime(2020, 1, 2, 10, 0), "Bea", "first"),
        Msg(datetime(2020, 3, 4, 10, 0), "Bea", "second"),
    ]
    path = write(tmp_path / "chat.txt", whatsapp_text("android-en_GB", messages))
    with pytest.raises(ConnectorError, match=r"day/month or month/day.*--date-order"):
        read(path)
    dmy = records(read(path, date_order="dmy"))
    assert [r.sent_at.date().isoformat() for r in dmy] == ["2020-01-02", "2020-03-04"]
    mdy = records(read(path, date_order="mdy"))
    assert [r.sent_at.date().isoformat() for r in mdy] == ["2020-02-01", "2020-04-03"]


def test_a_day_over_12_anywhere_in_the_file_decides(tmp_path: Path) -> None:
    messages = [Msg(datetime(2020, 1, d, 10, 0), "Bea", f"m{d}") for d in range(1, 13)]
    messages.append(Msg(datetime(2020, 1, 25, 10, 0), "Bea", "late in the file"))
    path = write(tmp_path / "chat.txt", whatsapp_text("android-en_US", messages))
    got = records(read(path))
    assert got[1].sent_at.date().isoformat() == "2020-01-02"
    with pytest.raises(ConnectorError, match="--date-order dmy does not fit"):
        read(path, date_order="dmy")


def test_two_digit_year_first_with_date_order_ymd(tmp_path: Path) -> None:
    path = write(tmp_path / "chat.txt", "19/12/31, 13:33 - Bea: old Japanese phone\n")
    assert records(read(path, date_order="ymd"))[0].sent_at == datetime(
        2019, 12, 31, 13, 33, tzinfo=UTC
    )


def test_system_lines_deleted_messages_and_marks(tmp_path: Path) -> None:
    d = datetime(2021, 5, 20, 10, 0)
    ios = [
        Msg(d, "Bea", "Messages and calls are end-to-end encrypted.", marked=True),
        Msg(d, "Bea", "hello"),
        Msg(d, "Bea", "This message was deleted.", marked=True),
        Msg(d, "Bea", "image omitted", marked=True),
        Msg(d, "Bea", "Missed voice call", marked=True),
        Msg(d, "Ana Souza", "You deleted this message.", marked=True),
        Msg(d, "Bea", "fixed <This message was edited>"),
    ]
    android = [
        Msg(d, None, "Messages and calls are end-to-end encrypted. Tap to learn more."),
        Msg(d, None, "Ana added Bea"),
        Msg(d, "Bea", "This message was deleted"),
        Msg(d, "Bea", "<Media omitted>"),
        Msg(d, "Bea", 'hi "there"'),
        Msg(d, None, "Ana changed the subject to “Re: refunds”"),
    ]
    got_ios = records(read(write(tmp_path / "a" / "_chat.txt", whatsapp_text("ios-de_DE", ios))))
    assert [r.body for r in got_ios] == ["hello", "image omitted", "fixed"]
    got_android = records(
        read(write(tmp_path / "b" / "chat.txt", whatsapp_text("android-de_DE", android)))
    )
    assert [r.body for r in got_android] == ["<Media omitted>", 'hi "there"']
    assert all(LRM not in r.body and LRM not in r.author.name for r in got_ios + got_android)


def test_group_system_lines_in_the_groups_own_name(tmp_path: Path) -> None:
    d = datetime(2021, 5, 20, 10, 0)
    text = whatsapp_text(
        "ios-en_GB",
        [Msg(d, "Team", "Ana created group “Team”"), Msg(d, "Bea", "hi team")],
    ).replace("[20/05/2021, 10:00:00] Group", "[20/05/2021, 10:00:00] Team")
    path = write(tmp_path / "WhatsApp Chat - Team" / "_chat.txt", text)
    got = records(read(path))
    assert [r.body for r in got] == ["hi team"]
    assert got[0].conversation == "whatsapp:Team"


def test_polls_keep_their_key_when_votes_change(tmp_path: Path) -> None:
    d = datetime(2022, 3, 14, 9, 0)
    poll = "POLL:\nWhich day?\nOPTION: Monday ({} votes)\nOPTION: Friday (1 vote)"

    def export(name: str, votes: int) -> list[InboundRecord]:
        text = whatsapp_text("android-en_GB", [Msg(d, "Bea", poll.format(votes))])
        return records(read(write(tmp_path / name, text)))

    first, later = export("1.txt", 2), export("2.txt", 5)
    assert first[0].body.startswith("POLL:\nWhich day?")
    assert "(5 votes)" in later[0].body
    assert first[0].source_key.split(":")[-1] == later[0].source_key.split(":")[-1]


def test_identical_messages_in_one_minute_are_all_kept(tmp_path: Path) -> None:
    d = datetime(2022, 3, 14, 9, 0)
    msgs = [
        Msg(d, "Bea", "ok"),
        Msg(d, "Bea", "ok"),
        Msg(d, "Ana Souza", "ok"),
        Msg(d, "Bea", "ok"),
    ]
    got = records(read(write(tmp_path / "c.txt", whatsapp_text("android-en_GB", msgs))))
    assert len(got) == 4 and len({r.source_key for r in got}) == 4


def test_crlf_and_lf_mixed_and_out_of_order_times(tmp_path: Path) -> None:
    msgs = [
        Msg(datetime(2022, 3, 14, 9, 5), "Bea", "line one\nline two"),
        Msg(datetime(2022, 3, 14, 9, 4), "Ana Souza", "answered from a plane"),
        Msg(datetime(2022, 3, 14, 9, 6), "Bea", "thanks"),
    ]
    text = whatsapp_text("android-en_GB", msgs[:1], newline="\r\n") + whatsapp_text(
        "android-en_GB", msgs[1:]
    )
    got = records(read(write(tmp_path / "c.txt", text)))
    assert [r.body for r in got] == ["line one\nline two", "answered from a plane", "thanks"]
    assert got[1].sent_at < got[0].sent_at


def test_bad_lines_are_failures_not_aborts(tmp_path: Path) -> None:
    text = (
        "garbage before anything\n"
        + whatsapp_text("android-en_GB", [Msg(datetime(2022, 3, 14, 9, 5), "Bea", "fine")])
        + "31/02/2022, 10:00 - Bea: the 31st of February\n"
        + whatsapp_text("android-en_GB", [Msg(datetime(2022, 3, 15, 9, 5), "Bea", "also fine")])
    )
    items = read(write(tmp_path / "c.txt", text))
    assert [r.body for r in records(items)] == ["fine", "also fine"]
    assert [(f.position, f.reason.split(":")[0]) for f in failures(items)] == [
        ("line 1", "text before the first message"),
        ("line 3", "impossible date or time"),
    ]


def test_non_utf8_bytes_are_replaced(tmp_path: Path) -> None:
    raw = whatsapp_text("android-en_GB", [Msg(datetime(2022, 3, 14, 9, 5), "Bea", "caf\x00")])
    path = write(tmp_path / "c.txt", raw.encode().replace(b"\x00", b"\xe9\xff"))
    assert records(read(path))[0].body == "caf\ufffd\ufffd"


def test_utf16_export_with_bom(tmp_path: Path) -> None:
    raw = whatsapp_text("android-en_GB", [Msg(datetime(2022, 3, 14, 9, 5), "Bea", "olá")])
    path = write(tmp_path / "c.txt", raw.encode("utf-16"))
    assert records(read(path))[0].body == "olá"


def test_escape_sequences_in_names_and_text_are_stripped(tmp_path: Path) -> None:
    msgs = [Msg(datetime(2022, 3, 14, 9, 5), "Bea\x1b[31m", "red\x1b]0;pwned\x07 text\nmore")]
    got = records(read(write(tmp_path / "c.txt", whatsapp_text("android-en_GB", msgs))))
    assert got[0].author.name == "Bea"
    assert got[0].body == "red text\nmore"


def test_zip_with_media_macosx_and_attachments(tmp_path: Path) -> None:
    d = datetime(2019, 6, 20, 13, 33, 2)
    chat = whatsapp_text(
        "ios-en_GB",
        [
            Msg(d, "Bea", "<attached: 00000001-PHOTO-2019-06-20-13-33-02.jpg>", marked=True),
            Msg(d, "Bea", "receipt.pdf • 3 pages <attached: 00000002-receipt.pdf>", marked=True),
            Msg(d, "Bea", "<attached: 00000003-missing.opus>", marked=True),
        ],
    )
    path = write(
        tmp_path / "WhatsApp Chat - Bea Costa (1).zip",
        zip_bytes(
            {
                "_chat.txt": chat,
                "00000001-PHOTO-2019-06-20-13-33-02.jpg": b"\xff\xd8" + b"x" * 1000,
                "00000002-receipt.pdf": b"%PDF" + b"y" * 300,
                "__MACOSX/._00000001-PHOTO-2019-06-20-13-33-02.jpg": b"junk",
                "__MACOSX/._chat.txt": b"not a chat",
            }
        ),
    )
    got = records(read(path))
    assert {r.conversation for r in got} == {"whatsapp:Bea Costa"}
    assert [r.body for r in got] == [
        "[attached: 00000001-PHOTO-2019-06-20-13-33-02.jpg]",
        "receipt.pdf • 3 pages",
        "[attached: 00000003-missing.opus]",
    ]
    assert [(a.filename, a.content_type, a.size) for r in got for a in r.attachments] == [
        ("00000001-PHOTO-2019-06-20-13-33-02.jpg", "image/jpeg", 1002),
        ("00000002-receipt.pdf", "application/pdf", 304),
        ("00000003-missing.opus", "audio/ogg", 0),
    ]


def test_android_file_attached_and_stored_media(tmp_path: Path) -> None:
    d = datetime(2019, 6, 20, 13, 33)
    chat = whatsapp_text(
        "android-en_GB",
        [Msg(d, "Bea", "IMG-20190620-WA0001.jpg (file attached)\nthe broken part")],
    )
    path = write(
        tmp_path / "chat.zip",
        zip_bytes({"WhatsApp Chat with Bea.txt": chat, "IMG-20190620-WA0001.jpg": b"img" * 10}),
    )
    store_dir = tmp_path / "data" / "attachments" / "whatsapp"
    got = records(read(path, store_dir=store_dir))
    assert got[0].body == "IMG-20190620-WA0001.jpg (file attached)\nthe broken part"
    assert got[0].attachments[0].size == 30
    stored = Path(got[0].extra["stored:0"])
    assert stored.parent == store_dir.resolve() and stored.read_bytes() == b"img" * 10
    # too big for [ingest] attachment_max_bytes: recorded, not kept
    again = records(read(path, store_dir=tmp_path / "other", max_attachment=10))
    assert again[0].attachments[0].size == 30 and "stored:0" not in again[0].extra


def test_a_zip_inside_a_zip(tmp_path: Path) -> None:
    inner = zip_bytes(
        {"_chat.txt": whatsapp_text("ios-en_GB", conversation(START, True)), "a.jpg": b"1"}
    )
    path = write(tmp_path / "export.zip", zip_bytes({"WhatsApp Chat - Bea.zip": inner}))
    got = records(read(path))
    assert len(got) == 4 and got[0].conversation == "whatsapp:Bea"


def test_a_document_sent_in_the_chat_is_not_taken_for_the_chat(tmp_path: Path) -> None:
    chat = whatsapp_text("android-en_GB", conversation(START, False))
    path = write(
        tmp_path / "x.zip",
        zip_bytes({"notes.txt": "shopping list\nmilk\n", "WhatsApp Chat with Bea.txt": chat}),
    )
    assert len(records(read(path))) == 4


def test_not_a_chat(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="not a WhatsApp chat export"):
        read(write(tmp_path / "notes.txt", "hello\nworld\n"))
    with pytest.raises(ConnectorError, match=r"No WhatsApp chat \(.txt\) found"):
        read(write(tmp_path / "a.zip", zip_bytes({"photo.jpg": b"x"})))
    with pytest.raises(ConnectorError, match="does not exist"):
        read(tmp_path / "nope.txt")


def test_chat_option_overrides_the_title(tmp_path: Path) -> None:
    path = write(
        tmp_path / "renamed.txt", whatsapp_text("android-en_GB", conversation(START, False))
    )
    assert records(read(path, chat="Bea Costa"))[0].conversation == "whatsapp:Bea Costa"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("WhatsApp Chat with Ana Souza.txt", "Ana Souza"),
        ("WhatsApp Chat - Ana Souza.zip", "Ana Souza"),
        ("WhatsApp Chat - Ana Souza (2).zip", "Ana Souza"),
        ("WhatsApp-Chat mit Ana.txt", "Ana"),
        ("Chat de WhatsApp con Ana.txt", "Ana"),
        ("Conversa do WhatsApp com Ana.txt", "Ana"),
        ("export.zip!WhatsApp Chat - Bea.zip", "Bea"),
        ("my-chat.txt", "my-chat"),
    ],
)
def test_titles_from_file_names(name: str, title: str) -> None:
    assert title_from_name(name) == title


def test_occurrence_counters_survive_their_window() -> None:
    from deskterm.connectors.chatbase import Occurrences

    seen = Occurrences(window=2)
    assert [seen.next("1000", "ok"), seen.next("1000", "ok")] == [0, 1]
    assert [seen.next("1001", "a"), seen.next("1002", "b")] == [0, 0]  # rotates once
    assert seen.next("1000", "ok") == 2  # still remembered in the older generation
    assert [seen.next("1003", "c"), seen.next("1004", "d"), seen.next("1005", "e")] == [0, 0, 0]
    assert seen.next("1000", "ok") == 0  # long gone: only a window of recent lines counts


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+1 (415) 555-0100", "US", "+14155550100"),
        ("\u202a+44 7700 900123\u202c", "US", "+447700900123"),
        ("+55 11 91234-5678", "US", "+5511912345678"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("0171 1234567", "DE", "+491711234567"),
        ("0044 7700 900123", "US", "+447700900123"),
        ("Ana Souza", "US", None),
        ("12345", "US", None),
        ("2019", "US", None),
    ],
)
def test_phone_numbers_to_e164(raw: str, region: str, e164: str | None) -> None:
    from deskterm.connectors.phones import to_e164

    assert to_e164(raw, region) == e164


def test_default_region_reads_local_numbers(tmp_path: Path) -> None:
    msgs = [Msg(datetime(2022, 3, 14, 9, 5), "0171 1234567", "Hallo")]
    path = write(tmp_path / "c.txt", whatsapp_text("android-de_DE", msgs))
    assert records(read(path, region="DE"))[0].author.value == "+491711234567"
    assert records(read(path, region="US"))[0].author.kind == "whatsapp"
