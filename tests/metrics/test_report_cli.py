"""``deskterm report`` from the command line: the JSON contract, CSV, the readable
form, and one-sentence errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.store import Store
from tests.metrics.handbuilt import build

runner = CliRunner()
KEYS = {
    "range", "first_response", "first_response_business_hours", "resolution", "fcr_rate",
    "reopen_rate", "sla", "backlog", "volume", "csat", "ces", "nps", "heard", "root_causes",
    "emotion",
}  # fmt: skip


def cli(db: Path, *args: str, code: int = 0) -> tuple[str, str]:
    result = runner.invoke(app, ["--db", str(db), "report", *args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result.stdout, result.stderr


def hand_db(tmp_path: Path) -> Path:
    db = tmp_path / "r.db"
    store = Store.open(db)
    build(store)
    store.close()
    return db


def test_json_contract_and_dates(tmp_path: Path) -> None:
    db = hand_db(tmp_path)
    out, _ = cli(db, "--since", "2026-11-02", "--until", "2026-11-08", "--json")
    data = json.loads(out)
    assert set(data) == KEYS
    assert data["range"] == {
        "since": "2026-11-02T00:00:00+00:00", "until": "2026-11-09T00:00:00+00:00", "days": 7.0,
    }  # fmt: skip
    assert data["first_response"]["count"] == 5 and data["fcr_rate"] == 0.75
    out, _ = cli(db, "--since", "2026-11-02", "--until", "2026-11-08", "--by", "queue", "--json")
    data = json.loads(out)
    assert data["by"] == "queue"
    assert [g["key"] for g in data["groups"]] == ["billing", "general", "technical"]
    assert all(KEYS - {"range"} <= set(g) for g in data["groups"])


def test_csv_and_table(tmp_path: Path) -> None:
    db = hand_db(tmp_path)
    out, _ = cli(db, "--since", "2026-11-02", "--until", "2026-11-08", "--by", "agent", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["key"] for r in rows] == ["all", "(unassigned)", "ana", "ben"]
    assert rows[0]["fcr_rate"] == "0.75" and rows[0]["backlog_3-7d"] == "2"
    out, _ = cli(db, "--since", "2026-11-02", "--until", "2026-11-08", "--by", "agent")
    assert "First-contact resolution" in out and "75.0%" in out and "By agent" in out


def test_errors_are_one_sentence(tmp_path: Path) -> None:
    db = hand_db(tmp_path)
    _, err = cli(db, "--by", "colour", code=1)
    assert err.strip() == "deskterm: --by must be one of channel, queue, agent, tier, week, month."
    _, err = cli(db, "--since", "yesterday", code=1)
    assert "is not a date like 2026-11-30" in err and "Traceback" not in err
    _, err = cli(db, "--since", "2026-11-09", "--until", "2026-11-01", code=1)
    assert err.strip() == "deskterm: --since must be before --until."
    _, err = cli(db, "--json", "--csv", code=1)
    assert "Choose one of --json and --csv." in err


def test_the_cli_offers_the_stores_groupings() -> None:
    from deskterm.cli.report import GROUPINGS as offered
    from deskterm.store.metrics import GROUPINGS

    assert offered == GROUPINGS
