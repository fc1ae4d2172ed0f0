"""Nasty mail, built by the tests themselves (nothing of it is committed as data).

Each builder returns the raw bytes of one message as a real mail client or a broken
one would write it: odd charsets, 8-bit headers, NULs, escape sequences, broken MIME.
"""

from __future__ import annotations

import base64
import quopri
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(
    *,
    sender: str = "Maria Silva <maria@acme.com>",
    to: str = "Support <support@example.com>",
    subject: str = "Cannot log in",
    body: str = "Hello, I cannot log in since yesterday.\n",
    msgid: str | None = "<m1@acme.com>",
    date: datetime | str | None = BASE,
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    extra_headers: Iterable[str] = (),
    charset: str = "utf-8",
    cte: str = "8bit",
) -> bytes:
    """A simple single-part message; headers given as text are written as-is."""
    head = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    if date is not None:
        head.append(f"Date: {format_datetime(date) if isinstance(date, datetime) else date}")
    if msgid:
        head.append(f"Message-ID: {msgid}")
    if in_reply_to:
        head.append(f"In-Reply-To: {in_reply_to}")
    refs = list(references)
    if refs:
        head.append(f"References: {' '.join(refs)}")
    head.extend(extra_headers)
    head += ["MIME-Version: 1.0", f"Content-Type: text/plain; charset={charset}"]
    head.append(f"Content-Transfer-Encoding: {cte}")
    raw = body.encode(charset)
    if cte == "base64":
        raw = base64.encodebytes(raw)
    elif cte == "quoted-printable":
        raw = quopri.encodestring(raw)
    return ("\n".join(head) + "\n\n").encode("utf-8") + raw


def encoded(text: str, charset: str = "utf-8") -> str:
    """An RFC 2047 encoded word (or several) for ``text``."""
    return Header(text, charset).encode()


def adjacent_words_name() -> bytes:
    """A display name split into two adjacent encoded words (CPython issue 128110)."""
    return message(
        sender="=?utf-8?q?=CE=A0=CE=B1=CF=80?= =?utf-8?q?=CE=B1=CE=B4=CF=8C=CF=80=CE=BF=CF=85"
        "=CE=BB=CE=BF=CF=82?= <nikos@example.gr>",
    )


def iso2022jp() -> bytes:
    body = "お世話になっております。ログインできません。\n"
    return message(
        sender=f"{encoded('田中 裕子', 'iso-2022-jp')} <yuko@example.jp>",
        subject=encoded("ログインできません", "iso-2022-jp"),
        body=body,
        charset="iso-2022-jp",
        cte="7bit",
        msgid="<jp1@example.jp>",
    )


def koi8r() -> bytes:
    return message(
        sender=f"{encoded('Ольга Иванова', 'koi8-r')} <olga@mail.ru>",
        subject=encoded("Не работает вход", "koi8-r"),
        body="Здравствуйте, у меня не работает вход.\n",
        charset="koi8-r",
        cte="base64",
        msgid="<ru1@mail.ru>",
    )


def windows1252() -> bytes:
    return message(
        sender="=?windows-1252?q?J=FCrgen_M=FCller?= <jm@example.de>",
        subject="=?windows-1252?q?=84Rechnung=93_=96_=80_10?=",
        body="Sehr geehrte Damen und Herren, die Rechnung über 10 € ist „falsch“.\n",
        charset="windows-1252",
        cte="quoted-printable",
        msgid="<de1@example.de>",
    )


def gb2312() -> bytes:
    # 镕 is in GBK but not in GB2312: real "gb2312" mail often carries such characters.
    body = "您好，我无法登录。朱镕基\n"
    raw = message(
        sender=f"{encoded('王伟', 'gb2312')} <wei@example.cn>",
        subject=encoded("无法登录", "gb2312"),
        body="PLACEHOLDER",
        charset="gb2312",
        cte="8bit",
        msgid="<cn1@example.cn>",
    )
    return raw.replace(b"PLACEHOLDER", body.encode("gbk"))


def eight_bit_headers() -> bytes:
    """Raw UTF-8 and Latin-1 bytes in headers, as broken mailers send them."""
    return (
        b"From: Zo\xc3\xab D\xc3\xbcbois <zoe@example.fr>\n"
        b"To: support@example.com\n"
        b"Subject: Caf\xc3\xa9 cr\xc3\xa8me r\xc3\xa9clamation\n"
        b"Cc: Ren\xe9 Latin <rene@example.fr>\n"
        b"Date: Mon, 2 Mar 2026 10:00:00 +0100\n"
        b"Message-ID: <fr1@example.fr>\n"
        b"Content-Type: text/plain\n\n"
        b"Bonjour, caf\xc3\xa9 fr\xc3\xa4\xc3\x9flich.\n"
    )


def nul_bytes() -> bytes:
    return message(
        subject="Null\x00 bytes",
        body="before\x00after\x00\nline two\x07 bell\n",
        msgid="<nul1@acme.com>",
    )


def escapes() -> bytes:
    """Terminal escape sequences in the subject, the sender's name and the body."""
    return message(
        sender="\x1b]0;owned\x07Evil\x1b[31m Corp <evil@example.net>",
        subject="=?utf-8?q?=1B[2J=1B[31mURGENT?= \x1b]8;;http://x\x1b\\click\x1b]8;;\x1b\\",
        body="text \x1b[1;31mred\x1b[0m and \x9b31m 8-bit CSI\n",
        msgid="<esc1@example.net>",
    )


def huge_headers(lines: int = 5000) -> bytes:
    refs = [f"<ref{i}@example.com>" for i in range(3000)]
    extra = [f"X-Junk-{i}: {'y' * 60}" for i in range(lines)]
    return message(
        references=refs,
        extra_headers=[*extra, "X-Long: " + "z" * 200_000],
        msgid="<huge1@acme.com>",
    )


def html_only() -> bytes:
    html = (
        "<html><head><style>p { color: red }</style><script>alert('x')</script></head>"
        "<body><h1>Order problem</h1><p>My order <b>#4411</b> never arrived.</p>"
        "<ul><li>Ordered: May 1</li><li>Paid: yes</li></ul></body></html>"
    )
    return (
        b"From: Priya Patel <priya@example.in>\nTo: support@example.com\n"
        b"Subject: Order problem\nDate: Mon, 2 Mar 2026 10:00:00 +0000\n"
        b"Message-ID: <html1@example.in>\nMIME-Version: 1.0\n"
        b"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        + quopri.encodestring(html.encode())
    )


def alternative(plain: str = "Plain version.\n", html: str = "<p>HTML version.</p>") -> bytes:
    return (
        b"From: a@example.com\nTo: support@example.com\nSubject: Alt\n"
        b"Message-ID: <alt1@example.com>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="b1"\n\n'
        b"--b1\nContent-Type: text/html; charset=utf-8\n\n" + html.encode() + b"\n"
        b"--b1\nContent-Type: text/plain; charset=utf-8\n\n" + plain.encode() + b"\n"
        b"--b1--\n"
    )


def with_attachments(names: Iterable[str] = ("../../.bashrc",), size: int = 3000) -> bytes:
    parts = [
        b"Content-Type: text/plain; charset=utf-8\n\nSee the attached files.\n",
    ]
    for i, name in enumerate(names):
        payload = base64.encodebytes(bytes((i + j) % 256 for j in range(size)))
        if name.isascii():
            disposition = f'attachment; filename="{name}"'
        else:
            from urllib.parse import quote

            disposition = f"attachment; filename*=utf-8''{quote(name)}"
        parts.append(
            f"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
            f"Content-Disposition: {disposition}\n\n".encode()
            + payload
        )
    body = b"".join(b"--mix\n" + p + b"\n" for p in parts) + b"--mix--\n"
    return (
        b"From: Lars Nilsson <lars@example.se>\nTo: support@example.com\n"
        b"Subject: Logs attached\nDate: Mon, 2 Mar 2026 10:00:00 +0000\n"
        b"Message-ID: <att1@example.se>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="mix"\n\n' + body
    )


def nested_rfc822() -> bytes:
    inner = with_attachments(["report.pdf"]).replace(b"<att1@example.se>", b"<inner@example.se>")
    return (
        b"From: Eva Novak <eva@example.cz>\nTo: support@example.com\n"
        b"Subject: Fwd: Logs attached\nDate: Mon, 2 Mar 2026 11:00:00 +0000\n"
        b"Message-ID: <fwd1@example.cz>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="outer"\n\n'
        b"--outer\nContent-Type: text/plain\n\nForwarding what Lars sent.\n"
        b"--outer\nContent-Type: message/rfc822\n\n" + inner + b"\n--outer--\n"
    )


def broken_boundary_never_appears() -> bytes:
    return (
        b"From: b@example.com\nTo: support@example.com\nSubject: Broken\n"
        b"Message-ID: <broken1@example.com>\n"
        b'Content-Type: multipart/mixed; boundary="nowhere"\n\n'
        b"This body has no boundary at all.\n"
    )


def broken_boundary_unclosed() -> bytes:
    return (
        b"From: b@example.com\nTo: support@example.com\nSubject: Unclosed\n"
        b"Message-ID: <broken2@example.com>\n"
        b'Content-Type: multipart/mixed; boundary="abc"\n\n'
        b"preamble\n--abc\nContent-Type: text/plain\n\nfirst part\n"
        b"--abcdef\nnot a delimiter: the boundary is only a prefix\n"
        b"--abc\nContent-Type: text/plain\n\nlast part, never closed\n"
    )


def no_message_id(body: str = "No id here.\n") -> bytes:
    return message(msgid=None, body=body)


def write_maildir(root: Path, messages: Iterable[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(messages):
        if i % 3 == 0:
            (root / "new" / f"{1700000000 + i}.M{i}.host").write_bytes(raw)
        elif i % 3 == 1:
            (root / "cur" / f"{1700000000 + i}.M{i}.host:2,S").write_bytes(raw)
        else:
            (root / "cur" / f"{1700000000 + i}.M{i}.host!2,RS").write_bytes(raw)
    return root


def write_mbox(path: Path, messages: Iterable[bytes], *, crlf: bool = False) -> Path:
    """An mboxrd file (``>From `` quoting), optionally with CRLF line endings."""
    out = bytearray()
    for i, raw in enumerate(messages):
        out += f"From sender@example.com Mon Mar  2 {9 + i % 10:02d}:00:00 2026\n".encode()
        for line in raw.split(b"\n"):
            if line.lstrip(b">").startswith(b"From "):
                line = b">" + line
            out += line + b"\n"
        out += b"\n"
    data = bytes(out)
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    path.write_bytes(data)
    return path


def thread(
    count: int,
    *,
    customer: str = "Maria Silva <maria@acme.com>",
    agent: str = "Ana Souza <support@example.com>",
    subject: str = "Invoice is wrong",
    prefix: str = "t",
    start: datetime = BASE,
) -> list[bytes]:
    """A conversation: customer and agent alternating, each reply threaded."""
    out: list[bytes] = []
    ids: list[str] = []
    for n in range(count):
        msgid = f"<{prefix}{n}@example.com>"
        sender, to = (agent, customer) if n % 2 else (customer, agent)
        out.append(
            message(
                sender=sender,
                to=to,
                subject=subject if n == 0 else f"Re: {subject}",
                body=f"Message {n} of thread {prefix}.\n",
                msgid=msgid,
                date=start + timedelta(hours=n),
                in_reply_to=ids[-1] if ids else None,
                references=ids,
            )
        )
        ids.append(msgid)
    return out
