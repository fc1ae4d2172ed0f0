"""The ingest hooks switched on by the config (triage rules, emotion cues)."""

from __future__ import annotations

from deskterm.config import Config
from deskterm.ingest.state import IngestHook


def default_hooks(config: Config) -> list[IngestHook]:
    """Hooks every import runs, in order: emotion first (rules may test it), then the
    triage rules (which may change the priority), then the SLA clocks.

    Broken rules or SLA settings raise a :class:`~deskterm.config.ConfigError` here,
    before anything is imported.
    """
    from deskterm.emotion import EmotionHook, emotion_enabled
    from deskterm.sla import CustomerTiers, SlaHook, SlaPolicy
    from deskterm.triage import TriageHook, load_rules, uses_emotion

    rules = load_rules(config)
    policy = SlaPolicy.from_config(config)
    tiers = CustomerTiers()
    hooks: list[IngestHook] = []
    if emotion_enabled(config):
        hooks.append(EmotionHook(eager=uses_emotion(rules)))
    if rules:
        hooks.append(TriageHook(rules, tiers))
    hooks.append(SlaHook(policy, tiers))
    return hooks
