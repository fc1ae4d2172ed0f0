"""Outside text never reaches the terminal as escapes or markup."""

from __future__ import annotations

import pytest

from deskterm.textsafe import clean_line, clean_text, display, safe_filename


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


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        # path traversal: only the last component survives
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("/abs/path/x.txt", "x.txt"),
        ("C:\\Windows\\evil.exe", "evil.exe"),
        ("../../.bashrc", "bashrc"),
        ("..", "file"),
        ("...", "file"),
        ("", "file"),
        ("///", "file"),
        # reserved device names on Windows
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1.log", "_LPT1.log"),
        ("aux", "_aux"),
        ("console.txt", "console.txt"),
        # control characters, escapes, bidi tricks
        ("a\x1b[31mred\x1b[0m.txt", "ared.txt"),
        ("a\x00b\nc.txt", "ab c.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("zero\u200bwidth.pdf", "zero_width.pdf"),
        ("\x1b]0;x/y\x07name.pdf", "name.pdf"),
        # shell and file-system specials
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("$(rm -rf ~).sh", "_(rm -rf _).sh"),
        # kept as they are
        ("résumé final.pdf", "résumé final.pdf"),
        ("Photo [1] (copy)+v2@x.jpg", "Photo [1] (copy)+v2@x.jpg"),
        # at most 120 bytes, extension kept
        ("a" * 300 + ".jpeg", "a" * 115 + ".jpeg"),
        ("é" * 100 + ".pdf", "é" * 58 + ".pdf"),
    ],
)
def test_safe_filename(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe
    assert len(safe.encode("utf-8")) <= 120


def test_safe_filename_fallback_names_the_kind_of_file() -> None:
    assert safe_filename("../", "attachment") == "attachment"
