"""Knowledge-base speed on a large store: indexing 5,000 articles, suggestions for a
ticket, similar solved tickets, article search.

Uses an existing demo store (build one with ``bench/bench_store.py`` or ``deskterm demo
--tickets N --no-open --db PATH``); opening it adds the article table if needed. The
articles are the demo's 30 plus generated ones (titles and bodies drawn from a Zipf
distribution over the demo articles' words and 20,000 made-up words, 80-400 words
each), written to a fresh folder and indexed by ``sync_folder``. Suggestions and
similar tickets are timed through the same functions the ticket screen calls, for 60
tickets spread over the store (median and p90 of each ticket's best of 3 runs; the
cache is warm as in the console).

    python bench/bench_kb.py --db /tmp/deskterm-bench-1000000.db [--articles 5000]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SYLLABLES = ("ka", "lo", "mi", "ren", "tu", "sa", "vo", "der", "pli", "qua", "zen", "bo")


def best_ms(fn: Callable[[], Any], runs: int = 3) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return min(samples)


def stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"{statistics.median(ordered):.1f} ms (p90 {p90:.1f}, max {ordered[-1]:.1f})"


def generate_articles(folder: Path, count: int, seed: int = 5) -> None:
    """The demo's articles plus ``count - 30`` generated ones."""
    from deskterm.kb.demo import write_demo_articles

    written = write_demo_articles(folder)
    real = sorted(
        {w for p in folder.glob("*.md") for w in re.findall(r"[a-z]{3,}", p.read_text().lower())}
    )
    rng = random.Random(seed)
    made_up = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in
               range(20_000)]  # fmt: skip
    vocab = real + made_up
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    rng.shuffle(vocab)
    for n in range(count - written):
        title = " ".join(rng.choices(vocab, weights, k=rng.randint(3, 7))).capitalize()
        body = " ".join(rng.choices(vocab, weights, k=rng.randint(80, 400)))
        tags = rng.sample(("billing", "accounts", "shipping", "technical", "general"), 2)
        (folder / f"generated-{n:05d}.md").write_text(
            f"---\ntitle: {title}\ntags: [{', '.join(tags)}]\nupdated: 2026-11-01\n---\n{body}\n"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--tickets", type=int, default=60, help="tickets to time")
    args = parser.parse_args()

    from deskterm.kb.folder import sync_folder
    from deskterm.kb.suggest import search_articles, similar_tickets, suggest_articles
    from deskterm.store import Store

    store = Store.open(args.db)
    total = store.tickets.ticket_count()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kb"
        folder.mkdir()
        generate_articles(folder, args.articles)
        store.kb.apply([], list(store.kb.hashes()))  # start from an empty article index
        start = time.perf_counter()
        first = sync_folder(store, folder)
        index_s = time.perf_counter() - start
        start = time.perf_counter()
        again = sync_folder(store, folder)
        reindex_s = time.perf_counter() - start
        assert len(first.added) == args.articles
        assert again.unchanged == args.articles

        rng = random.Random(11)
        numbers = sorted(rng.sample(range(1, total + 1), args.tickets))
        suggest = [best_ms(lambda n=n: suggest_articles(store, folder, n)) for n in numbers]
        similar = [best_ms(lambda n=n: similar_tickets(store, n)) for n in numbers]
        found = [len(similar_tickets(store, n)) for n in numbers]
        search = [best_ms(lambda q=q: search_articles(store, folder, q))
                  for q in ("refund", "password reset email", "router wifi drops",
                            "customs duties canada", "export crash report")]  # fmt: skip
    print(f"Store: {args.db}, {total:,} tickets ({store.dialect}); {args.articles:,} articles.\n")
    print("| what | time |\n|---|--:|")
    print(f"| index {args.articles:,} new articles (`kb index`) | {index_s:.1f} s |")
    print(f"| index again, nothing changed (console start) | {reindex_s * 1000:.0f} ms |")
    print(f"| suggested articles for a ticket ({args.tickets} tickets) | {stats(suggest)} |")
    print(f"| similar solved tickets ({args.tickets} tickets) | {stats(similar)} |")
    print(f"| article search, 5 queries | {stats(search)} |")
    print(f"\nSimilar solved tickets found per ticket: median {statistics.median(found)}.")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
