"""The fixed vocabularies of PRODUCT.md §2, importable without the database stack."""

from __future__ import annotations

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
OPEN_STATUSES = ("new", "open", "pending", "on_hold")
PRIORITIES = ("low", "normal", "high", "urgent")
# How the console shows them where space is short; the query language accepts these too.
PRIORITY_LABELS = {"urgent": "urg", "high": "high", "normal": "norm", "low": "low"}
STATUS_LABELS = {"on_hold": "on hold"}
CHANNEL_LABELS = {
    "email": "mail",
    "whatsapp": "wa",
    "slack": "slack",
    "telegram": "tg",
    "discord": "disc",
    "chat": "chat",
}
# Queue orders (the console's header shows the label); the first five cycle by key.
SORTS = {
    "activity": "last activity",
    "created": "newest created",
    "priority": "priority",
    "sla": "SLA due",
    "customer": "customer",
    "reminder": "reminder",
}
SORT_CYCLE = ("activity", "created", "priority", "sla", "customer")
DIRECTIONS = ("inbound", "outbound", "note")
CHANNELS = ("email", "whatsapp", "slack", "telegram", "discord", "chat", "phone", "in_person")
HEARD_STEPS = ("H", "E", "A", "R", "D")
HEARD_NAMES = {
    "H": "Hear",
    "E": "Empathize",
    "A": "Apologize",
    "R": "Resolve",
    "D": "Diagnose",
}
HEARD_GUIDANCE = {
    "H": "Let the customer tell the whole story; read every message before answering.",
    "E": "Show you understand how this feels for them, in your own words.",
    "A": "Apologize sincerely for the experience, without blaming anyone.",
    "R": "Fix it, or say exactly what happens next and when.",
    "D": "Find the root cause so it does not happen again; record its category.",
}
EMOTIONS = ("frustration", "anger", "anxiety", "disappointment", "neutral", "positive")
IDENTITY_KINDS = ("email", "phone", "slack", "telegram", "discord", "chat")
