"""The query language: fields, console labels, and the full-text grammar."""

from __future__ import annotations

import pytest

from deskterm.query import QueryError, Term, TextQuery, TicketFilter, parse_query, parse_text


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
    assert parse_query('assignee:"Ana Souza"').assignee == ("Ana Souza",)


@pytest.mark.parametrize(
    ("query", "field", "stored"),
    [
        ("channel:mail", "channel", ("email",)),
        ("channel:wa,tg,disc", "channel", ("whatsapp", "telegram", "discord")),
        ("priority:urg", "priority", ("urgent",)),
        ("priority:norm", "priority", ("normal",)),
        ('status:"on hold"', "status", ("on_hold",)),
        ("status:on-hold,on_hold", "status", ("on_hold", "on_hold")),
    ],
)
def test_the_labels_the_console_shows_are_accepted(
    query: str, field: str, stored: tuple[str, ...]
) -> None:
    assert getattr(parse_query(query), field) == stored


def test_assignee_me_is_the_agent_the_caller_names() -> None:
    assert parse_query("assignee:me,none", me="Ana Souza").assignee == ("Ana Souza", "none")
    with pytest.raises(QueryError, match="agent name"):
        parse_query("assignee:me")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status:done", "status:done is not valid; use one of new, open, pending, on_hold"),
        ("priority:max", r"use one of low, normal \(norm\), high, urgent \(urg\)\.$"),
        ("channel:fax", r"email \(mail\), whatsapp \(wa\)"),
        ("colour:red", 'Unknown filter "colour:"; use one of status, priority'),
        ("status:", "needs a value"),
        ('status:""', "needs a value"),
        ('"unclosed', "Unbalanced quote"),
        ('refund "never arrived', "Unbalanced quote"),
        ("sla:soon", "is not valid; use breached or at-risk"),
        ("-broken", "only excludes"),
        ("refund OR -broken", "OR cannot join an excluded term"),
        ("-status:open", "cannot exclude"),
    ],
)
def test_bad_queries_say_what_to_fix_in_one_sentence(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        parse_query(query)
    assert str(caught.value).count(". ") == 0 and str(caught.value).endswith((".", "something"))


def test_urls_quoted_colons_apostrophes_and_backslashes_are_words() -> None:
    assert parse_query("https://example.com/x").text == "https://example.com/x"
    assert parse_query('"status:open"').text == '"status:open"'
    assert parse_query("Re: invoice").text == "Re: invoice"
    assert parse_query("don't O'Brien").text == "don't O'Brien"
    assert parse_query(r"C:\Users\x").text == r"C:\Users\x"


def test_full_text_grammar() -> None:
    assert parse_text('invoic* "two wor"* refund OR chargeback -broken -"not this"') == (
        TextQuery(
            clauses=(
                (Term("invoic", prefix=True),),
                (Term("two wor", phrase=True, prefix=True),),
                (Term("refund"), Term("chargeback")),
            ),
            excluded=(Term("broken"), Term("not this", phrase=True)),
        )
    )
    # OR binds tighter than the space; a dangling OR and lower-case "or" are words
    assert parse_text("a OR b c").clauses == ((Term("a"), Term("b")), (Term("c"),))
    assert parse_text("OR a OR").clauses == ((Term("a"),),)
    assert parse_text("a or b").clauses == ((Term("a"),), (Term("or"),), (Term("b"),))
    assert parse_text('"OR"').clauses == ((Term("OR", phrase=True),),)
    assert parse_text("* a*b").clauses == ((Term("*"),), (Term("a*b"),))


@pytest.mark.parametrize(
    "query",
    ['invoic* "two wor"* refund OR chargeback -broken', 'don\'t C:\\x -"a b"', "Re: x:"],
)
def test_a_filter_text_reads_back_as_the_same_query(query: str) -> None:
    text = parse_query(query).text
    assert parse_text(text) == parse_text(query)


def test_merging_a_view_with_typed_filters() -> None:
    view = TicketFilter(status=("new", "open"), text="refund OR chargeback")
    merged = view.merged(parse_query("status:open tag:vip urgent -broken"))
    assert merged == TicketFilter(
        status=("open",), tags=("vip",), text="refund OR chargeback urgent -broken"
    )
    assert parse_text(merged.text).clauses == (
        (Term("refund"), Term("chargeback")),
        (Term("urgent"),),
    )
    assert view.merged(parse_query("status:solved")).status == ("\0nothing",)
    assert TicketFilter().is_empty()
