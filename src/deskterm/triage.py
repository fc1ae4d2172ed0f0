"""Triage rules: where a ticket goes, decided by ``[[rules]]`` in the config.

The TOML shape is the contract of issue 6::

    [[rules]]
    name = "Invoices go to billing"
    when = { subject = "invoice|refund", channel = "email" }  # regex, case-insensitive
    set = { queue = "billing", priority = "high", tags = ["billing"] }

Rules run in file order on every new inbound message (at ingest) and again with
``deskterm triage``. Every condition in ``when`` must match and none in ``unless``;
a value may be a list (any of them matches). Conditions:

* text, matched anywhere (regex search): ``subject``, ``body``, ``text`` (either),
  ``from`` (the sender: address, phone number or chat id), ``to`` (any recipient
  address); ``body`` is what the message adds: quoted earlier messages ("On …
  wrote:", ``>`` lines) are not matched;
* words, matched whole (regex fullmatch): ``channel``, ``from_domain``, ``tier``,
  ``emotion``, ``priority``, ``queue``, ``status``, ``direction`` (default
  ``inbound``; ``any`` for every message);
* ``new = true|false`` (the message opened the ticket, or is a reply);
  ``min_emotion_score = 0.7``.

Actions in ``set``: ``queue``, ``priority`` (set), ``raise_priority`` (raise to at
least this, never lower), ``tags`` (added), ``assignee``, and ``stop = true``
(also allowed beside ``name``) to skip the rules after this one. Each applied rule is
written to the event log with what it changed, so an agent can see why a ticket
landed where it did.

A broken rule is reported when the config is loaded (:mod:`deskterm.settings`), naming
the rule and the key, before any import starts; this module turns the checked
``[[rules]]`` into :class:`Rule` objects and matches them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deskterm.emotion import EmotionResult, classify, new_text
from deskterm.vocab import PRIORITIES

if TYPE_CHECKING:
    from deskterm.query import TicketFilter
    from deskterm.settings.workflow import ActionSettings, ConditionSettings, RuleSettings
    from deskterm.store import Store
    from deskterm.store.workflow import TicketChanges

TEXT_KEYS = ("subject", "body", "text", "from", "to")
WORD_KEYS = (
    "channel",
    "from_domain",
    "tier",
    "emotion",
    "priority",
    "queue",
    "status",
    "direction",
)


@dataclass(frozen=True)
class Condition:
    """One ``key = value`` of a rule's ``when`` or ``unless`` table."""

    key: str
    patterns: tuple[re.Pattern[str], ...] = ()
    flag: bool | None = None
    number: float | None = None

    def matches(self, facts: Facts) -> bool:
        if self.key == "new":
            return facts.new == self.flag
        if self.key == "min_emotion_score":
            return facts.emotion_score is not None and facts.emotion_score >= (self.number or 0)
        if self.key == "direction" and any(p.pattern == "any" for p in self.patterns):
            return True
        values = facts.values(self.key)
        if self.key in TEXT_KEYS:
            return any(p.search(v) for p in self.patterns for v in values)
        return any(p.fullmatch(v) for p in self.patterns for v in values)


@dataclass(frozen=True)
class Rule:
    """One ``[[rules]]`` entry, validated."""

    name: str
    index: int
    when: tuple[Condition, ...]
    unless: tuple[Condition, ...]
    settings: RuleSettings = field(compare=False, repr=False)

    @property
    def actions(self) -> ActionSettings:
        return self.settings.actions

    @property
    def stop(self) -> bool:
        """Skip the rules after this one (``stop`` beside ``name`` or in ``set``)."""
        return self.settings.stop or self.settings.actions.stop

    def matches(self, facts: Facts) -> bool:
        if not any(c.key == "direction" for c in self.when) and facts.direction != "inbound":
            return False
        return all(c.matches(facts) for c in self.when) and not any(
            c.matches(facts) for c in self.unless
        )


# -- loading ---------------------------------------------------------------------------


def rules_from(settings: Sequence[RuleSettings]) -> list[Rule]:
    """The enabled ``[[rules]]``, in file order, ready to match."""
    return [
        Rule(rule.name, index, _conditions(rule.when), _conditions(rule.unless), rule)
        for index, rule in enumerate(settings)
        if rule.enabled
    ]


def _conditions(table: ConditionSettings) -> tuple[Condition, ...]:
    conditions = []
    for key, value in table.given():
        if key == "new":
            conditions.append(Condition(key, flag=value))
        elif key == "min_emotion_score":
            conditions.append(Condition(key, number=value))
        else:
            conditions.append(Condition(key, tuple(value)))
    # All must match, so test the cheap ones first: flags and short fields, then the
    # tier (a cached lookup), then regexes over the subject and the body.
    return tuple(sorted(conditions, key=lambda c: _COST.get(c.key, 1)))


_COST = {"tier": 2, "subject": 3, "body": 4, "text": 4}


def uses_emotion(rules: Sequence[Rule]) -> bool:
    """Whether any rule tests a message's emotion (which must then be known first)."""
    return any(
        c.key in ("emotion", "min_emotion_score") for r in rules for c in (*r.when, *r.unless)
    )


# -- evaluating --------------------------------------------------------------------------


@dataclass
class Facts:
    """What rules look at for one message on one ticket."""

    channel: str
    direction: str = "inbound"
    sender: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    new: bool = True
    emotion: str | None = None
    emotion_score: float | None = None
    priority: str = "normal"
    queue: str = "general"
    status: str = "new"
    tier: Callable[[], str | None] = field(default=lambda: None, repr=False)

    def values(self, key: str) -> Sequence[str]:
        if key == "text":
            return (self.subject, self.body)
        if key == "from":
            return (self.sender,)
        if key == "to":
            return self.recipients
        if key == "from_domain":
            return (self.sender.rpartition("@")[2],) if "@" in self.sender else ()
        if key == "tier":
            tier = self.tier()
            return (tier,) if tier else ()
        if key == "emotion":
            return (self.emotion,) if self.emotion else ()
        value = getattr(self, key)
        return (value,) if isinstance(value, str) else ()


@dataclass
class Applied:
    """One rule that matched, and what it changed (``field: [old, new]``)."""

    rule: str
    changes: dict[str, list[Any]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule}
        if self.changes:
            out["changes"] = self.changes
        if self.tags:
            out["tags"] = self.tags
        return out


@dataclass
class Target:
    """The ticket fields rules change (a copy for re-runs and dry runs)."""

    priority: str
    queue: str
    assignee: str | None
    tags: set[str]


def evaluate(rules: Iterable[Rule], facts: Facts, target: Any) -> list[Applied]:
    """Apply matching rules in order to ``target`` (an object with priority, queue,
    assignee and a ``tags`` or ``add_tags`` set); returns the rules applied."""
    applied: list[Applied] = []
    tags: set[str] = target.tags if hasattr(target, "tags") else target.add_tags
    for rule in rules:
        facts.priority, facts.queue = target.priority, target.queue
        if not rule.matches(facts):
            continue
        result = Applied(rule.name)
        act = rule.actions
        wanted: dict[str, str | None] = {"queue": act.queue, "assignee": act.assignee}
        if act.priority is not None:
            wanted["priority"] = act.priority
        elif act.raise_priority is not None and PRIORITIES.index(
            act.raise_priority
        ) > PRIORITIES.index(target.priority):
            wanted["priority"] = act.raise_priority
        for name, value in wanted.items():
            if value is not None and getattr(target, name) != value:
                result.changes[name] = [getattr(target, name), value]
                setattr(target, name, value)
        for tag in act.tags:
            if tag not in tags:
                tags.add(tag)
                result.tags.append(tag)
        applied.append(result)
        if rule.stop:
            break
    return applied


# -- re-running over stored tickets --------------------------------------------------------


@dataclass
class TriagePlan:
    """What a re-run would change on one ticket."""

    number: int
    subject: str
    applied: list[Applied]
    before: Target
    after: Target

    @property
    def changed(self) -> bool:
        return (
            self.before.priority != self.after.priority
            or self.before.queue != self.after.queue
            or self.before.assignee != self.after.assignee
            or self.before.tags != self.after.tags
        )

    def to_dict(self) -> dict[str, Any]:
        changes = {
            name: [getattr(self.before, name), getattr(self.after, name)]
            for name in ("queue", "priority", "assignee")
            if getattr(self.before, name) != getattr(self.after, name)
        }
        return {
            "number": self.number,
            "subject": self.subject,
            "rules": [a.rule for a in self.applied],
            "changes": changes,
            "tags_added": sorted(self.after.tags - self.before.tags),
        }

    def changes(self) -> TicketChanges:
        from deskterm.store.workflow import TicketChanges

        return TicketChanges(
            number=self.number,
            queue=self.after.queue if self.after.queue != self.before.queue else None,
            priority=self.after.priority if self.after.priority != self.before.priority else None,
            assignee=self.after.assignee if self.after.assignee != self.before.assignee else None,
            add_tags=self.after.tags - self.before.tags,
            rules=[a.detail() for a in self.applied if a.changes or a.tags],
        )


def plan(store: Store, rules: Sequence[Rule], f: TicketFilter | None) -> Iterable[TriagePlan]:
    """Replay the rules over each matching ticket's inbound messages, oldest first (the
    first as ``new``), starting from its current queue, priority, assignee and tags."""
    needs_emotion = uses_emotion(rules)
    after = 0
    while True:
        batch = store.workflow.triage_inputs(f, after_id=after)
        if not batch:
            return
        for item in batch:
            ticket = item.ticket
            assert ticket.id is not None
            after = ticket.id
            if not item.messages:
                continue
            before = Target(ticket.priority, ticket.queue, ticket.assignee, set(item.tags))
            target = Target(ticket.priority, ticket.queue, ticket.assignee, set(item.tags))
            applied: list[Applied] = []
            for i, msg in enumerate(item.messages):
                emotion = _message_emotion(msg, needs_emotion)
                facts = Facts(
                    channel=msg.channel,
                    sender=msg.author_address,
                    recipients=tuple(r.strip() for r in msg.recipients.split(",") if r.strip()),
                    subject=msg.subject,
                    body=new_text(msg.body),
                    new=i == 0,
                    emotion=emotion.emotion if emotion else None,
                    emotion_score=emotion.score if emotion else None,
                    status=ticket.status,
                    tier=lambda tier=item.tier: tier,  # type: ignore[misc]
                )
                applied.extend(evaluate(rules, facts, target))
            yield TriagePlan(ticket.id, ticket.subject, applied, before, after=target)


def _message_emotion(msg: Any, needed: bool) -> EmotionResult | None:
    """A stored message's emotion; scored now if the import left it empty and a rule
    tests it (imports score only the latest customer message of a batch's tickets)."""
    if msg.emotion is not None:
        return EmotionResult(msg.emotion, msg.emotion_score or 0.0, 0.0)
    if needed and msg.direction == "inbound":
        return classify(msg.body)
    return None


def rerun(
    store: Store,
    rules: Sequence[Rule],
    f: TicketFilter | None,
    *,
    dry_run: bool = False,
    actor: str = "triage",
    batch: int = 200,
) -> list[TriagePlan]:
    """Re-run the rules over stored tickets; returns the plans that change something
    (written unless ``dry_run``), each rule that changed something logged."""
    changed: list[TriagePlan] = []
    pending: list[TriagePlan] = []
    for item in plan(store, rules, f):
        if not item.changed:
            continue
        changed.append(item)
        pending.append(item)
        if len(pending) >= batch and not dry_run:
            store.workflow.apply_ticket_changes([p.changes() for p in pending], actor)
            pending = []
    if pending and not dry_run:
        store.workflow.apply_ticket_changes([p.changes() for p in pending], actor)
    return changed
