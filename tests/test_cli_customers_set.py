"""``deskterm customers set``: tier, organization, notes and tags, version-checked."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.store import Store
from tests.store.helpers import tickets_for

runner = CliRunner()


def test_customers_set_edits_logs_and_checks_versions(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    (number,) = tickets_for(store, 1)
    customer = store.tickets.get_ticket(number).customer
    assert customer is not None and customer.id is not None
    cid, version = customer.id, customer.version
    store.close()
    result = runner.invoke(app, ["--db", db, "customers", "set", "c0@example.org", "--tier",
                                 "premium", "--organization", "Acme", "--tags", "VIP, beta",
                                 "--notes", "-", "--expect-version", str(version), "--json"],
                           input="Prefers phone calls.\n")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["tier"], data["organization"], data["tags"], data["notes"]) == (
        "premium", "Acme", "vip,beta", "Prefers phone calls.")  # fmt: skip
    assert data["version"] == version + 1
    stale = runner.invoke(app, ["--db", db, "customers", "set", str(cid), "--tier", "free",
                                "--expect-version", str(version)])  # fmt: skip
    assert stale.exit_code == 3 and "was changed since you opened it" in stale.stderr
    store = Store.open(db)
    with store.db.read() as session:
        from sqlmodel import select

        from deskterm.store.models import Event

        kinds = [e.kind for e in session.exec(select(Event).where(Event.customer_id == cid))]
    assert kinds == ["tier", "customer_organization", "customer_notes", "customer_tags"]
    assert store.customers.get_customer(cid).customer.tier == "premium"
    store.close()
