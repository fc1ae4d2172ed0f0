"""``deskterm tickets new``: a phone call from a new customer becomes a ticket through
the ingest pipeline; a second call from the same number finds the same customer."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deskterm.cli import app

runner = CliRunner()


def test_new_phone_ticket_with_a_new_customer(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    args = ["--db", db, "tickets", "new", "--channel", "phone", "--name", "Rui Alves",
            "--phone", "+351 912 345 678", "--subject", "Card declined", "--json"]  # fmt: skip
    result = runner.invoke(app, [*args, "--body", "-"], input="Called: card declined twice.\n")
    assert result.exit_code == 0, result.stderr
    ticket = json.loads(result.stdout)
    assert (ticket["channel"], ticket["subject"], ticket["status"]) == (
        "phone",
        "Card declined",
        "new",
    )
    assert ticket["customer"] == "Rui Alves"
    idents = ticket["customer_profile"]["identities"]
    assert [(i["kind"], i["value"]) for i in idents] == [("phone", "+351912345678")]
    assert [m["body"] for m in ticket["messages"]] == ["Called: card declined twice."]
    again = runner.invoke(app, [*args, "--body", "Called back."])
    second = json.loads(again.stdout)
    assert second["number"] != ticket["number"]
    assert second["customer_profile"]["id"] == ticket["customer_profile"]["id"]
    listed = runner.invoke(app, ["--db", db, "tickets", "list", "--ids", "-q", "channel:phone"])
    assert listed.stdout.split() == [str(second["number"]), str(ticket["number"])]
    bad = runner.invoke(app, ["--db", db, "tickets", "new", "-s", "x", "-b", "y"])
    assert bad.exit_code == 1
    assert (
        bad.stderr.strip() == "deskterm: Give the customer's email or phone, so replies find them."
    )
