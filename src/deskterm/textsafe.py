"""Text from outside, made safe to store and to show.

Mail and chat text can carry terminal escape sequences (``ESC ]0;title BEL`` sets
the window title, CSI sequences move the cursor or recolour the screen) and Rich
markup (``[bold red]``). Stored text loses the escape sequences and control
characters; displayed text additionally has markup escaped, so it always shows
literally.
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \),
# DCS/SOS/PM/APC (ESC P|X|^|_ … ESC \), and two-byte escapes (ESC + one char).
_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]              # CSI
  | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?   # OSC
  | \x1b[PX^_][^\x1b]*(?:\x1b\\)?        # DCS, SOS, PM, APC
  | \x1b[@-Z\\-_]                        # other two-byte escapes
  | \x9b[0-?]*[ -/]*[@-~]                # 8-bit CSI
  | \x9d[^\x07\x9c]*(?:\x07|\x9c)?       # 8-bit OSC
    """,
    re.VERBOSE,
)
# C0 controls except tab and newline, DEL, C1 controls, and bidi overrides that can
# make text display in a misleading order.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# Bytes of plain ASCII text; whatever is left after deleting them is a control char.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"


def clean_text(text: str) -> str:
    """Text as stored: newlines normalized, escape sequences and control chars removed."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Most text has nothing to remove, and proving that is cheaper than the two
    # substitutions (every escape sequence starts with a control character).
    if text.isascii():
        if not text.encode("ascii").translate(None, _PLAIN_ASCII):
            return text
    elif _CONTROLS.search(text) is None:
        return text
    text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text)


def clean_line(text: str) -> str:
    """One-line text (subjects, names, file names): no line breaks at all."""
    if not text:
        return ""
    text = _ESCAPES.sub("", text)
    text = re.sub(r"[\r\n\t]+", " ", text)
    return _LINE_CONTROLS.sub("", text).strip()


def escape_markup(text: str) -> str:
    """Escape Rich/Textual markup so ``[bold]`` shows as typed."""
    from rich.markup import escape

    return escape(text)


def display(text: str | None, *, one_line: bool = False) -> str:
    """Text ready to put in markup: cleaned, then markup-escaped."""
    cleaned = clean_line(text or "") if one_line else clean_text(text or "")
    return escape_markup(cleaned)


# What a file name from outside may keep: letters and digits of any script, and a few
# harmless marks. Everything else (path separators, shell and Windows specials,
# zero-width and bidi characters) becomes "_".
_UNSAFE_NAME = re.compile(r"[^\w.\-+@()\[\] ]+")
_RESERVED_NAME = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
MAX_NAME_BYTES = 120


def safe_filename(name: str, fallback: str = "file") -> str:
    """One harmless path component on every platform for a file name from outside
    (attachments, archive members): the last component only, escapes and controls
    removed, only letters, digits and ``.-+@()[] _`` kept, no leading or trailing dot
    or space, never a reserved device name (``CON``, ``LPT1.txt``), at most 120 UTF-8
    bytes with the extension kept; ``fallback`` when nothing is left
    (``../../.bashrc`` becomes ``bashrc``)."""
    import unicodedata

    base = clean_line(unicodedata.normalize("NFC", name or ""))
    base = re.split(r"[/\\]", base)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    if not base or set(base) <= {"_", "."}:
        return fallback
    if _RESERVED_NAME.match(base):
        base = "_" + base
    if len(base.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, ext = base.rpartition(".")
        ext = ext if dot and 0 < len(ext) <= 16 else ""
        budget = MAX_NAME_BYTES - len(ext.encode("utf-8")) - (1 if ext else 0)
        cut = (stem if ext else base).encode("utf-8")[:budget].decode("utf-8", "ignore")
        base = f"{cut.rstrip(' .')}.{ext}" if ext else cut.rstrip(" .")
    return base
