"""Chat imports and customer merges on a real PostgreSQL server (the non-SQLite paths)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chat.builders import cli_json, config, slack_export, write
from tests.chat.test_chat_ingest import AGENTS, FIRST, MORE, chat
from tests.chat.test_slack import current_day, legacy_day

pytestmark = pytest.mark.postgres


def test_chat_imports_on_postgres(pg_url: str, tmp_path: Path, isolated_home: Path) -> None:
    config(isolated_home, AGENTS)
    wa = write(tmp_path / "WhatsApp Chat with Bea.txt", chat(FIRST))
    first = cli_json("--db", pg_url, "import", "whatsapp", str(wa))
    assert (first["messages_new"], first["tickets_created"]) == (6, 2)
    assert cli_json("--db", pg_url, "import", "whatsapp", str(wa))["messages_duplicate"] == 6
    write(wa, chat(FIRST + MORE))
    longer = cli_json("--db", pg_url, "import", "whatsapp", str(wa))
    assert (longer["messages_new"], longer["tickets_created"], longer["tickets_updated"]) == (
        3, 1, 1,
    )  # fmt: skip
    ws = slack_export(
        tmp_path / "ws", {"support": {"2024-03-14": current_day() + legacy_day()}}, as_zip=True
    )
    slack = cli_json("--db", pg_url, "import", "slack", str(ws))
    assert slack["messages_new"] == 11
    assert cli_json("--db", pg_url, "import", "slack", str(ws))["messages_new"] == 0
    found = cli_json("--db", pg_url, "search", "declined")
    assert len(found) == 1
    # Bea's Slack profile phone is her WhatsApp number: one customer, not two
    customers = {c["name"]: c["id"] for c in cli_json("--db", pg_url, "customers", "list")}
    assert set(customers) == {"+1 (415) 555-0177", "carl"}
    merged = cli_json("--db", pg_url, "customers", "merge", str(customers["carl"]), "U0CUST001")
    assert merged["identities_moved"] == 1
    assert len(cli_json("--db", pg_url, "customers", "list")) == len(customers) - 1
