"""Suggestion quality on a labelled set: is the expected article in the top 3?

The labelled tickets (``bench/kb_labelled.jsonl``, 64 customer messages, each with the
article that answers it) were written before the demo articles and before any ranking
was tuned; half are marked ``tune`` (looked at while tuning), half ``holdout`` (never
looked at). Every ticket goes through the real ingest pipeline into a fresh store that
has the demo's 30 articles indexed; suggestions come from ``suggest_articles``, as the
ticket screen and ``tickets show --json`` get them.

    python bench/bench_kb_quality.py [--verbose] [--json] [--db EMPTY_STORE_URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

LABELLED = Path(__file__).with_name("kb_labelled.jsonl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--db", help="an empty store to use (e.g. a PostgreSQL URL)")
    args = parser.parse_args()

    from deskterm.connectors.records import InboundRecord, Party
    from deskterm.ingest.pipeline import Ingestor
    from deskterm.kb.demo import write_demo_articles
    from deskterm.kb.folder import sync_folder
    from deskterm.kb.suggest import suggest_articles
    from deskterm.settings import Settings
    from deskterm.store import Store

    cases = [json.loads(line) for line in LABELLED.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(args.db or Path(tmp) / "quality.db")
        folder = Path(tmp) / "kb"
        write_demo_articles(folder)
        sync_folder(store, folder)
        t0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
        records = [
            InboundRecord(
                source_key=f"mail:<case{c['id']}@bench>",
                channel="email",
                sent_at=t0 + timedelta(minutes=i),
                author=Party("email", f"customer{c['id']}@example.com", f"Customer {c['id']}"),
                body=c["body"],
                subject=c["subject"],
                message_id=f"<case{c['id']}@bench>",
                recipients=(Party("email", "support@example.com"),),
            )
            for i, c in enumerate(cases)
        ]
        Ingestor(store, Settings()).run(records, connector="bench")
        results: dict[str, list[int]] = {"tune": [], "holdout": []}
        misses = []
        for number, c in enumerate(cases, 1):
            # A fresh store: each record opened the next ticket, in order.
            assert store.kb.ticket_text(number).customer_messages == [c["body"]]
            ticket = number
            ranked = [s.article.path.removesuffix(".md") for s in
                      suggest_articles(store, folder, ticket, limit=3)]  # fmt: skip
            rank = ranked.index(c["expected"]) + 1 if c["expected"] in ranked else 0
            results[c["split"]].append(rank)
            if rank != 1:
                misses.append((c["id"], c["split"], c["expected"], ranked))
        store.close()
    summary = {}
    for split, ranks in results.items():
        summary[split] = {
            "tickets": len(ranks),
            "top1": sum(1 for r in ranks if r == 1) / len(ranks),
            "top3": sum(1 for r in ranks if r) / len(ranks),
        }
    every = results["tune"] + results["holdout"]
    summary["all"] = {
        "tickets": len(every),
        "top1": sum(1 for r in every if r == 1) / len(every),
        "top3": sum(1 for r in every if r) / len(every),
    }
    if args.verbose:
        for miss in misses:
            print("miss", *miss)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print("| split | tickets | top 1 | top 3 |\n|---|--:|--:|--:|")
        for split, s in summary.items():
            print(f"| {split} | {s['tickets']} | {s['top1']:.0%} | {s['top3']:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
