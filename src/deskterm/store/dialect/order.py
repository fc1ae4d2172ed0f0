"""What the queue's orders need from each database: the customer-name sort key, and
a way to keep SQLite's planner off an index.

The name key is the same on both databases.
``lower()`` folds ASCII letters only on SQLite; PostgreSQL folds by the database's
locale and compares by its collation. Under the "C" collation PostgreSQL folds ASCII
only and compares code points, as SQLite does with UTF-8 text, so both stores order
"ana", "Bob", "Émile" the same way (and the index on the key serves both).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class name_key(FunctionElement[str]):
    """``lower(name)``, compared and ordered by code point on both databases."""

    type = String()
    inherit_cache = True
    name = "name_key"


@compiles(name_key)
def _sqlite(element: name_key, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(name_key, "postgresql")
def _postgresql(element: name_key, compiler: Any, **kw: Any) -> str:
    return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "C")'


class unindexed(FunctionElement[Any]):
    """A column SQLite must not pick an index for (``+column``): without statistics
    its planner prefers any equality or ``IS NULL`` index to the one that returns
    rows in the order wanted, and then sorts a large part of the table. PostgreSQL
    plans from statistics and reads the column as it is."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _plus(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(unindexed, "postgresql")
def _as_is(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))
