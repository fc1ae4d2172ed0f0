"""Private instances of the real servers the tests use (PostgreSQL, Dovecot, SMTP).

Each starts in a temporary directory on a loopback port and stops at the end of the
session. Tests that need one call :func:`require`: without the server they skip, or
fail when ``DESKTERM_REQUIRE_SERVERS=1`` (as in CI).
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest


def servers_required() -> bool:
    return os.environ.get("DESKTERM_REQUIRE_SERVERS") == "1"


def unavailable(why: str) -> None:
    """Skip (or fail, when servers are required) because a server cannot run here."""
    if servers_required():
        pytest.fail(f"required server unavailable: {why}")
    pytest.skip(why)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def which(*names: str, extra_dirs: tuple[str, ...] = ()) -> str | None:
    for name in names:
        found = shutil.which(name, path=os.pathsep.join((*extra_dirs, os.environ.get("PATH", ""))))
        if found:
            return found
    return None
