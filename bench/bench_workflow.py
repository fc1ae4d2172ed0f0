"""Service-workflow benchmark: what emotion cues, triage rules and SLA clocks cost.

1. The emotion analyzer alone, on generated chat lines and mail bodies (µs/message).
2. The ingest pipeline on generated mail threads (records, no MIME parsing): without
   hooks, then with the default hooks (emotion, 10 rules, SLA with business hours),
   each into a fresh store; the difference is the workflow's cost per message.
3. SLA at scale on a demo store (default 200k tickets): recomputing every open
   ticket's clocks, then the queue's ``sla:breached`` / ``sla:at-risk`` first pages,
   their counts and the dashboard's ``sla_counts``.

    python bench/bench_workflow.py [--messages 20000] [--tickets 200000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OPENERS = [
    "Hi team,", "Hello,", "Good morning,", "Dear support,", "Hey there,", "Hi Ana,",
]  # fmt: skip
SENTENCES = [
    "I can't log in to my account since this morning.",
    "The invoice for October shows the wrong company name.",
    "This is the third time I'm writing about the export, it still fails.",
    "Could you tell me how to add a second user to our plan?",
    "I'm worried the payment didn't go through, will my account be suspended?",
    "Absolutely unacceptable, you charged my card twice!",
    "Thanks a lot, that fixed it.",
    "I expected more from the premium plan, to be honest.",
    "Our payroll runs tomorrow and the bank sync is down, please help urgently.",
    "Where can I change the notification settings?",
    "Please send me a copy of the contract.",
    "The app keeps logging me out again and again.",
    "We are thinking about moving to another provider at the end of the term.",
    "Is there an API endpoint for exporting contacts?",
]
RULES = [
    {"name": "Billing", "when": {"text": "invoice|refund|charged|payment"},
     "set": {"queue": "billing", "tags": ["billing"]}},
    {"name": "Angry is urgent", "when": {"emotion": "anger"}, "set": {"raise_priority": "urgent"}},
    {"name": "Anxious is high", "when": {"emotion": "anxiety"}, "set": {"raise_priority": "high"}},
    {"name": "Login", "when": {"subject": "log ?in|password|2fa"}, "set": {"queue": "access"}},
    {"name": "API", "when": {"body": "\\bapi\\b|endpoint|webhook"}, "set": {"queue": "developers"}},
    {"name": "Churn risk", "when": {"text": "another provider|cancel my"},
     "set": {"tags": ["churn-risk"], "raise_priority": "high"}},
    {"name": "Big customers", "when": {"from_domain": "globex\\.com|initech\\.com"},
     "set": {"tags": ["key-account"]}},
    {"name": "Sales", "when": {"to": "^sales@"}, "set": {"queue": "sales"}},
    {"name": "Replies", "when": {"new": False}, "set": {"tags": ["followup"]}},
    {"name": "Enterprise", "when": {"tier": "enterprise"}, "set": {"assignee": "Ben"}},
]  # fmt: skip
SLA = {
    "business_hours": {"timezone": "Europe/Berlin", "hours": "08:00-18:00",
                       "holidays": ["2025-12-25", "2025-12-26"]},
    "tiers": {"enterprise": {"business_hours": False}},
}  # fmt: skip


def body(rng: random.Random, quoted: str | None) -> str:
    lines = [rng.choice(OPENERS), ""]
    lines += [rng.choice(SENTENCES) for _ in range(rng.randint(1, 5))]
    lines += ["", "Best regards,", "Maria"]
    if quoted:
        lines += ["", "On Mon, 6 Jan 2025 at 09:00, Support <support@example.com> wrote:"]
        lines += [f"> {q}" for q in quoted.splitlines()]
    return "\n".join(lines)


def records(count: int, seed: int = 7) -> Iterator[Any]:
    """Threads of 1-6 messages, customer and agent alternating, ~1.5 KB bodies."""
    from deskterm.connectors.records import InboundRecord, Party

    rng = random.Random(seed)
    start = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    made = thread = 0
    domains = ["acme.com", "globex.com", "initech.com", "hooli.com", "umbrella.org"]
    while made < count:
        thread += 1
        customer = Party("email", f"c{rng.randint(1, count // 4)}@{rng.choice(domains)}", "Maria")
        agent = Party("email", "support@example.com", "Ana")
        subject = rng.choice(["Login problem", "Invoice question", "Export fails", "API access"])
        at = start + timedelta(minutes=thread * 7)
        previous: str | None = None
        prev_body: str | None = None
        for i in range(rng.randint(1, 6)):
            if made >= count:
                return
            outbound = i % 2 == 1
            text = body(rng, prev_body)
            msg_id = f"<t{thread}.{i}@bench>"
            yield InboundRecord(
                source_key=f"mail:{msg_id}",
                channel="email",
                sent_at=at + timedelta(hours=3 * i),
                author=agent if outbound else customer,
                recipients=(customer if outbound else agent,),
                body=text,
                subject=subject if i == 0 else f"Re: {subject}",
                message_id=msg_id,
                in_reply_to=previous,
                references=(previous,) if previous else (),
            )
            previous, prev_body = msg_id, text
            made += 1


def timed(fn: Callable[[], Any], runs: int = 20) -> tuple[float, Any]:
    result = fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def bench_emotion(results: dict[str, Any]) -> None:
    from deskterm.emotion import EmotionAnalyzer

    analyzer = EmotionAnalyzer()
    rng = random.Random(1)
    chats = [rng.choice(SENTENCES) for _ in range(2000)]
    mails = [body(rng, body(rng, None)) for _ in range(500)]
    for name, texts in (("chat_line", chats), ("mail_body", mails)):
        start = time.thread_time()
        for text in texts:
            analyzer.analyze(text, "Subject line")
        per = (time.thread_time() - start) / len(texts) * 1e6
        results[f"emotion_{name}_us"] = round(per)
        results[f"emotion_{name}_chars"] = round(statistics.mean(len(t) for t in texts))


class Timed:
    """Wraps a hook and adds up the time spent in it."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self.seconds = 0.0

    def __call__(self, ctx: Any) -> None:
        start = time.thread_time()  # CPU time: other processes on the machine don't count
        self.hook(ctx)
        self.seconds += time.thread_time() - start


def bench_ingest(results: dict[str, Any], messages: int) -> None:
    from deskterm.desk import open_store
    from deskterm.ingest.hooks import default_hooks
    from deskterm.ingest.pipeline import Ingestor
    from deskterm.settings import parse_settings

    config = parse_settings({"agent": {"email": "support@example.com"}, "rules": RULES, "sla": SLA})
    batch = list(records(messages))
    hooks = [Timed(h) for h in default_hooks(config)]
    for label, chosen in (("no_hooks", []), ("workflow_hooks", hooks)):
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(Path(tmp) / "bench.db", config)
            start = time.perf_counter()
            summary = Ingestor(store, config, hooks=chosen).run(batch, connector="bench")
            seconds = time.perf_counter() - start
            store.close()
        results[f"ingest_{label}_msgs_per_s"] = round(summary.messages_new / seconds)
    results["ingest_messages"] = messages
    for hook in hooks:
        name = type(hook.hook).__name__
        results[f"hook_{name}_us_per_msg"] = round(hook.seconds / messages * 1e6)
    results["hooks_total_us_per_msg"] = round(sum(h.seconds for h in hooks) / messages * 1e6)


def bench_sla(results: dict[str, Any], tickets: int) -> None:
    from deskterm import sla
    from deskterm.demo import DemoBuilder
    from deskterm.desk import open_store
    from deskterm.query import parse_query
    from deskterm.settings import parse_settings

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "sla.db")
        DemoBuilder(store, tickets=tickets, seed=7, batch=5000).build()
        store.sla.use_sla_policy(sla.SlaPolicy.from_settings(parse_settings({"sla": SLA}).sla))
        start = time.perf_counter()
        changed = store.sla.recompute_sla(parse_query("status:new,open,pending,on_hold"))
        seconds = time.perf_counter() - start
        results["sla_tickets"] = tickets
        results["sla_recompute_tickets"] = changed
        results["sla_recompute_per_s"] = round(changed / seconds) if seconds else None
        for kind in ("breached", "at-risk"):
            query = parse_query(f"sla:{kind}")
            ms, page = timed(lambda q=query: store.queue.list_tickets(q, limit=50))  # type: ignore[misc]
            results[f"sla_{kind}_first_page_ms"] = round(ms, 2)
            results[f"sla_{kind}_rows"] = len(page.rows)
            ms, count = timed(lambda q=query: store.queue.count_tickets(q), runs=5)  # type: ignore[misc]
            results[f"sla_{kind}_count_ms"] = round(ms, 1)
            results[f"sla_{kind}_count"] = count
            open_query = parse_query(f"sla:{kind} status:new,open")
            ms, _ = timed(lambda q=open_query: store.queue.list_tickets(q, limit=50))  # type: ignore[misc]
            results[f"sla_{kind}_open_first_page_ms"] = round(ms, 2)
        ms, _ = timed(store.sla.sla_counts, runs=5)
        results["sla_counts_ms"] = round(ms, 1)
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    bench_emotion(results)
    bench_ingest(results, args.messages)
    bench_sla(results, args.tickets)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("| measure | value |\n| --- | --- |")
        for key, value in results.items():
            print(f"| {key} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
