"""The demo's articles: about thirty, on the demo tickets' topics (billing, accounts,
shipping, the demo products), so the knowledge panel has something to suggest."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def write_demo_articles(folder: Path) -> int:
    """Write the demo articles into ``folder`` (replacing earlier copies of them)."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for item in sorted(resources.files("deskterm.kb").joinpath("demo_articles").iterdir(),
                       key=lambda i: i.name):  # fmt: skip
        if item.name.endswith(".md"):
            (folder / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
            count += 1
    return count
