"""Sending mail through the agent's SMTP server (``[smtp]`` in the config).

::

    [smtp]
    host = "smtp.example.com"
    port = 587                      # default: 465 for tls, 587 for starttls, 25 for none
    security = "starttls"           # tls | starttls | none (none needs allow_plaintext)
    username = "support@example.com"
    password_cmd = "pass show mail/smtp"   # or password_env = "VAR", or keyring = true
    timeout = 30                    # seconds
    ca_file = "/etc/ssl/our-ca.pem" # optional: trust this CA too (self-hosted servers)

Certificates are always verified. A connection that fails before the message is
handed over (refused, reset, a 4xx "try later") is tried again with back-off,
:data:`SEND_TRIES` times in all; the message itself is sent once, never twice. Every
failure becomes a :class:`SendError` whose message is one sentence saying what went
wrong and where.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskterm.config import ConfigError

if TYPE_CHECKING:
    from deskterm.config import Config

log = logging.getLogger(__name__)

SEND_TRIES = 3  # connection attempts before a send gives up
SEND_BACKOFF = 0.5  # seconds before the second attempt; doubled after
SECURITY = ("tls", "starttls", "none")
DEFAULT_PORTS = {"tls": 465, "starttls": 587, "none": 25}
_KEYS = (
    "host", "port", "security", "allow_plaintext", "username", "timeout", "ca_file",
    "password_cmd", "password_env", "keyring", "password",
)  # fmt: skip


class SendError(Exception):
    """The message was not sent; the text says why in one sentence."""


@dataclass(frozen=True)
class SmtpSettings:
    """The validated ``[smtp]`` table; the password is resolved only when sending."""

    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    timeout: float = 30.0
    ca_file: Path | None = None
    table: dict[str, Any] | None = None

    @classmethod
    def from_config(cls, config: Config) -> SmtpSettings:
        table = config.section("smtp")
        if not table:
            raise ConfigError(
                "Replies by email need an [smtp] section in the config (host, security, "
                "username and a password source)."
            )
        unknown = set(table) - set(_KEYS)
        if unknown:
            raise ConfigError(f"smtp.{sorted(unknown)[0]}: unknown key; use {', '.join(_KEYS)}.")
        host = table.get("host")
        if not isinstance(host, str) or not host.strip():
            raise ConfigError("smtp.host must name the SMTP server.")
        security = table.get("security", "starttls")
        if security not in SECURITY:
            raise ConfigError(f"smtp.security must be tls, starttls or none, not {security!r}.")
        plaintext = table.get("allow_plaintext", False)
        if not isinstance(plaintext, bool):
            raise ConfigError("smtp.allow_plaintext must be true or false.")
        if security == "none" and not plaintext:
            raise ConfigError(
                'smtp.security = "none" sends mail (and any password) unencrypted; '
                "set allow_plaintext = true if that is really what you want."
            )
        port = table.get("port", DEFAULT_PORTS[security])
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(f"smtp.port must be a port number, not {port!r}.")
        timeout = table.get("timeout", 30)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError("smtp.timeout must be a number of seconds.")
        username = table.get("username")
        if username is not None and (not isinstance(username, str) or not username):
            raise ConfigError("smtp.username must be a non-empty string.")
        ca_file = table.get("ca_file")
        if ca_file is not None:
            ca_path = Path(str(ca_file)).expanduser()
            if not ca_path.is_file():
                raise ConfigError(f"smtp.ca_file {ca_path} does not exist.")
        return cls(
            host=host.strip(),
            port=port,
            security=security,
            username=username,
            timeout=float(timeout),
            ca_file=ca_path if ca_file is not None else None,
            table=dict(table),
        )

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file is not None:
            context.load_verify_locations(cafile=str(self.ca_file))
        return context

    def password(self) -> str:
        from deskterm.credentials import CredentialError, resolve_password

        try:
            return resolve_password(self.table or {}, "smtp")
        except CredentialError as exc:
            raise SendError(str(exc)) from exc


def send(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send ``message`` to its To/Cc recipients, raising :class:`SendError` on failure."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    password = settings.password() if settings.username else None
    where = settings.where
    connecting = Retrying(
        retry=retry_if_exception(_worth_retrying),
        stop=stop_after_attempt(SEND_TRIES),
        wait=wait_exponential(multiplier=SEND_BACKOFF, max=8 * SEND_BACKOFF),
        sleep=sleep,
        before_sleep=lambda state: log.warning(
            "SMTP %s: %s; trying again in %.1f s",
            where,
            state.outcome.exception() if state.outcome else "?",
            state.next_action.sleep if state.next_action else 0.0,
        ),
        reraise=True,
    )
    try:
        with connecting(_open, settings, password) as client:
            client.send_message(message)
    except SendError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"The SMTP server {where} refused the login of {settings.username}: "
            f"{_reply(exc.smtp_code, exc.smtp_error)}."
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(
            f"{addr} ({_reply(code, text)})" for addr, (code, text) in exc.recipients.items()
        )
        raise SendError(f"The SMTP server {where} refused the recipient {refused}.") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise SendError(
            f"The SMTP server {where} refused the sender {exc.sender}: "
            f"{_reply(exc.smtp_code, exc.smtp_error)}."
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise SendError(
            f"The SMTP server {where} answered {_reply(exc.smtp_code, exc.smtp_error)}."
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(f"The SMTP server {where} does not support this: {exc}.") from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise SendError(f"The SMTP server {where} closed the connection: {exc}.") from exc
    except smtplib.SMTPException as exc:
        raise SendError(f"Sending through {where} failed: {exc}.") from exc
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        raise SendError(f"TLS with the SMTP server {where} failed: {reason}.") from exc
    except TimeoutError as exc:
        raise SendError(
            f"The SMTP server {where} did not answer within {settings.timeout:g} s."
        ) from exc
    except socket.gaierror as exc:
        raise SendError(f"Cannot find the SMTP server {settings.host}: {exc.strerror}.") from exc
    except OSError as exc:
        raise SendError(
            f"Cannot connect to the SMTP server {where}: {exc.strerror or exc}."
        ) from exc


def _open(settings: SmtpSettings, password: str | None) -> smtplib.SMTP:
    """A connected client, over TLS as configured and logged in: everything before the
    message is handed over, so it is safe to try again."""
    client: smtplib.SMTP
    if settings.security == "tls":
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=settings.tls_context()
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        client.ehlo()
        if settings.security == "starttls":
            if not client.has_extn("starttls"):
                raise SendError(
                    f"The SMTP server {settings.where} does not offer STARTTLS; "
                    'use security = "tls" or ask its administrator.'
                )
            client.starttls(context=settings.tls_context())
            client.ehlo()
        if settings.username and password is not None:
            client.login(settings.username, password)
    except BaseException:
        client.close()
        raise
    return client


def _worth_retrying(exc: BaseException) -> bool:
    """A refused or dropped connection and "try later" answers (4xx); not refusals, DNS,
    TLS, or a server that did not answer within the timeout (waiting again would only
    make the agent wait longer)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, ConnectionError | smtplib.SMTPServerDisconnected)


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}".strip().rstrip(".")
