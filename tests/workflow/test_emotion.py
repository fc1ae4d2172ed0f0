"""Emotion cues: accuracy on the labelled sets, signals, and the ticket's emotion at ingest.

``emotion_labels.jsonl`` (120 short messages, 20 per emotion) was written before the
classifier and used while building it; ``emotion_holdout.jsonl`` (60, 10 per emotion)
was written at the same time and never tuned on, so its accuracy is the honest one.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deskterm.emotion import (
    RESPONSE_STYLES,
    EmotionAnalyzer,
    own_text,
    response_style,
)
from deskterm.ingest import Ingestor
from deskterm.ingest.hooks import default_hooks
from deskterm.settings import parse_settings
from deskterm.store import Store
from deskterm.vocab import EMOTIONS
from tests.store.helpers import T0, mail

HERE = Path(__file__).parent


def load(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def analyzer() -> EmotionAnalyzer:
    return EmotionAnalyzer()


def accuracy(analyzer: EmotionAnalyzer, rows: list[dict[str, Any]]) -> tuple[float, Counter[str]]:
    misses: Counter[str] = Counter()
    right = 0
    for row in rows:
        got = analyzer.analyze(row["text"], repeat_contact=row.get("repeat_contact", False))
        if got.emotion == row["emotion"]:
            right += 1
        else:
            misses[f"{row['emotion']}->{got.emotion}"] += 1
    return right / len(rows), misses


def test_labelled_set_shape() -> None:
    rows = load("emotion_labels.jsonl")
    counts = Counter(r["emotion"] for r in rows)
    assert set(counts) == set(EMOTIONS)
    assert all(n >= 20 for n in counts.values()) and len(rows) >= 80
    assert len({r["text"] for r in rows}) == len(rows)


def test_accuracy_on_the_labelled_set(analyzer: EmotionAnalyzer) -> None:
    score, misses = accuracy(analyzer, load("emotion_labels.jsonl"))
    print(f"\nlabelled set: {score:.1%} ({dict(misses)})")
    assert score >= 0.75, misses


def test_accuracy_on_the_holdout_set(analyzer: EmotionAnalyzer) -> None:
    score, misses = accuracy(analyzer, load("emotion_holdout.jsonl"))
    print(f"\nholdout set: {score:.1%} ({dict(misses)})")
    assert score >= 0.75, misses


def test_signals_change_the_answer(analyzer: EmotionAnalyzer) -> None:
    plain = analyzer.analyze("Where is my order?")
    assert plain.emotion == "neutral"
    assert analyzer.analyze("Where is my order?", repeat_contact=True).emotion == "frustration"
    assert analyzer.analyze("WHERE IS MY ORDER? I PAID LAST WEEK").emotion == "anger"
    assert analyzer.analyze("Where is my order???").emotion == "anxiety"
    many = analyzer.analyze("Where is my order? When does it ship? Can I change the address?")
    assert many.emotion == "anxiety" and "signal:many-questions" in many.cues


def test_scores_are_strengths_from_zero_to_one(analyzer: EmotionAnalyzer) -> None:
    mild = analyzer.analyze("I'm a bit disappointed.")
    strong = analyzer.analyze(
        "I'm so disappointed and let down. I expected better, this is a shame."
    )
    assert mild.emotion == strong.emotion == "disappointment"
    assert 0 < mild.score < strong.score <= 1
    assert analyzer.analyze("").emotion == "neutral"


def test_only_the_customers_own_words_count(analyzer: EmotionAnalyzer) -> None:
    body = (
        "Thanks, that works now!\n\n"
        "On Mon, 2 Nov 2026 at 09:00, Support <support@example.com> wrote:\n"
        "> We are sorry this is unacceptable and the worst outage we had.\n"
    )
    assert own_text(body) == "Thanks, that works now!"
    assert analyzer.analyze(body).emotion == "positive"
    quoted = "> This is outrageous!!!\nOk, understood."
    assert own_text(quoted) == "Ok, understood."


def test_response_styles_follow_the_product_table() -> None:
    assert {k: v.style for k, v in RESPONSE_STYLES.items()} == {
        "frustration": "Calm and validating",
        "anger": "Empathetic and steady",
        "anxiety": "Reassuring and clear",
        "disappointment": "Supportive and proactive",
    }
    style = response_style("anxiety")
    assert style is not None and style.behaviour == "Many questions"
    assert response_style("neutral") is None and response_style(None) is None


def test_emotion_can_be_switched_off() -> None:
    assert parse_settings({}).emotion.enabled
    config = parse_settings({"emotion": {"enabled": False}})
    assert not config.emotion.enabled
    assert not any(type(h).__name__ == "EmotionHook" for h in default_hooks(config))


# -- at ingest -------------------------------------------------------------------------------


def run(store: Store, *records: Any, config: Any = None) -> None:
    config = config or parse_settings({"agent": {"email": "support@example.com"}})
    Ingestor(store, config, hooks=default_hooks(config)).run(list(records), connector="test")


def test_ticket_emotion_is_the_latest_inbound_one(store: Store) -> None:
    run(store, mail("a@x.org", "Order", "This is unacceptable, I am furious!", message_id="<1@x>"))
    detail = store.tickets.get_ticket(1)
    assert detail.ticket.emotion == "anger"
    assert detail.messages[0].emotion == "anger" and detail.messages[0].emotion_score
    run(
        store,
        mail("a@x.org", "Re: Order", "Thank you, all good now!", minutes=90,
             message_id="<2@x>", in_reply_to="<1@x>"),
    )  # fmt: skip
    detail = store.tickets.get_ticket(1)
    assert detail.ticket.emotion == "positive"
    # An older message imported late does not replace the latest emotion.
    run(
        store,
        mail("a@x.org", "Re: Order", "I'm worried, will I lose my data?", minutes=30,
             message_id="<3@x>", in_reply_to="<1@x>"),
    )  # fmt: skip
    detail = store.tickets.get_ticket(1)
    assert detail.ticket.emotion == "positive"
    assert [m.emotion for m in detail.messages] == ["anger", "anxiety", "positive"]
    assert store.queue.list_tickets().rows[0].emotion == "positive"


def test_repeat_contact_within_a_day_reads_as_frustration(store: Store) -> None:
    first = mail("a@x.org", "Login", "I cannot log in.", message_id="<l1@x>")
    # Written again three hours later with no answer in between, in a separate run.
    run(store, first)
    run(store, mail("a@x.org", "Login", "Can you look at this?", at=T0 + timedelta(hours=3),
                    message_id="<l2@x>"))  # fmt: skip
    messages = store.tickets.get_ticket(1).messages
    assert [m.emotion for m in messages] == ["neutral", "frustration"]


def test_repeat_contact_across_batches_of_one_run(store: Store) -> None:
    # The customer is new to the store: the first batch's message, written before the
    # second batch, is remembered by the run rather than read back from the store.
    config = parse_settings(
        {"agent": {"email": "support@example.com"}, "ingest": {"batch_size": 1}}
    )
    run(
        store,
        mail("a@x.org", "Login", "I cannot log in.", message_id="<l1@x>"),
        mail("a@x.org", "Login", "Can you look at this?", at=T0 + timedelta(hours=3),
             message_id="<l2@x>"),
        config=config,
    )  # fmt: skip
    assert [m.emotion for m in store.tickets.get_ticket(1).messages] == ["neutral", "frustration"]


def test_an_answer_in_between_is_not_a_repeat(store: Store) -> None:
    from deskterm.connectors.records import InboundRecord, Party

    reply = InboundRecord(
        source_key="mail:<ans@us>",
        channel="email",
        sent_at=T0 + timedelta(hours=1),
        author=Party("email", "support@example.com"),
        body="Try resetting your password.",
        subject="Re: Login",
        message_id="<ans@us>",
        in_reply_to="<l1@x>",
        recipients=(Party("email", "a@x.org"),),
    )
    run(
        store,
        mail("a@x.org", "Login", "I cannot log in.", message_id="<l1@x>"),
        reply,
        mail("a@x.org", "Re: Login", "Can you look at this?", at=T0 + timedelta(hours=3),
             message_id="<l2@x>", in_reply_to="<ans@us>"),
        # A burst of chat-like lines minutes apart is one contact, not repeats.
        mail("b@y.org", "Hi", "I have a question.", message_id="<b1@y>"),
        mail("b@y.org", "Hi", "About my invoice.", minutes=2, message_id="<b2@y>"),
    )  # fmt: skip
    # One batch: only each ticket's latest customer message is scored.
    assert [m.emotion for m in store.tickets.get_ticket(1).messages] == [None, None, "neutral"]
    assert [m.emotion for m in store.tickets.get_ticket(2).messages] == [None, "neutral"]


def test_a_batch_scores_each_tickets_latest_customer_message(store: Store) -> None:
    run(
        store,
        mail("a@x.org", "Order", "This is a disgrace, I am furious!", message_id="<o1@x>"),
        mail("a@x.org", "Re: Order", "Thanks, that fixed it, wonderful!", minutes=60,
             message_id="<o2@x>", in_reply_to="<o1@x>"),
    )  # fmt: skip
    detail = store.tickets.get_ticket(1)
    assert [m.emotion for m in detail.messages] == [None, "positive"]
    assert detail.ticket.emotion == "positive"


def test_rules_on_emotion_see_every_message_scored(store: Store) -> None:
    config = parse_settings(
        {"rules": [{"name": "Angry", "when": {"emotion": "anger"}, "set": {"tags": ["angry"]}}]}
    )
    run(
        store,
        mail("a@x.org", "Order", "This is a DISGRACE!!! I am furious!", message_id="<o1@x>"),
        mail("a@x.org", "Re: Order", "Thanks, that fixed it, wonderful!", minutes=60,
             message_id="<o2@x>", in_reply_to="<o1@x>"),
        config=config,
    )  # fmt: skip
    detail = store.tickets.get_ticket(1)
    assert [m.emotion for m in detail.messages] == ["anger", "positive"]
    assert "angry" in detail.tags
