"""Pure display helpers: folding quoted text and signatures, ages, labels, column fit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskterm.screens.columns import QUEUE_COLUMNS, fit
from deskterm.screens.folding import fold
from deskterm.screens.format import age, ago, compact_count, local_time, store_label


def kinds(body: str) -> list[tuple[str, str]]:
    return [(p.kind, p.text) for p in fold(body)]


def test_quoted_reply_with_attribution_is_folded() -> None:
    body = (
        "Thanks, that worked.\n\n"
        "On Tue, 3 Nov 2026 at 10:02, Ana Souza <ana@x.example>\nwrote:\n"
        "> Try restarting the router.\n> Regards"
    )
    assert kinds(body) == [
        ("text", "Thanks, that worked."),
        (
            "quote",
            "On Tue, 3 Nov 2026 at 10:02, Ana Souza <ana@x.example>\nwrote:\n"
            "> Try restarting the router.\n> Regards",
        ),
    ]


def test_interleaved_quotes_keep_the_answers() -> None:
    body = "> Which version?\n4.2.1\n> And the size?\n20000 rows"
    assert [k for k, _ in kinds(body)] == ["quote", "text", "quote", "text"]


@pytest.mark.parametrize(
    "separator",
    ["-----Original Message-----", "---------- Forwarded message ---------", "_" * 32],
)
def test_everything_under_an_outlook_separator_is_history(separator: str) -> None:
    body = f"See below.\n{separator}\nFrom: a@b\nSubject: x\n\nold text"
    assert kinds(body)[0] == ("text", "See below.")
    assert kinds(body)[1][0] == "quote" and kinds(body)[1][1].endswith("old text")


def test_signatures_by_delimiter_closing_or_phone() -> None:
    assert kinds("Fixed now.\n-- \nAna\nDesk team") == [
        ("text", "Fixed now."),
        ("signature", "-- \nAna\nDesk team"),
    ]
    assert kinds("Fixed now.\n\nKind regards,\nAna Souza\ndeskterm support")[1] == (
        "signature",
        "Kind regards,\nAna Souza\ndeskterm support",
    )
    assert kinds("Please call me.\n\nSent from my iPhone")[1] == (
        "signature",
        "Sent from my iPhone",
    )
    # A message that is only a closing, or a closing followed by prose, stays text.
    assert [k for k, _ in kinds("Thanks\nfor the quick reply.")] == ["text"]
    prose = "Hi,\nthanks\nfor looking into it so quickly, we really appreciate the help today"
    assert [k for k, _ in kinds(prose)] == ["text"]


def test_plain_text_is_untouched() -> None:
    assert kinds("one\ntwo\n\nthree") == [("text", "one\ntwo\n\nthree")]
    assert fold("") == []


def test_ages_and_counts() -> None:
    now = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    assert [age(now - d, now) for d in (
        timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=3), timedelta(days=5),
        timedelta(days=20), timedelta(days=100), timedelta(days=800),
    )] == ["30s", "5m", "3h", "5d", "2w", "3mo", "2y"]  # fmt: skip
    assert age(now + timedelta(minutes=3), now) == "0s"  # clock skew never shows "-3m"
    assert ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(hours=2), now) == "2h ago"
    assert [compact_count(n) for n in (None, 7, 9999, 12_345, 999_999, 1_000_000)] == [
        "…", "7", "9,999", "12k", "1000k", "1.0M",
    ]  # fmt: skip
    assert local_time(now, now) == "02 Nov 12:00"
    assert local_time(now - timedelta(days=400), now) == "2025-09-28 12:00"


def test_store_labels_never_show_passwords() -> None:
    assert store_label("/home/ana/.local/share/deskterm/deskterm.db") == "deskterm.db"
    assert store_label("postgresql+psycopg://ana:secret@db.example/desk") == "desk@db.example"
    assert "secret" not in store_label("postgresql://ana:secret@db/desk")


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_columns_fit_the_width(width: int) -> None:
    fitted = fit(QUEUE_COLUMNS, width, 1)
    keys = [c.key for c, _ in fitted]
    assert {"priority", "sla", "status", "number", "customer", "subject", "age"} <= set(keys)
    if width >= 120:
        assert {"channel", "assignee", "emotion"} <= set(keys)
    total = sum(w + 2 for _, w in fitted)
    assert total <= width or dict(fitted)  # subject keeps a readable minimum
    subject = next(w for c, w in fitted if c.key == "subject")
    assert subject >= 16
    if width >= 80:
        assert total <= width
