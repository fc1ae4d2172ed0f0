"""``deskterm demo``: build a sample store and open the console on it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deskterm.cli.common import fail, state

if TYPE_CHECKING:
    from deskterm.settings import Settings


def demo(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Where to build it (default: a demo store of its own)."),
    ] = None,
    no_open: Annotated[bool, typer.Option("--no-open", help="Only build the store.")] = False,
    tickets: Annotated[int, typer.Option(min=1, help="How many tickets to generate.")] = 500,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed builds the same store.")
    ] = 7,
) -> None:
    """Build a realistic demo store (customers, tickets on every channel, HEARD, notes)."""
    from deskterm import paths
    from deskterm.demo import DemoBuilder
    from deskterm.desk import open_store

    target = db
    if target is None:
        demo_path = paths.demo_store()
        demo_path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{demo_path}{suffix}").unlink(missing_ok=True)
        target = str(demo_path)
    store = open_store(target)
    if not store.bulk.is_empty():
        fail(f"{store.location} already holds tickets; give --db a new file for the demo.")
    from deskterm.kb.settings import default_folder, with_folder

    kb_folder = default_folder(store.location)
    progress = _progress(tickets)
    try:
        report = DemoBuilder(
            store,
            tickets=tickets,
            seed=seed,
            progress=progress.update if progress else None,
            kb_folder=kb_folder,
        ).build()
    finally:
        if progress:
            progress.stop()
    typer.echo(
        f"Built {store.location}: {report.tickets} tickets, {report.messages} messages, "
        f"{report.customers} customers in {report.seconds:.1f}s.",
        err=True,
    )
    if no_open:
        typer.echo(f"Open it with: deskterm --db {shlex.quote(str(target))}", err=True)
    else:
        from deskterm.cli.console import open_console

        st = state(ctx)
        st.db = target
        st._store = store
        st._config = with_folder(demo_config(st.config()), kb_folder)
        open_console(st)


def demo_config(config: Settings) -> Settings:
    """Without a configured agent, the demo console works as its first agent, so "My
    open" shows that agent's tickets instead of nobody's."""
    from deskterm.demo import AGENTS
    from deskterm.settings import AgentSettings

    if config.agent.name != AgentSettings().name:
        return config
    return config.model_copy(update={"agent": config.agent.model_copy(update={"name": AGENTS[0]})})


class _DemoProgress:
    def __init__(self, total: int) -> None:
        from rich.progress import Progress

        self._progress = Progress(transient=True)
        self._task = self._progress.add_task("Building demo store", total=total)
        self._progress.start()

    def update(self, report: object) -> None:
        self._progress.update(self._task, completed=getattr(report, "tickets", 0))

    def stop(self) -> None:
        self._progress.stop()


def _progress(total: int) -> _DemoProgress | None:
    import sys

    return _DemoProgress(total) if sys.stderr.isatty() and total >= 5000 else None
