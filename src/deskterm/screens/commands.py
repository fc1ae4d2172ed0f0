"""The command palette (``ctrl+p`` or ``:``): every action of the current screen.

Commands come from the same bindings the footer and the help screen show, so the
palette can never miss an action or describe it differently. Typing a number offers
"Open ticket #N".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from deskterm.screens.base import DeskNode
from deskterm.screens.help import binding_sections, key_label

Command = tuple[str, str, Callable[[], object]]


class DeskCommands(Provider):
    """Actions of the screen the palette was opened on, run where they are bound."""

    def _commands(self) -> list[Command]:
        screen, app = self.screen, self.app
        commands: list[Command] = []
        for section, node, bindings in binding_sections(screen, app):
            for binding in bindings:
                if binding.action == "command_palette":
                    continue
                key = key_label(binding)
                commands.append(
                    (
                        binding.description,
                        f"{section} · key {key}",
                        partial(app.run_action, binding.action, node),
                    )
                )
        first: dict[str, Command] = {}
        for command in commands:  # the screen's own binding before the app's
            first.setdefault(command[0], command)
        return list(first.values())

    async def discover(self) -> Hits:
        for title, help_, run in self._commands():
            yield DiscoveryHit(title, run, help=help_)

    async def search(self, query: str) -> Hits:
        number = query.strip().lstrip("#")
        if number.isdigit() and isinstance(self.app, DeskNode):
            yield Hit(
                1.0,
                f"Open ticket #{number}",
                partial(self.app.desk.open_ticket, int(number), None),
                help="Go straight to a ticket by its number",
            )
        matcher = self.matcher(query)
        for title, help_, run in self._commands():
            score = matcher.match(f"{title} {help_}")
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_)
