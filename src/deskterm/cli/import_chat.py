"""``deskterm import whatsapp|slack|telegram|discord|jsonl`` (registered on ``import``)."""

from __future__ import annotations
