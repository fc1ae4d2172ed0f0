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
Certificates are always verified. Every failure becomes a :class:`SendError` whose
message is one sentence saying what went wrong and where.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING

from deskterm.settings import ConfigError

if TYPE_CHECKING:
    from deskterm.settings import SmtpSettings


class SendError(Exception):
    """The message was not sent; the text says why in one sentence."""


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send ``message`` to its To/Cc recipients, raising :class:`SendError` on failure."""
    try:
        password = settings.password() if settings.username else None
    except ConfigError as exc:
        raise SendError(str(exc)) from exc
    where = settings.where
    try:
        client: smtplib.SMTP
        if settings.security == "tls":
            client = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=_tls_context(settings),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            client.ehlo()
            if settings.security == "starttls":
                if not client.has_extn("starttls"):
                    raise SendError(
                        f"The SMTP server {where} does not offer STARTTLS; "
                        'use security = "tls" or ask its administrator.'
                    )
                client.starttls(context=_tls_context(settings))
                client.ehlo()
            if settings.username and password is not None:
                client.login(settings.username, password)
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


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}".strip().rstrip(".")
