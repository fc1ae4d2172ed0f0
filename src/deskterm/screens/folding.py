"""Split a message body into what the customer wrote, quoted history and signature.

Agents read the new part of each message; the quoted copy of earlier messages and
the signature are folded so a long thread stays readable. Pure text functions, so
they are tested without a screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PartKind = Literal["text", "quote", "signature"]

# "On Tue, 3 Nov 2026 at 10:02, Ana <ana@x> wrote:" and its common translations, plus
# the separators Outlook and Gmail put above a forwarded or quoted message.
_ATTRIBUTION = re.compile(
    r"^\s*(on\s.+\swrote|am\s.+\sschrieb|le\s.+\sa\s[ée]crit|el\s.+\sescribi[óo]"
    r"|op\s.+\sschreef|il\s.+\sha\sscritto)\s*:\s*$",
    re.IGNORECASE,
)
_HISTORY_START = re.compile(
    r"^\s*(-{2,}\s*(original message|forwarded message|ursprüngliche nachricht)\s*-{2,}"
    r"|_{20,})\s*$",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent from my \w+|sent from (outlook|mail) for \w+|get outlook for \w+"
    r"|envoyé de mon \w+|von meinem \w+ gesendet)\b.*$",
    re.IGNORECASE,
)
_VALEDICTION = re.compile(
    r"^\s*((best|kind|warm|many)\s+(regards|wishes|thanks)|regards|cheers|thanks|thank you"
    r"|sincerely|yours( truly| sincerely)?|best|br|mit freundlichen grüßen|cordialement"
    r"|saludos|atenciosamente)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_SIGNATURE_MAX_LINES = 12
_CLOSING_MAX_LINES = 4  # valediction plus name, title, company
_CLOSING_LINE_MAX = 48  # longer lines after a closing are prose, not a signature


@dataclass(frozen=True)
class Part:
    """A run of lines of one kind."""

    kind: PartKind
    text: str

    @property
    def line_count(self) -> int:
        return self.text.count("\n") + 1 if self.text else 0


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _kinds(lines: list[str]) -> list[PartKind]:
    kinds: list[PartKind] = ["text"] * len(lines)
    # Everything below an "Original message" separator is history.
    for i, line in enumerate(lines):
        if _HISTORY_START.match(line):
            kinds[i:] = ["quote"] * (len(lines) - i)
            break
    # "> " lines, and the attribution line (possibly wrapped over two) right above them.
    for i, line in enumerate(lines):
        if kinds[i] == "text" and _quoted(line):
            kinds[i] = "quote"
            j = i - 1
            while j >= 0 and not lines[j].strip() and j > i - 3:
                j -= 1
            for k in (j, j - 1):
                if k >= 0 and kinds[k] == "text":
                    joined = " ".join(x.strip() for x in lines[k : j + 1])
                    if _ATTRIBUTION.match(joined):
                        kinds[k:i] = ["quote"] * (i - k)
                        break
    # A signature: the RFC 3676 delimiter "-- " (or a bare "--") near the end of what
    # is left, or a "Sent from my phone" line.
    last_text = max((i for i, k in enumerate(kinds) if k == "text"), default=-1)
    for i in range(last_text, -1, -1):
        if kinds[i] != "text":
            continue
        if lines[i].rstrip() == "--" and last_text - i <= _SIGNATURE_MAX_LINES:
            for k in range(i, last_text + 1):
                if kinds[k] == "text":
                    kinds[k] = "signature"
            break
    # A closing ("Kind regards,") followed only by a few short lines (name, company).
    last_text = max((i for i, k in enumerate(kinds) if k == "text"), default=-1)
    first_text = next((i for i, k in enumerate(kinds) if k == "text" and lines[i].strip()), 0)
    for i in range(max(first_text + 1, last_text - _CLOSING_MAX_LINES), last_text):
        if kinds[i] == "text" and _VALEDICTION.match(lines[i]):
            tail = [x for x in lines[i + 1 : last_text + 1] if x.strip()]
            if tail and all(len(x) <= _CLOSING_LINE_MAX for x in tail):
                for k in range(i, last_text + 1):
                    kinds[k] = "signature"
            break
    for i, line in enumerate(lines):
        if kinds[i] == "text" and _MOBILE_SIGNATURE.match(line):
            kinds[i] = "signature"
    return kinds


def fold(body: str) -> list[Part]:
    """The body as runs of text, quoted history and signature, in order."""
    lines = body.split("\n")
    kinds = _kinds(lines)
    parts: list[Part] = []
    run: list[str] = []
    current: PartKind | None = None
    for line, kind in zip(lines, kinds, strict=True):
        if kind != current and run and current is not None:
            parts.append(Part(current, "\n".join(run)))
            run = []
        current = kind
        run.append(line)
    if run and current is not None:
        parts.append(Part(current, "\n".join(run)))
    return [_trim(p) for p in parts if p.text.strip()]


def _trim(part: Part) -> Part:
    return Part(part.kind, part.text.strip("\n"))
