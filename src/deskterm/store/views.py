"""Named views an agent saves (a query under a name), kept in the store so the CLI
and every console see the same list."""

from __future__ import annotations

from sqlmodel import col, select

from deskterm.query import parse_query
from deskterm.store.base import Database
from deskterm.store.errors import InvalidValue, NotFound
from deskterm.store.models import SavedView
from deskterm.store.types import utcnow
from deskterm.vocab import SORTS

SORT_KEYS = tuple(SORTS)  # deskterm.store.sorting walks each of them


class SavedViews:
    """Add, list and remove saved views."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, query: str, owner: str, *, sort: str = "activity") -> SavedView:
        """Save ``query`` as ``name`` (replacing a view of that name); the query must
        parse, so a typo fails now rather than every time the view opens."""
        name = " ".join(name.split())
        if not name or len(name) > 40:
            raise InvalidValue("A view name must have 1 to 40 characters.")
        if sort not in SORT_KEYS:
            raise InvalidValue(f"Sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}.")
        parse_query(query)
        with self.db.write() as session:
            view = session.get(SavedView, name) or SavedView(name=name)
            view.query, view.sort, view.owner, view.created_at = query, sort, owner, utcnow()
            session.add(view)
            return view

    def list(self) -> list[SavedView]:
        """Saved views, oldest first (the order of their keys in the console)."""
        with self.db.read() as session:
            return list(
                session.exec(
                    select(SavedView).order_by(col(SavedView.created_at), col(SavedView.name))
                ).all()
            )

    def remove(self, name: str) -> None:
        with self.db.write() as session:
            view = session.get(SavedView, name)
            if view is None:
                raise NotFound(f"There is no saved view named {name!r}.")
            session.delete(view)
