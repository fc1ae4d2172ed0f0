"""A private Dovecot IMAP server for tests: ``dovecot -F -c <generated conf>``.

Everything lives under one directory: the config, ``base_dir``, ``state_dir``, the
log, a ``passwd-file`` with one user, a maildir and a self-signed certificate (for
``localhost`` and ``127.0.0.1``; it is its own CA, so passing it as ``cafile``
trusts it). It listens on two loopback ports: plain IMAP (with STARTTLS) and IMAPS.
As root, login processes run as ``dovenull``, internal ones as ``dovecot`` and mail
as ``nobody``; nothing under /etc changes.

Usable as a script for a manual look: ``python tests/servers/dovecot.py DIR``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

USER = "support@example.com"
PASSWORD = "s3cret-Passw0rd"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot", path=os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin")))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_certificate(cert: Path, key: Path) -> None:
    """A self-signed certificate for localhost/127.0.0.1 (cryptography, else openssl)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key),
             "-out", str(cert), "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-addext", "basicConstraints=critical,CA:TRUE"],
            check=True, capture_output=True,
        )  # fmt: skip
        return
    import ipaddress

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@dataclass
class Dovecot:
    """A running private Dovecot and what a test needs to reach it."""

    base: Path
    imap_port: int
    imaps_port: int
    cafile: Path
    mail_uid: int
    mail_gid: int
    user: str = USER
    password: str = PASSWORD
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def conf(self) -> Path:
        return self.base / "dovecot.conf"

    @property
    def maildir(self) -> Path:
        return self.base / "mail" / self.user

    @property
    def log(self) -> Path:
        return self.base / "dovecot.log"

    def start(self) -> None:
        binary = dovecot_binary()
        assert binary is not None
        self.proc = subprocess.Popen(
            [binary, "-F", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"dovecot exited: {err.strip() or self.log_tail()}")
            if all(_listening(p) for p in (self.imap_port, self.imaps_port)):
                return
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start listening: {self.log_tail()}")

    def kill(self) -> None:
        """Kill the master and every child at once (a crash, not a shutdown)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None
        deadline = time.monotonic() + 10
        while any(_listening(p) for p in (self.imap_port, self.imaps_port)):
            if time.monotonic() > deadline:
                raise RuntimeError("dovecot ports still open after kill")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def doveadm(self, *args: str) -> str:
        doveadm = shutil.which(
            "doveadm", path=os.pathsep.join((os.environ.get("PATH", ""), "/usr/bin"))
        )
        assert doveadm is not None
        done = subprocess.run(
            [doveadm, "-c", str(self.conf), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def client(self) -> Any:
        """A logged-in IMAPClient over TLS that trusts the test certificate."""
        from imapclient import IMAPClient

        context = ssl.create_default_context(cafile=str(self.cafile))
        client = IMAPClient("127.0.0.1", self.imaps_port, ssl=True, ssl_context=context, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", when: dt.datetime | None = None) -> int:
        """APPEND one message; returns its UID."""
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, msg_time=when)
        # b"[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(response.split(b"]")[0].split()[-1])

    def account_toml(self, name: str = "support", **overrides: Any) -> str:
        """An ``[accounts.NAME]`` table for this server (IMAPS, trusting its cert)."""
        table: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.imaps_port,
            "security": "tls",
            "username": self.user,
            "password_env": "DESKTERM_TEST_IMAP_PASSWORD",
            "folders": ["INBOX"],
            "cafile": str(self.cafile),
            "timeout": 10,
        }
        table.update(overrides)
        lines = [f"[accounts.{name}]"]
        for key, value in table.items():
            if value is None:
                continue
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, int | float):
                lines.append(f"{key} = {value}")
            elif isinstance(value, list):
                lines.append(f"{key} = [{', '.join(_quote(v) for v in value)}]")
            else:
                lines.append(f"{key} = {_quote(value)}")
        return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _group(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _accounts(root: bool) -> tuple[str, str, int, int]:
    """(login user, internal user, mail uid, mail gid)."""
    if not root:
        me = pwd.getpwuid(os.getuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    for name in ("dovenull", "dovecot"):
        try:
            pwd.getpwnam(name)
        except KeyError as exc:
            raise RuntimeError(f"running as root but there is no {name!r} user") from exc
    nobody = pwd.getpwnam("nobody")
    return "dovenull", "dovecot", nobody.pw_uid, nobody.pw_gid


def start(base: Path) -> Dovecot:
    """Write a config under ``base`` and start Dovecot; raises RuntimeError if it cannot."""
    if dovecot_binary() is None:
        raise RuntimeError("dovecot is not installed (Debian package dovecot-imapd)")
    root = os.geteuid() == 0
    login_user, internal_user, uid, gid = _accounts(root)
    base.mkdir(parents=True, exist_ok=True)
    if root:
        # The unprivileged mail and login users must be able to reach base.
        for parent in [base, *base.parents]:
            mode = parent.stat().st_mode
            if mode & 0o001 == 0:
                parent.chmod(mode | 0o001)
    cert, key = base / "cert.pem", base / "key.pem"
    make_certificate(cert, key)
    (base / "mail").mkdir(exist_ok=True)
    home = base / "home"
    home.mkdir(exist_ok=True)
    if root:
        for path in (base / "mail", home):
            os.chown(path, uid, gid)
    passwd = base / "passwd"
    passwd.write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}::\n")
    server = Dovecot(base, _free_port(), _free_port(), cert, uid, gid)
    chroot = "" if root else "chroot ="
    server.conf.write_text(
        f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {server.log}
info_log_path = {server.log}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
mailbox_idle_check_interval = 1 secs
first_valid_uid = 1
first_valid_gid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {_group(internal_user)}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {server.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {server.imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""
    )
    server.start()
    return server


if __name__ == "__main__":
    running = start(Path(sys.argv[1]).resolve())
    print(f"IMAP {running.imap_port}, IMAPS {running.imaps_port}, cafile {running.cafile}")
    print(running.account_toml())
    try:
        signal.pause()
    finally:
        running.stop()
