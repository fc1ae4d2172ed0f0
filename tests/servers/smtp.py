"""A private SMTP server (aiosmtpd) on a loopback port, with optional TLS and AUTH.

The certificate chain is generated per session: a throwaway CA and a leaf for
``127.0.0.1``/``localhost``, so clients verify certificates exactly as in production
(``ca_file`` points them at the CA).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers import free_port


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_tls(directory: Path) -> TlsFiles:
    """A CA and a server certificate for 127.0.0.1 signed by it, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deskterm test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@dataclass
class SmtpServer:
    """A running server: where it listens and every message it accepted."""

    port: int
    messages: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def received(self) -> list[bytes]:
        return [bytes(e.original_content) for e in self.messages]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.server.messages.append(envelope)
        return "250 Message accepted for delivery"


@contextmanager
def running(
    *,
    tls: TlsFiles | None = None,
    implicit_tls: bool = False,
    users: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[SmtpServer]:
    """Start aiosmtpd on 127.0.0.1 (on ``port``, default a free one): STARTTLS when
    ``tls`` is given (implicit TLS with ``implicit_tls``), AUTH PLAIN/LOGIN required
    when ``users`` is given."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    server = SmtpServer(port or free_port())

    def authenticator(_srv: Any, _session: Any, _env: Any, _mech: str, data: Any) -> Any:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode()
        ok = users is not None and users.get(login) == data.password.decode()
        if ok:
            server.logins.append(login)
        return AuthResult(success=ok, handled=False)

    params: dict[str, Any] = {}
    if tls is not None and not implicit_tls:
        params.update(tls_context=tls.server_context(), require_starttls=True)
    if users is not None:
        params.update(
            authenticator=authenticator, auth_required=True, auth_require_tls=tls is not None
        )
    controller = Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=server.port,
        ssl_context=tls.server_context() if tls is not None and implicit_tls else None,
        server_hostname="127.0.0.1",
        **params,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
