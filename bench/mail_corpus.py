"""Deterministic support mailbox generator for the mail import benchmark.

    python bench/mail_corpus.py OUT --messages 100000 [--format maildir|mbox|both]

Writes a maildir (``OUT/maildir``) and/or an mbox (``OUT/support.mbox``) of support
threads: 1–8 messages each, customer and agent alternating, replies carrying
In-Reply-To/References and quoted text, realistic headers (Received, DKIM,
List-like noise) so a message is ~5 KB, mixed charsets and transfer encodings
(UTF-8 8bit and quoted-printable, windows-1252, koi8-r, iso-2022-jp, gb2312,
RFC 2047 names and subjects), multipart/alternative and HTML-only mail, and ~3% of
messages with an attachment. The same seed gives byte-identical output.
"""

from __future__ import annotations

import argparse
import base64
import os
import quopri
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

AGENT = ("Ana Souza", "support@example.com")
START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

FIRST = [
    "Maria",
    "John",
    "Wei",
    "Yuki",
    "Olga",
    "Jürgen",
    "Zoë",
    "Ahmed",
    "Priya",
    "Lars",
    "Sofía",
    "Nikos",
    "Chloé",
    "Dmitri",
    "Aiko",
    "Fatima",
    "Tomasz",
    "Inés",
    "Kwame",
    "Eva",
]
LAST = [
    "Silva",
    "Smith",
    "Zhang",
    "Tanaka",
    "Ivanova",
    "Müller",
    "Dubois",
    "Khan",
    "Patel",
    "Nilsson",
    "García",
    "Papadopoulos",
    "Kowalski",
    "Rossi",
    "Okafor",
    "Novak",
    "Brown",
]
DOMAINS = [
    "acme.com",
    "globex.io",
    "initech.net",
    "umbrella.org",
    "hooli.com",
    "stark.co",
    "wayne.biz",
    "tyrell.ai",
    "cyberdyne.de",
    "gmail.com",
    "yahoo.co.jp",
    "mail.ru",
]
TOPICS = [
    "Invoice INV-{n} is wrong",
    "Cannot log in after password reset",
    "Refund for order #{n}",
    "Export to CSV fails",
    "API rate limit exceeded",
    "Upgrade to the premium plan",
    "Two-factor codes not arriving",
    "Dashboard very slow since update",
    "Wrong VAT on invoice {n}",
    "Delete my account",
    "Webhook retries every minute",
    "Billing address change",
]
WORDS = [
    "the",
    "a",
    "we",
    "our",
    "your",
    "account",
    "invoice",
    "payment",
    "order",
    "login",
    "password",
    "reset",
    "email",
    "support",
    "team",
    "today",
    "yesterday",
    "please",
    "could",
    "would",
    "thanks",
    "again",
    "still",
    "not",
    "working",
    "error",
    "message",
    "screen",
    "browser",
    "update",
    "version",
    "settings",
    "export",
    "import",
    "report",
    "data",
    "customer",
    "billing",
    "refund",
    "plan",
    "upgrade",
    "monthly",
    "annual",
    "charge",
    "card",
    "bank",
    "transfer",
    "attached",
    "screenshot",
    "steps",
    "reproduce",
    "expected",
    "actual",
    "happens",
    "every",
    "time",
    "since",
    "Monday",
    "morning",
    "urgent",
    "deadline",
    "client",
    "meeting",
    "colleague",
    "admin",
    "permission",
    "role",
]
CYRILLIC = [
    "Здравствуйте",
    "у",
    "меня",
    "не",
    "работает",
    "вход",
    "в",
    "аккаунт",
    "после",
    "обновления",
    "пароля",
    "спасибо",
]
JAPANESE = [
    "お世話になっております",
    "ログインできません",
    "請求書について",
    "よろしくお願いします",
    "確認してください",
    "エラーが表示されます",
]
CHINESE = ["您好", "我无法登录", "发票有问题", "请尽快回复", "谢谢", "退款申请"]
# (charset, transfer encoding, weight): the mix of body encodings.
ENCODINGS = [("utf-8", "8bit", 45), ("utf-8", "quoted-printable", 20),
             ("windows-1252", "quoted-printable", 10), ("iso-8859-1", "8bit", 5),
             ("koi8-r", "base64", 5), ("iso-2022-jp", "7bit", 5), ("gb2312", "base64", 5),
             ("us-ascii", "7bit", 5)]  # fmt: skip


@dataclass
class Person:
    name: str
    email: str


def _people(rng: random.Random, count: int) -> list[Person]:
    out = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = rng.choice(DOMAINS)
        local = f"{first}.{last}{i}".lower().encode("ascii", "ignore").decode() or f"user{i}"
        out.append(Person(f"{first} {last}", f"{local}@{domain}"))
    return out


def _sentence(rng: random.Random, charset: str) -> str:
    if charset == "koi8-r":
        words = rng.sample(CYRILLIC, 6)
    elif charset == "iso-2022-jp":
        return "".join(rng.sample(JAPANESE, 3)) + "。"
    elif charset == "gb2312":
        return "，".join(rng.sample(CHINESE, 3)) + "。"
    else:
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
        if charset != "us-ascii" and rng.random() < 0.2:
            words.append(rng.choice(["café", "naïve", "Grüße", "€10", "déjà-vu"]))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _paragraphs(rng: random.Random, charset: str, size: int) -> str:
    paras, length = [], 0
    while length < size:
        para = " ".join(_sentence(rng, charset) for _ in range(rng.randint(2, 5)))
        if rng.random() < 0.02:
            para = "From " + para  # mbox must quote this line
        paras.append(para)
        length += len(para.encode("utf-8")) + 2
    return "\n\n".join(paras)


def _wrap(text: str, width: int = 76) -> str:
    lines = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            if line and len(line) + len(word) + 1 > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "\n".join(lines)


def _header_value(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _address(person: Person) -> str:
    name = person.name
    if name.isascii():
        return f'"{name}" <{person.email}>'
    return f"{Header(name, 'utf-8').encode()} <{person.email}>"


def _encode_body(text: str, charset: str, cte: str) -> bytes:
    raw = text.encode(charset, "replace")
    if cte == "base64":
        return base64.encodebytes(raw)
    if cte == "quoted-printable":
        return quopri.encodestring(raw)
    return raw


def _received(rng: random.Random, at: datetime) -> str:
    hop = rng.randint(1, 250)
    return (
        f"Received: from mx{hop}.mail.example.net (mx{hop}.mail.example.net [203.0.113.{hop}])\n"
        f"\tby mail.example.com (Postfix) with ESMTPS id {rng.getrandbits(40):010X}\n"
        f"\tfor <support@example.com>; {format_datetime(at)}\n"
    )


def _message(
    rng: random.Random,
    *,
    sender: Person,
    to: Person,
    subject: str,
    at: datetime,
    msgid: str,
    parents: list[str],
    quoted: str,
    thread_charset: str,
) -> tuple[bytes, str]:
    charset, cte = thread_charset, next(c for ch, c, _ in ENCODINGS if ch == thread_charset)
    text = _wrap(_paragraphs(rng, charset, rng.randint(900, 2600)))
    text = f"Hello,\n\n{text}\n\nBest regards,\n{sender.name}\n"
    if quoted:
        text += "\n" + "\n".join("> " + line for line in quoted.splitlines()[:40]) + "\n"
    head = [
        f"Return-Path: <{sender.email}>\n",
        _received(rng, at),
        _received(rng, at - timedelta(seconds=rng.randint(1, 30))),
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=sel1;\n"
        f"\th=from:to:subject:date:message-id; bh={base64.b64encode(rng.randbytes(32)).decode()};\n"
        f"\tb={base64.b64encode(rng.randbytes(128)).decode()}\n",
        f"From: {_address(sender)}\n",
        f"To: {_address(to)}\n",
        f"Subject: {_header_value(subject)}\n",
        f"Date: {format_datetime(at)}\n",
        f"Message-ID: {msgid}\n",
    ]
    if parents:
        head.append(f"In-Reply-To: {parents[-1]}\n")
        head.append(f"References: {' '.join(parents[-10:])}\n")
    head.append(
        f"X-Mailer: {rng.choice(['Thunderbird 115.3', 'Apple Mail (2.3731)', 'Outlook 16.0'])}\n"
    )
    head.append("MIME-Version: 1.0\n")
    kind = rng.random()
    attach = rng.random() < 0.03
    if kind < 0.15:
        body_part = _alternative(rng, text, charset, cte)
    elif kind < 0.20:
        body_part = _html_only(text)
    else:
        body_part = (
            f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
        ).encode() + _encode_body(text, charset, cte)
    if attach:
        boundary = f"mixed-{rng.getrandbits(48):012x}"
        name = rng.choice(["screenshot.png", "invoice.pdf", "logs.txt", "Übersicht.pdf"])
        ctype = {"png": "image/png", "pdf": "application/pdf", "txt": "text/plain"}[
            name.rsplit(".", 1)[1]
        ]
        payload = base64.encodebytes(rng.randbytes(rng.randint(2_000, 30_000)))
        head.append(f'Content-Type: multipart/mixed; boundary="{boundary}"\n')
        body = (
            f"This is a multi-part message in MIME format.\n--{boundary}\n".encode()
            + body_part
            + f"\n--{boundary}\nContent-Type: {ctype}\nContent-Transfer-Encoding: base64\n"
            f'Content-Disposition: attachment; filename="{_header_value(name)}"\n\n'.encode()
            + payload
            + f"--{boundary}--\n".encode()
        )
        raw = "".join(head).encode() + body
    else:
        raw = "".join(head).encode() + body_part
    return raw, text


def _alternative(rng: random.Random, text: str, charset: str, cte: str) -> bytes:
    boundary = f"alt-{rng.getrandbits(48):012x}"
    html = "<html><body>" + "".join(f"<p>{p}</p>" for p in text.split("\n\n")) + "</body></html>"
    return (
        (
            f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n--{boundary}\n'
            f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
        ).encode()
        + _encode_body(text, charset, cte)
        + (
            f"\n--{boundary}\nContent-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n"
        ).encode()
        + quopri.encodestring(html.encode())
        + f"\n--{boundary}--\n".encode()
    )


def _html_only(text: str) -> bytes:
    html = (
        "<html><head><style>p{margin:0}</style></head><body><div>"
        + "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
        + "</div></body></html>"
    )
    return (
        b"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        + quopri.encodestring(html.encode())
    )


def generate(count: int, seed: int = 42) -> Iterator[tuple[datetime, bytes]]:
    """(delivery time, message bytes) for ``count`` messages, thread by thread."""
    rng = random.Random(seed)
    people = _people(rng, max(10, count // 6))
    agent = Person(*AGENT)
    weights = [w for _, _, w in ENCODINGS]
    made = 0
    thread = 0
    while made < count:
        thread += 1
        customer = rng.choice(people)
        size = min(rng.randint(1, 8), count - made)
        charset = rng.choices([c for c, _, _ in ENCODINGS], weights)[0]
        topic = rng.choice(TOPICS).format(n=rng.randint(1000, 99999))
        if charset == "koi8-r":
            topic = "Не работает вход: " + topic
        elif charset == "iso-2022-jp":
            topic = "【至急】" + topic
        at = START + timedelta(minutes=thread * 7 + rng.randint(0, 5))
        parents: list[str] = []
        quoted = ""
        for n in range(size):
            outbound = n % 2 == 1
            sender, to = (agent, customer) if outbound else (customer, agent)
            subject = topic if n == 0 else f"{rng.choice(['Re', 'RE', 'AW', 'Re'])}: {topic}"
            msgid = f"<{thread}.{n}.{rng.getrandbits(32):08x}@{sender.email.split('@')[1]}>"
            raw, quoted = _message(
                rng,
                sender=sender,
                to=to,
                subject=subject,
                at=at,
                msgid=msgid,
                parents=parents,
                quoted=quoted,
                thread_charset=charset,
            )
            parents.append(msgid)
            yield at, raw
            made += 1
            at += timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))


def write_maildir(root: Path, count: int, seed: int = 42) -> Path:
    """A maildir under ``root`` (``cur/`` with flags, some in ``new/``)."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, (at, raw) in enumerate(generate(count, seed)):
        stamp = int(at.timestamp())
        name = f"{stamp}.M{i}P1.bench"
        target = root / "new" / name if i % 10 == 0 else root / "cur" / f"{name}:2,S"
        target.write_bytes(raw)
        os.utime(target, (stamp, stamp))
    return root


def write_mbox(path: Path, count: int, seed: int = 42) -> Path:
    """An mboxrd file: ``From `` lines quoted as ``>From ``."""
    with path.open("wb") as out:
        for at, raw in generate(count, seed):
            envelope = at.strftime("%a %b %e %H:%M:%S %Y")
            out.write(f"From bench@example.com {envelope}\n".encode())
            for line in raw.split(b"\n"):
                stripped = line.lstrip(b">")
                if stripped.startswith(b"From "):
                    line = b">" + line
                out.write(line + b"\n")
            out.write(b"\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=("maildir", "mbox", "both"), default="both")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.format in ("maildir", "both"):
        write_maildir(args.out / "maildir", args.messages, args.seed)
    if args.format in ("mbox", "both"):
        write_mbox(args.out / "support.mbox", args.messages, args.seed)


if __name__ == "__main__":
    main()
