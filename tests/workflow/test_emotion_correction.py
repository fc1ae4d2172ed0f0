"""An agent corrects the detected emotion: one version-checked change, logged, undone,
counted by the report, and kept by ingest until a newer customer message is scored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.connectors.records import InboundRecord
from deskterm.ingest.hooks import default_hooks
from deskterm.ingest.pipeline import Ingestor
from deskterm.settings import Settings
from deskterm.store import Conflict, InvalidValue, Store
from deskterm.store.types import utcnow
from tests.store.helpers import T0, mail

ANGRY = "This is outrageous!!! You charged me twice and nobody answers. Unacceptable."


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    from deskterm.desk import open_store

    target = tmp_path / "s.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = open_store(target, Settings())
    yield store
    store.close()


def ingest(store: Store, *records: InboundRecord) -> None:
    """Through the pipeline with the default hooks: emotion cues on."""
    config = Settings()
    Ingestor(store, config, hooks=default_hooks(config)).run(list(records), connector="test")


def _angry_ticket(store: Store) -> int:
    ingest(store, mail("rita@acme.com", "Charged twice", ANGRY, message_id="<a1@x>"))
    ticket = store.tickets.get_ticket(1).ticket
    assert ticket.emotion not in (None, "neutral") and ticket.emotion_score is not None
    return 1


def test_correction_is_version_checked_logged_reported_and_undone(any_store: Store) -> None:
    number = _angry_ticket(any_store)
    before = any_store.tickets.get_ticket(number).ticket
    estimate, score = before.emotion, before.emotion_score
    with pytest.raises(InvalidValue, match="Emotion must be one of"):
        any_store.tickets.update(number, "Ana", emotion="grumpy")
    any_store.tickets.update(number, "Ana", emotion="anxiety", expected_version=before.version)
    with pytest.raises(Conflict):  # a second agent, on the version they saw
        any_store.tickets.update(number, "Ben", emotion="neutral", expected_version=before.version)
    after = any_store.tickets.get_ticket(number).ticket
    assert (after.emotion, after.emotion_score) == ("anxiety", None)
    assert after.version == before.version + 1
    (event,) = [e for e in any_store.tickets.events(number) if e.kind == "emotion_corrected"]
    assert (event.old, event.new, event.actor) == (estimate, "anxiety", "Ana")

    now = utcnow()
    emotion = any_store.metrics.report(now - timedelta(days=1), now + timedelta(minutes=1))[
        "emotion"
    ]
    assert emotion["corrections"] == {
        "count": 1,
        "pairs": [{"from": estimate, "to": "anxiety", "count": 1}],
    }
    by_agent = any_store.metrics.report(
        now - timedelta(days=1), now + timedelta(minutes=1), "agent"
    )["groups"]
    assert [g["emotion"]["corrections"]["count"] for g in by_agent] == [1]

    result = any_store.undo.undo("Ana")
    assert result.changed == 1 and not result.conflicts
    restored = any_store.tickets.get_ticket(number).ticket
    assert (restored.emotion, restored.emotion_score) == (estimate, score)


def test_ingest_keeps_the_correction_until_a_newer_customer_message(any_store: Store) -> None:
    number = _angry_ticket(any_store)
    any_store.tickets.update(number, "Ana", emotion="anxiety")
    # Older mail arriving late (a slow sync) does not undo the agent's word...
    ingest(any_store, mail("rita@acme.com", "Re: Charged twice", ANGRY, at=T0, minutes=5,
                           in_reply_to="<a1@x>", message_id="<a2@x>"))  # fmt: skip
    assert any_store.tickets.get_ticket(number).ticket.emotion == "anxiety"
    # ...a message the customer wrote after the correction is scored and wins.
    later = utcnow() + timedelta(minutes=1)
    ingest(any_store, mail("rita@acme.com", "Re: Charged twice", "Thank you so much, all "
                           "sorted now, great help!", at=later, in_reply_to="<a2@x>"))  # fmt: skip
    ticket = any_store.tickets.get_ticket(number).ticket
    assert ticket.emotion == "positive" and ticket.emotion_score is not None


def test_cli_sets_the_emotion_and_refuses_an_unknown_label(tmp_path: Path) -> None:
    from deskterm.desk import open_store

    db = tmp_path / "s.db"
    store = open_store(db, Settings())
    number = _angry_ticket(store)
    store.close()
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(db), "tickets", "set", str(number),
                                 "--emotion", "Disappointment", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["emotion"] == "disappointment"
    result = runner.invoke(app, ["--db", str(db), "tickets", "set", str(number),
                                 "--emotion", "grumpy"])  # fmt: skip
    assert result.exit_code != 0
    assert "Emotion must be one of frustration, anger" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
