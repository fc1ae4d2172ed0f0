"""A private PostgreSQL cluster for tests: ``initdb`` + ``pg_ctl`` on a loopback port.

As root the cluster runs as the ``postgres`` system user (PostgreSQL refuses root).
Usable as a script too, as ``.ci/run`` does: ``python tests/servers/postgres.py DIR``
prints the URL of a started cluster.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def _bin(name: str) -> str | None:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for d in dirs:
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def start(base: Path) -> tuple[str, Path]:
    """Start a cluster under ``base``; returns (SQLAlchemy URL, data dir)."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    data = base / "pgdata"
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root but there is no 'postgres' user") from exc
        os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chmod(base, 0o755)
        for parent in list(base.parents)[:-1]:
            if parent.stat().st_mode & 0o001 == 0:
                os.chmod(parent, parent.stat().st_mode | 0o001)
    subprocess.run(
        _as_user(
            [initdb, "-D", str(data), "-A", "trust", "-U", "deskterm", "--no-sync", "-E", "UTF8"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    port = _free_port()
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_user([pg_ctl, "-D", str(data), "-o", opts, "-l", str(base / "pg.log"), "-w", "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg://deskterm@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return url, data
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("PostgreSQL did not start listening")


def stop(data: Path) -> None:
    pg_ctl = _bin("pg_ctl")
    if pg_ctl:
        subprocess.run(
            _as_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


if __name__ == "__main__":
    url, _ = start(Path(sys.argv[1]).resolve())
    print(url)
