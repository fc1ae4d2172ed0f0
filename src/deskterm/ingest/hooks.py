"""The ingest hooks switched on by the config (triage rules, emotion cues)."""

from __future__ import annotations

from deskterm.ingest.state import IngestHook
from deskterm.settings import Settings


def default_hooks(config: Settings) -> list[IngestHook]:
    """Hooks every import runs, in order: emotion first (rules may test it), then the
    triage rules (which may change the priority), then the SLA clocks.

    The settings were checked when the config was loaded, so nothing here fails on
    a broken rule or SLA duration.
    """
    from deskterm.ingest.rule_hooks import CustomerTiers, EmotionHook, SlaHook, TriageHook
    from deskterm.sla import SlaPolicy
    from deskterm.triage import rules_from, uses_emotion

    rules = rules_from(config.rules)
    policy = SlaPolicy.from_settings(config.sla)
    tiers = CustomerTiers()
    hooks: list[IngestHook] = []
    if config.emotion.enabled:
        hooks.append(EmotionHook(eager=uses_emotion(rules)))
    if rules:
        hooks.append(TriageHook(rules, tiers))
    hooks.append(SlaHook(policy, tiers))
    return hooks
