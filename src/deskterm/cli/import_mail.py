"""``deskterm import mail``: .eml files, mbox and maildir (registered on ``import``)."""

from __future__ import annotations
