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

The table is checked when the config is loaded (:class:`deskterm.settings.SmtpSettings`).
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
from email.message import EmailMessage
from typing import TYPE_CHECKING

from deskterm.settings import ConfigError

if TYPE_CHECKING:
    from deskterm.settings import SmtpSettings

log = logging.getLogger(__name__)

SEND_TRIES = 3  # connection attempts before a send gives up
SEND_BACKOFF = 0.5  # seconds before the second attempt; doubled after


class SendError(Exception):
    """The message was not sent; the text says why in one sentence."""


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


def send(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send ``message`` to its To/Cc recipients, raising :class:`SendError` on failure."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    try:
        password = settings.password() if settings.username else None
    except ConfigError as exc:
        raise SendError(str(exc)) from exc
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
            settings.host, settings.port, timeout=settings.timeout, context=_tls_context(settings)
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
            client.starttls(context=_tls_context(settings))
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
