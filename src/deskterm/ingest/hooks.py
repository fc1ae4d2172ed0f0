"""The ingest hooks switched on by the config (triage rules, emotion cues)."""

from __future__ import annotations

from deskterm.config import Config
from deskterm.ingest.pipeline import IngestHook


def default_hooks(config: Config) -> list[IngestHook]:
    """Hooks every import runs, in order."""
    return []
