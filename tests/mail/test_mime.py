"""MIME to record: the nasty-mail corpus parses to clean, correct text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deskterm.connectors.mime import MailError, ParseOptions, parse_message
from deskterm.connectors.mimeparts import split_multipart
from deskterm.connectors.mimetext import decode_bytes, parse_date
from deskterm.connectors.records import content_hash
from tests.mail import corpus

ESC_OR_CONTROL = [chr(c) for c in (*range(9), *range(11, 32), 0x7F, *range(0x80, 0xA0))]


def assert_clean(*texts: str) -> None:
    for text in texts:
        for ch in ESC_OR_CONTROL:
            assert ch not in text, f"{ch!r} in {text!r}"


def test_adjacent_encoded_words_in_a_name_have_no_space() -> None:
    """CPython issue 128110: policy.default would give "Παπ αδόπουλος"."""
    record = parse_message(corpus.adjacent_words_name())
    assert record.author.name == "Παπαδόπουλος"
    assert record.author.value == "nikos@example.gr"


@pytest.mark.parametrize(
    ("raw", "name", "subject", "body"),
    [
        (corpus.iso2022jp(), "田中 裕子", "ログインできません", "ログインできません"),
        (corpus.koi8r(), "Ольга Иванова", "Не работает вход", "не работает вход"),
        (corpus.windows1252(), "Jürgen Müller", "„Rechnung“ – € 10", "über 10 € ist „falsch“"),
        (corpus.gb2312(), "王伟", "无法登录", "朱镕基"),
    ],
    ids=["iso-2022-jp", "koi8-r", "windows-1252", "gb2312-as-gbk"],
)
def test_charsets(raw: bytes, name: str, subject: str, body: str) -> None:
    record = parse_message(raw)
    assert record.author.name == name
    assert record.subject == subject
    assert body in record.body
    assert "\ufffd" not in record.body + record.subject + record.author.name


def test_unknown_and_lying_charsets_decode_with_replacement() -> None:
    assert decode_bytes("café".encode(), "x-no-such-charset") == "café"
    assert decode_bytes(b"caf\xe9 \xff", "x-no-such-charset") == "caf\ufffd \ufffd"
    assert decode_bytes(b"caf\xe9", "utf-8") == "caf\ufffd"
    assert decode_bytes("café".encode(), "us-ascii") == "café"  # mislabelled UTF-8
    assert decode_bytes(b"caf\xe9", None) == "café"  # undeclared 8-bit: windows-1252
    assert decode_bytes(b"x", "base64") == "x"  # a codec that is no charset
    raw = corpus.message(body="Grüße", charset="utf-8").replace(
        b"charset=utf-8", b'charset="x-unheard-of"'
    )
    assert "Grüße" in parse_message(raw).body


def test_eight_bit_headers() -> None:
    record = parse_message(corpus.eight_bit_headers())
    assert record.author.name == "Zoë Dübois"
    assert record.subject == "Café crème réclamation"
    assert ("René Latin", "rene@example.fr") in [(p.name, p.value) for p in record.recipients]
    assert "café fräßlich" in record.body


def test_nul_bytes_and_controls_are_removed() -> None:
    record = parse_message(corpus.nul_bytes())
    assert record.body == "beforeafter\nline two bell"
    assert record.subject == "Null bytes"
    assert_clean(record.body, record.subject)


def test_escape_sequences_never_survive() -> None:
    record = parse_message(corpus.escapes())
    assert_clean(record.subject, record.author.name, record.body)
    assert "\x1b" not in record.subject + record.author.name + record.body
    assert "URGENT" in record.subject and "click" in record.subject
    assert "owned" not in record.author.name and "Evil" in record.author.name
    assert "red" in record.body


def test_huge_headers() -> None:
    record = parse_message(corpus.huge_headers())
    assert record.message_id == "<huge1@acme.com>"
    assert len(record.references) == 50
    assert record.references[-1] == "<ref2999@example.com>"
    assert record.body.startswith("Hello")


def test_html_only_becomes_readable_text() -> None:
    record = parse_message(corpus.html_only())
    assert "Order problem" in record.body
    assert "My order #4411 never arrived." in record.body
    assert "Ordered: May 1" in record.body
    for junk in ("<", "alert", "color: red"):
        assert junk not in record.body


def test_alternative_prefers_plain_but_falls_back_to_html() -> None:
    assert parse_message(corpus.alternative()).body == "Plain version."
    assert parse_message(corpus.alternative(plain="  \n")).body == "HTML version."


def test_nested_rfc822_is_shown_and_its_attachments_recorded() -> None:
    record = parse_message(corpus.nested_rfc822())
    assert record.body.startswith("Forwarding what Lars sent.")
    assert "---------- Forwarded message ----------" in record.body
    assert "From: Lars Nilsson <lars@example.se>" in record.body
    assert "See the attached files." in record.body
    assert [(a.filename, a.size) for a in record.attachments] == [("report.pdf", 3000)]


def test_attachments_metadata_and_data_only_when_asked() -> None:
    raw = corpus.with_attachments(["../../.bashrc", "Übersicht Q1.pdf"])
    record = parse_message(raw)
    assert [a.filename for a in record.attachments] == ["../../.bashrc", "Übersicht Q1.pdf"]
    assert all(a.size == 3000 and a.data is None for a in record.attachments)
    kept = parse_message(raw, options=ParseOptions(keep_attachment_data=True))
    assert kept.attachments[0].data == bytes(j % 256 for j in range(3000))
    limited = parse_message(
        raw, options=ParseOptions(keep_attachment_data=True, attachment_max_bytes=100)
    )
    assert limited.attachments[0].data is None and limited.attachments[0].size == 3000


def test_broken_boundaries() -> None:
    assert "no boundary at all" in parse_message(corpus.broken_boundary_never_appears()).body
    record = parse_message(corpus.broken_boundary_unclosed())
    assert "first part" in record.body
    assert "only a prefix" in record.body  # inside the first part, not a split
    assert "last part, never closed" in record.body


def test_split_multipart_keeps_crlf_parts_intact() -> None:
    body = b"pre\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\nepilogue"
    assert [body[a:b] for a, b in split_multipart(body, b"b") or []] == [
        b"A: 1\r\n\r\none",
        b"\r\ntwo",
    ]
    # the same body inside a bigger buffer: ranges of that buffer, nothing outside read
    outer = b"--b\r\nX\r\n" + body + b"\r\n--b\r\nY"
    at = outer.index(body)
    ranges = split_multipart(outer, b"b", at, at + len(body)) or []
    assert [outer[a:b] for a, b in ranges] == [b"A: 1\r\n\r\none", b"\r\ntwo"]
    assert split_multipart(b"nothing", b"b") is None


def test_message_ids() -> None:
    record = parse_message(corpus.no_message_id())
    assert record.message_id is None
    duplicate = corpus.message(
        msgid="<first@x>", extra_headers=["Message-ID: <second@x>"],
        in_reply_to="<parent@x> (Maria's message of Monday)",
    )  # fmt: skip
    record = parse_message(duplicate)
    assert record.message_id == "<first@x>"
    assert record.in_reply_to == "<parent@x>"


def test_dates_to_utc_with_recorded_fallbacks() -> None:
    tokyo = corpus.message(date="Tue, 03 Mar 2026 09:30:00 +0900")
    assert parse_message(tokyo).sent_at == datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
    internal = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    for date in (None, "yesterday at noon", "Mon, 31 Feb 2026 10:00:00 +0000"):
        record = parse_message(
            corpus.message(date=date), fallback_at=internal, fallback_source="internaldate"
        )
        assert (record.sent_at, record.date_source) == (internal, "internaldate")
    assert parse_message(corpus.message(date=None)).date_source == "import"
    assert parse_date("Mon, 2 Mar 2026 10:00:00") == datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_sender_fallbacks_and_failures() -> None:
    raw = corpus.message().replace(b"From: Maria Silva <maria@acme.com>", b"Sender: x@acme.com")
    assert parse_message(raw).author.value == "x@acme.com"
    no_sender = corpus.message().replace(b"From: Maria Silva <maria@acme.com>\n", b"")
    with pytest.raises(MailError, match="no sender"):
        parse_message(no_sender)
    with pytest.raises(MailError, match="empty"):
        parse_message(b"\n\n")


def test_quoted_names_with_commas_and_encoded_commas() -> None:
    raw = corpus.message(
        to='"Smith, John" <j@x.com>, =?utf-8?q?Doe,_Jane?= <jane@x.com>, plain@x.com'
    )
    assert [(p.name, p.value) for p in parse_message(raw).recipients] == [
        ("Smith, John", "j@x.com"),
        ("Doe, Jane", "jane@x.com"),
        ("", "plain@x.com"),
    ]


def test_base64_with_bad_padding() -> None:
    raw = corpus.message(body="Hello padding world!", cte="base64")
    raw = raw.replace(b"=\n", b"\n").replace(b"=", b"")
    assert parse_message(raw).body == "Hello padding world!"


def test_crlf_and_lf_give_the_same_message() -> None:
    raw = corpus.windows1252()
    lf, crlf = parse_message(raw), parse_message(raw.replace(b"\n", b"\r\n"))
    assert (lf.subject, lf.body, lf.author) == (crlf.subject, crlf.body, crlf.author)
    assert lf.source_key == crlf.source_key
    assert content_hash(lf) == content_hash(crlf) == lf.content_hash


def test_absurdly_nested_html_keeps_its_text() -> None:
    """libxml2 gives up on deep nesting; the words must still reach the agent."""
    html = "<div>" * 5000 + "Where is my refund &amp; invoice?" + "</div>" * 5000
    raw = corpus.html_only().split(b"\n\n", 1)[0] + b"\n\n" + html.encode()
    raw = raw.replace(b"Content-Transfer-Encoding: quoted-printable", b"")
    assert parse_message(raw).body == "Where is my refund & invoice?"


@pytest.mark.parametrize("size", [0, 1, 2, 3, 3000, 3001, 3002])
@pytest.mark.parametrize("crlf", [False, True])
def test_attachment_sizes_are_counted_without_decoding(size: int, crlf: bool) -> None:
    raw = corpus.with_attachments(["data.bin"], size=size)
    if crlf:
        raw = raw.replace(b"\n", b"\r\n")
    (attachment,) = parse_message(raw).attachments
    assert attachment.size == size and attachment.data is None
    kept = parse_message(raw, options=ParseOptions(keep_attachment_data=True))
    assert kept.attachments[0].size == size
    assert kept.attachments[0].data == bytes(j % 256 for j in range(size))
