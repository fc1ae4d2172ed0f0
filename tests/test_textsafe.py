"""Outside text never reaches the terminal as escapes or markup."""

from __future__ import annotations

from deskterm.textsafe import clean_line, clean_text, display


def test_escape_sequences_and_controls_are_removed() -> None:
    hostile = "hi\x1b]0;pwned\x07 there\x1b[2J\x1b[31mred\x1b[0m\x00\x07\x9b31m!\u202eevil"
    assert clean_text(hostile) == "hi therered!evil"


def test_newlines_survive_in_bodies_but_not_in_lines() -> None:
    assert clean_text("a\r\nb\rc\td") == "a\nb\nc\td"
    assert clean_line(" a\r\nb\tc ") == "a b c"


def test_markup_is_escaped_for_display() -> None:
    from rich.text import Text

    shown = display("[bold red]x[/] \x1b]0;t\x07", one_line=True)
    assert Text.from_markup(shown).plain == "[bold red]x[/]"
