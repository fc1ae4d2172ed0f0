"""Satisfaction capture: ``tickets rate``, CSV import (bad rows, idempotence) and the
report counting what was recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.store import Store
from tests.metrics.handbuilt import SINCE, UNTIL, build

runner = CliRunner()


def cli(*args: str, code: int = 0) -> tuple[str, str]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result.stdout, result.stderr


def test_rate_records_an_event_and_the_latest_score(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    n = build(store)
    out, _ = cli("--db", db, "tickets", "rate", str(n["C"]), "--csat", "4", "--nps", "9",
                 "--comment", "quick \x1b[31mfix", "--json")  # fmt: skip
    assert json.loads(out) == {
        "ticket": n["C"],
        "csat": 4,
        "nps": 9,
        "comment": "quick \x1b[31mfix",
    }
    events = [e for e in store.tickets.events(n["C"]) if e.kind in ("csat", "nps")]
    assert [(e.kind, e.new) for e in events] == [("csat", "4"), ("nps", "9")]
    assert json.loads(events[0].detail or "{}") == {
        "comment": "quick \x1b[31mfix",
        "source": "agent",
    }
    ticket = store.tickets.get_ticket(n["C"]).ticket
    assert (ticket.csat, ticket.nps) == (4, 9)
    assert store.customers.get_customer(ticket.customer_id or 0).last_csat == 4  # the profile
    now = datetime.now(UTC)
    r = store.metrics.report(now - timedelta(minutes=5), now + timedelta(minutes=5))
    assert r["csat"] == {"responses": 1, "satisfied_rate": 1.0}
    assert r["nps"] == {"responses": 1, "score": 100.0}
    store.close()


def test_rate_refuses_out_of_range_scores_and_records_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    n = build(store)
    _, err = cli("--db", db, "tickets", "rate", str(n["C"]), "--csat", "4", "--ces", "9", code=1)
    assert err.strip() == "deskterm: A CES score is 1 to 7, not 9."
    _, err = cli("--db", db, "tickets", "rate", str(n["C"]), code=1)
    assert "Give a score" in err
    _, err = cli("--db", db, "tickets", "rate", "9999", "--csat", "3", code=1)
    assert err.strip() == "deskterm: There is no ticket #9999."
    assert not [e for e in store.tickets.events(n["C"]) if e.kind == "csat"]
    store.close()


def test_csv_import_reports_bad_rows_by_line_and_is_idempotent(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    n = build(store)
    with store.db.write() as s:  # the hand-built store has no identities: give Bob one
        from deskterm.store.models import Identity, Ticket

        cid = s.get(Ticket, n["F"]).customer_id  # type: ignore[union-attr]
        s.add(Identity(customer_id=cid or 0, kind="email", value="bob@example.com"))
    path = tmp_path / "survey.csv"
    path.write_text(
        "Ticket,Email,Kind,Score,Date,Comment\n"
        f"#{n['C']},,csat,2,2026-11-05,slow\n"           # line 2: good
        ",BOB@example.com,nps,9,2026-11-07T10:00:00Z,\n"  # line 3: good, by email
        f"{n['C']},,csat,6,2026-11-05,\n"                 # line 4: out of range
        f"{n['C']},,mood,3,2026-11-05,\n"                 # line 5: unknown kind
        ",nobody@example.com,ces,3,2026-11-05,\n"         # line 6: unknown customer
        f"{n['C']},,ces,three,2026-11-05,\n"              # line 7: not a number
        f"{n['C']},,ces,3,yesterday,\n"                   # line 8: bad date
        f"99999,,ces,3,2026-11-05,\n"                     # line 9: no such ticket
        ",,csat,3,2026-11-05,\n",                        # line 10: no target
        encoding="utf-8",
    )  # fmt: skip
    out, _ = cli("--db", db, "satisfaction", "import", str(path), "--json")
    result = json.loads(out)
    assert (result["imported"], result["duplicates"]) == (2, 0)
    assert [f["line"] for f in result["failed"]] == [4, 5, 6, 7, 8, 9, 10]
    assert result["failed"][0]["reason"] == "A CSAT score is 1 to 5, not 6"
    out, err = cli("--db", db, "satisfaction", "import", str(path))
    assert "Imported 0, 2 already there, 7 failed." in out
    assert "survey.csv:4: A CSAT score is 1 to 5, not 6" in err
    # Bob's NPS went to his ticket solved last before the answer: F (B was solved earlier).
    assert [e.new for e in store.tickets.events(n["F"]) if e.kind == "nps"] == ["6", "9"]
    r = store.metrics.report(SINCE, UNTIL)
    assert r["csat"]["responses"] == 4 and r["nps"]["responses"] == 4
    store.close()


def test_csv_import_needs_a_usable_header(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    path = tmp_path / "bad.csv"
    path.write_text("number,score\n1,5\n", encoding="utf-8")
    _, err = cli("--db", db, "satisfaction", "import", str(path), code=1)
    assert err.startswith("deskterm: bad.csv: the header row lacks date, kind")
    _, err = cli("--db", db, "satisfaction", "import", str(tmp_path / "none.csv"), code=1)
    assert "is not a file" in err
