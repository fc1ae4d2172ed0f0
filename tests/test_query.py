"""The queue query language."""

from __future__ import annotations

import pytest

from deskterm.query import QueryError, TicketFilter, parse_query


def test_keys_values_phrases_and_words() -> None:
    f = parse_query('status:open,pending priority:high from:acme.com queue:billing tag:vip '
                    'tag:refund assignee:none channel:whatsapp "exact phrase" words')  # fmt: skip
    assert f.status == ("open", "pending")
    assert f.priority == ("high",)
    assert f.customer == ("acme.com",)
    assert f.queue == ("billing",)
    assert f.tags == ("vip", "refund")
    assert f.assignee == ("none",)
    assert f.channel == ("whatsapp",)
    assert f.text == '"exact phrase" words'


def test_aliases_and_case() -> None:
    assert parse_query("IS:Open Prio:URGENT").status == ("open",)
    assert parse_query("to:Ana").assignee == ("Ana",)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status:done", "not one of"),
        ("colour:red", "Unknown filter"),
        ("status:", "needs a value"),
        ('"unclosed', "Unbalanced"),
        ("sla:soon", "breached or at-risk"),
    ],
)
def test_bad_queries_say_what_to_fix(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(query)


def test_urls_and_quoted_colons_are_words() -> None:
    assert parse_query("https://example.com/x").text == "https://example.com/x"
    assert parse_query('"status:open"').text == '"status:open"'


def test_merging_a_view_with_typed_filters() -> None:
    view = TicketFilter(status=("new", "open"))
    assert view.merged(parse_query("status:open tag:vip")) == TicketFilter(
        status=("open",), tags=("vip",)
    )
    assert view.merged(parse_query("status:solved")).status == ("\0nothing",)
    assert TicketFilter().is_empty()
