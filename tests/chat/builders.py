"""Builders for chat exports in the shapes the apps really write them.

Every test builds its own files from these; nothing here is a stored corpus.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

LRM = "\u200e"
NNBSP = "\u202f"
NBSP = "\u00a0"


def _h12(
    d: datetime, am: str = "AM", pm: str = "PM", space: str = " ", seconds: bool = False
) -> str:
    clock = f"{d.hour % 12 or 12}:{d:%M}" + (f":{d:%S}" if seconds else "")
    return f"{clock}{space}{pm if d.hour >= 12 else am}"


@dataclass(frozen=True)
class Locale:
    """How one phone in one language prints a message header."""

    layout: str  # android | ios
    header: Callable[[datetime], str]
    seconds: bool


def _us(d: datetime) -> str:
    return f"{d.month}/{d.day}/{d:%y}"


def _ko(d: datetime) -> str:
    half = "오후" if d.hour >= 12 else "오전"
    return f"{d.year}. {d.month}. {d.day}. {half} {d.hour % 12 or 12}:{d:%M}"


_ES = (f"a.{NBSP}m.", f"p.{NBSP}m.")

# Headers as WhatsApp writes them (REFERENCE.md, "Chat exports in the wild").
LOCALES: dict[str, Locale] = {
    "android-en_US": Locale("android", lambda d: f"{_us(d)}, {_h12(d, space=NNBSP)}", False),
    "android-en_GB": Locale("android", lambda d: f"{d:%d/%m/%Y}, {d:%H:%M}", False),
    "android-de_DE": Locale("android", lambda d: f"{d:%d.%m.%y}, {d:%H:%M}", False),
    "android-es_ES": Locale("android", lambda d: f"{d:%d/%m/%y} {_h12(d, *_ES)}", False),
    "android-en_IN": Locale("android", lambda d: f"{d:%d/%m/%y}, {_h12(d, 'am', 'pm')}", False),
    "android-ko_KR": Locale("android", _ko, False),
    "android-sv_SE": Locale("android", lambda d: f"{d:%Y-%m-%d} {d:%H:%M}", False),
    "android-nl_NL": Locale("android", lambda d: f"{d:%d-%m-%Y} {d:%H:%M}", False),
    "android-fr_FR": Locale("android", lambda d: f"{d:%d/%m/%Y} à {d:%H:%M}", False),
    "ios-en_US": Locale("ios", lambda d: f"{_us(d)}, {_h12(d, space=NNBSP, seconds=True)}", True),
    "ios-de_DE": Locale("ios", lambda d: f"{d:%d.%m.%y}, {d:%H:%M:%S}", True),
    "ios-en_GB": Locale("ios", lambda d: f"{d:%d/%m/%Y}, {d:%H:%M:%S}", True),
    "ios-ja_JP": Locale("ios", lambda d: f"{d:%Y/%m/%d} {d:%H:%M:%S}", True),
    "ios-pt_BR": Locale("ios", lambda d: f"{d:%d/%m/%Y} {d:%H:%M:%S}", True),
    "ios-es_ES": Locale(
        "ios", lambda d: f"{d:%d/%m/%y}, {_h12(d, 'a. m.', 'p. m.', seconds=True)}", True
    ),
}


@dataclass(frozen=True)
class Msg:
    """One chat line to write: when (naive local time), who, what."""

    when: datetime
    author: str | None  # None: a system line
    text: str
    marked: bool = False  # iOS: U+200E before the text (media, system lines)


def whatsapp_text(locale: str, messages: Iterable[Msg], *, newline: str = "\n") -> str:
    """An export's text in one locale's layout."""
    spec = LOCALES[locale]
    out = []
    for m in messages:
        header = spec.header(m.when)
        text = (LRM + m.text) if m.marked else m.text
        if spec.layout == "android":
            line = f"{header} - {m.author}: {text}" if m.author else f"{header} - {text}"
        else:
            prefix = LRM if m.marked else ""
            line = f"{prefix}[{header}] {m.author or 'Group'}: {text}"
        out.append(line.replace("\n", newline) + newline)
    return "".join(out)


def conversation(start: datetime, seconds: bool) -> list[Msg]:
    """A support chat whose dates include days above 12 (so the order is decidable)."""
    s = 17 if seconds else 0
    return [
        Msg(start.replace(second=s), "+1 (415) 555-0142", "Hi, my order #4411 never arrived"),
        Msg(start.replace(minute=5, second=s), "Ana Souza", "Sorry to hear that! Checking now."),
        Msg(
            start.replace(hour=14, minute=2, second=s),
            "+1 (415) 555-0142",
            "Also the invoice is wrong:\nit says 3 items\nI ordered 2",
        ),
        Msg(
            start.replace(day=start.day + 1, hour=9, minute=30, second=s),
            "Ana Souza",
            "Refund sent 👍",
        ),
    ]


def zip_bytes(members: Mapping[str, bytes | str], *, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return buf.getvalue()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))
    else:
        path.write_bytes(data)
    return path


# -- Slack -------------------------------------------------------------------------------


def ts(when: datetime, n: int = 0) -> str:
    return f"{int(when.replace(tzinfo=UTC).timestamp())}.{n:06d}"


SLACK_USERS = [
    {"id": "U024BE7LH", "name": "ana", "real_name": "Ana Souza", "is_bot": False,
     "profile": {"real_name": "Ana Souza", "display_name": "ana", "email": "support@example.com"}},
    {"id": "U0CUST001", "name": "bea", "real_name": "Bea Costa", "is_bot": False,
     "profile": {"real_name": "Bea Costa", "display_name": "bea", "email": "Bea@Acme.example",
                 "phone": "+1 415 555 0177"}},
    {"id": "U0CUST002", "name": "carl", "is_bot": False,
     "profile": {"real_name": "", "display_name": "carl"}},
    {"id": "U0BOTAPP1", "name": "deploybot", "is_bot": True, "profile": {"real_name": "Deploy"}},
]  # fmt: skip


def slack_export(
    root: Path,
    days: dict[str, dict[str, list[dict[str, Any]]]],
    *,
    era: str = "current",
    as_zip: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A workspace export: ``days`` maps folder → day → messages."""
    files: dict[str, bytes | str] = {
        "users.json": json.dumps(SLACK_USERS),
        "channels.json": json.dumps(
            [{"id": "C0SUPPORT", "name": "support", "members": ["U024BE7LH", "U0CUST001"]},
             {"id": "C0GENERAL", "name": "general", "members": []}]
        ),
    }  # fmt: skip
    if era == "current":
        files["dms.json"] = ""  # empty, as real exports have it
        files["groups.json"] = json.dumps([{"id": "G0PRIVATE", "name": "vip", "members": []}])
        files["mpims.json"] = "[]"
    for name, value in (extra or {}).items():
        files[name] = value if isinstance(value, str | bytes) else json.dumps(value)
    for folder, per_day in days.items():
        for day, messages in per_day.items():
            files[f"{folder}/{day}.json"] = json.dumps(messages, indent=1)
    if as_zip:
        return write(root.with_suffix(".zip"), zip_bytes(files))
    for name, data in files.items():
        write(root / name, data)
    return root


# -- running the CLI ----------------------------------------------------------------------


runner = CliRunner()


def cli(*args: str, ok: bool = True) -> tuple[str, str, int]:
    from deskterm.cli import app

    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout, result.stderr, result.exit_code


def cli_json(*args: str) -> Any:
    out, _, _ = cli(*args, "--json")
    return json.loads(out)


def config(home: Path, text: str) -> None:
    write(home / "config" / "config.toml", text)


def bodies(store: Any, ticket: int) -> list[str]:
    return [m.body for m in store.tickets.get_ticket(ticket).messages]


def all_messages(store: Any) -> list[Any]:
    from sqlmodel import col, select

    from deskterm.store.models import Message

    with store.db.read() as session:
        return list(session.exec(select(Message).order_by(col(Message.id))).all())


def items_of(source: Any) -> list[Any]:
    return list(source.items())


def records(items: Sequence[Any]) -> list[Any]:
    from deskterm.connectors.records import InboundRecord

    return [i for i in items if isinstance(i, InboundRecord)]


def failures(items: Sequence[Any]) -> list[Any]:
    from deskterm.connectors.records import ParseFailure

    return [i for i in items if isinstance(i, ParseFailure)]
