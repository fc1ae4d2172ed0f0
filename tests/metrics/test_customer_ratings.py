"""The customer's satisfaction history: newest first, comments kept literal, the same
in ``customers show`` (text and ``--json``) and on the customer screen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.screens.customer import CustomerScreen
from deskterm.screens.customer_panel import render_profile
from deskterm.screens.ticket_cache import RATED
from deskterm.store import Store
from deskterm.store.models import Customer, Ticket
from deskterm.store.satisfaction import Response
from tests.tui.conftest import console, screen_text, settle

COMMENT = "\x1b[31mred[/] [bold]loud[/bold]"
AT = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def rated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Store, int]]:
    """A store where one customer answered five surveys on two tickets."""
    target = (
        str(tmp_path / "r.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    store = Store.open(target)
    with store.db.write() as s:
        cora = Customer(name="Cora", tier="standard")
        s.add(cora)
        s.flush()
        tickets = [Ticket(subject=f"t{i}", customer_id=cora.id, created_at=AT, updated_at=AT)
                   for i in range(2)]  # fmt: skip
        s.add_all(tickets)
        s.flush()
        customer, first, other = cora.id or 0, tickets[0].id or 0, tickets[1].id or 0
    answers = [("csat", 2, first, "slow"), ("ces", 6, other, ""), ("nps", 9, first, COMMENT),
               ("csat", 5, other, "thanks"), ("csat", 1, first, "")]  # fmt: skip
    for i, (kind, score, number, comment) in enumerate(answers):
        when = AT + timedelta(days=i)
        store.satisfaction.import_response(Response(kind, score, when, number, None, comment), "t")
    yield target, store, customer
    store.close()


def test_the_store_lists_every_response_newest_first(rated: tuple[str, Store, int]) -> None:
    _, store, customer = rated
    profile = store.customers.get_customer(customer)
    assert [(r.kind, r.score, r.comment) for r in profile.ratings] == [
        ("csat", 1, ""), ("csat", 5, "thanks"), ("nps", 9, COMMENT), ("ces", 6, ""),
        ("csat", 2, "slow"),
    ]  # fmt: skip
    assert profile.rating_count == 5
    few = store.customers.get_customer(customer, rating_limit=2)
    assert (len(few.ratings), few.rating_count) == (2, 5)


def test_customers_show_lists_them_as_text_and_json(rated: tuple[str, Store, int]) -> None:
    target, _, customer = rated
    runner = CliRunner()
    result = runner.invoke(app, ["--db", target, "customers", "show", f"#{customer}", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["satisfaction_count"] == 5
    assert data["satisfaction"][2] == {
        "kind": "nps",
        "score": 9,
        "at": (AT + timedelta(days=2)).isoformat(),
        "ticket": data["satisfaction"][2]["ticket"],
        "comment": COMMENT,
    }
    result = runner.invoke(app, ["--db", target, "customers", "show", f"#{customer}"])
    assert result.exit_code == 0, result.stderr
    assert "satisfaction (5, newest first)" in result.stdout
    assert "\x1b" not in result.stdout
    assert "red[/] [bold]loud[/bold]" in result.stdout  # markup shown literally
    assert result.stdout.index("thanks") < result.stdout.index("slow")


async def test_the_customer_screen_shows_a_few_and_s_shows_all(
    rated: tuple[str, Store, int],
) -> None:
    _, store, customer = rated
    desk = console(store)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await desk.push_screen(CustomerScreen(customer))
        await settle(pilot)
        text = screen_text(desk)
        assert "last CSAT 1/5" in text
        assert "Satisfaction" in text and "5 responses: s on the customer screen" in text
        assert "slow" not in text
        await pilot.press("s")
        await settle(pilot)
        text = screen_text(desk)
        assert "Satisfaction (5)" in text and "slow" in text
        assert "red[/] [bold]loud[/bold]" in text  # outside text, never markup
        await pilot.press("s")
        await settle(pilot)
        assert desk.screen.query_one("#customer-tickets").display


def test_the_ticket_panel_shows_the_latest_three(rated: tuple[str, Store, int]) -> None:
    _, store, customer = rated
    profile = store.customers.get_customer(customer, rating_limit=RATED)
    text = render_profile(profile).plain
    assert "CSAT 1/5" in text and "CES" not in text
    assert "NPS  9/10" in text and "red[/] [bold]loud[/bold]" in text and "\x1b" not in text
    assert "2 more: s on the customer screen" in text
