"""IMAP accounts: incremental sync by (folder, UIDVALIDITY, UID), and IDLE to watch.

:class:`ImapSync` yields, per folder, a :class:`~deskterm.connectors.mailsource.MailJob`
for every message with a UID above the last one imported, fetched with
``BODY.PEEK[]`` (mail is not marked read unless ``mark_read = true``), and after each
fetched batch a :class:`~deskterm.connectors.records.SyncCheckpoint` that the
pipeline commits in the same transaction as those messages. Source keys are
``imap:<account>:<uidvalidity>:<uid>``.

When a folder's UIDVALIDITY differs from the stored one, its UIDs mean nothing any
more: the folder is read again from the start, and the pipeline recognizes what it
stored before by Message-ID and content hash, so nothing is doubled.

Connections verify certificates (``cafile`` adds a trusted CA; ``verify = false``
works only with a loud warning), use a :class:`~imapclient.SocketTimeout`, and are
re-established with exponential back-off when they drop. Wrong passwords and
untrusted certificates are not retried: they raise :class:`ImapError` at once.

A message bigger than ``max_message_bytes`` (by its RFC822.SIZE) is fetched only up
to that many bytes (``BODY.PEEK[]<0.N>``): memory stays bounded, and the parser says
in the record what was left out.

Reality checks (REFERENCE.md): ``UID SEARCH n:*`` always returns the highest UID even
when nothing is newer, so results are filtered; INTERNALDATE comes back as a naive
local time; Dovecot sends CRLF and turns NUL bytes into 0x80 (the content hash
ignores both).
"""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, Protocol

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_never,
    wait_exponential,
)

from deskterm.connectors.mailsource import MailJob
from deskterm.connectors.mime import MAX_MESSAGE_BYTES
from deskterm.connectors.records import ParseFailure, SyncCheckpoint

log = logging.getLogger(__name__)


class Account(Protocol):
    """What a connection needs of an ``[accounts.NAME]`` table (the caller's settings
    object; a connector never reads the config)."""

    @property
    def name(self) -> str: ...
    @property
    def where(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def security(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def folders(self) -> tuple[str, ...]: ...
    @property
    def cafile(self) -> Path | None: ...
    @property
    def verify(self) -> bool: ...
    @property
    def mark_read(self) -> bool: ...
    @property
    def timeout(self) -> float: ...


FETCH_BATCH = 200  # messages per FETCH (a checkpoint follows each)...
FETCH_BYTES = 32 << 20  # ...or fewer: a FETCH response is held in memory whole
RETRIES = 5  # reconnects in a row before a one-off sync gives up
BACKOFF = 1.0  # seconds before the first reconnect; doubled each time
MAX_BACKOFF = 60.0
IDLE_RENEW = 600.0  # seconds before IDLE is re-issued (RFC 2177: at most 29 minutes)

StateLookup = Callable[[str, str], "tuple[int, int] | None"]
"""(account, folder) → (UIDVALIDITY, highest UID imported), from the store."""

# Network trouble worth another try: the server went away, restarted or timed out.
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    IMAPClientAbortError,
    imaplib.IMAP4.abort,
    socket.timeout,
)


class ImapError(Exception):
    """IMAP cannot go on; the message is one sentence for the user."""


def backoff(
    retry_on: tuple[type[BaseException], ...],
    sleep: Callable[[float], Any],
    before_sleep: Callable[[RetryCallState], None],
    *,
    tries: int | None = None,
    on_give_up: Callable[[RetryCallState], NoReturn] | None = None,
) -> Retrying:
    """Attempts with exponential back-off (BACKOFF, doubled, at most MAX_BACKOFF) while
    ``retry_on`` is raised: ``tries`` in all (default: until it works)."""
    return Retrying(
        retry=retry_if_exception_type(retry_on),
        wait=wait_exponential(multiplier=BACKOFF, max=MAX_BACKOFF),
        stop=stop_never if tries is None else stop_after_attempt(tries),
        sleep=sleep,
        before_sleep=before_sleep,
        retry_error_callback=on_give_up,
    )


def _failure(state: RetryCallState) -> BaseException:
    """The exception that ended an attempt."""
    assert state.outcome is not None
    exc = state.outcome.exception()
    assert exc is not None
    return exc


def _pause(state: RetryCallState) -> float:
    return state.next_action.sleep if state.next_action else 0.0


def _where(account: Account) -> str:
    return f"{account.host}:{account.port}"


def ssl_context(account: Account) -> ssl.SSLContext:
    """Certificate checks on, with the account's ``cafile`` trusted as well."""
    context = ssl.create_default_context(cafile=str(account.cafile) if account.cafile else None)
    if not account.verify:
        log.warning(
            "WARNING: %s.verify = false: the certificate of %s is NOT checked; anyone on "
            "the network path can read this mail and the password. Use cafile instead.",
            account.where,
            account.host,
        )
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect(account: Account, password: str) -> IMAPClient:
    """A logged-in client; :class:`ImapError` for what retrying cannot fix."""
    timeout = SocketTimeout(connect=min(account.timeout, 30.0), read=account.timeout)
    try:
        if account.security == "tls":
            client = IMAPClient(
                account.host, account.port, ssl=True, ssl_context=ssl_context(account),
                timeout=timeout,
            )  # fmt: skip
        else:
            client = IMAPClient(account.host, account.port, ssl=False, timeout=timeout)
            if account.security == "starttls":
                client.starttls(ssl_context(account))
            else:
                log.warning(
                    "%s.security = none: the password goes to %s unencrypted.",
                    account.where,
                    account.host,
                )
    except ssl.SSLCertVerificationError as exc:
        raise ImapError(
            f"The certificate of {_where(account)} is not trusted ({exc.verify_message}); "
            f"set {account.where}.cafile to the CA that signed it."
        ) from exc
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
        raise  # the server went away mid-handshake: worth another try
    except ssl.SSLError as exc:
        raise ImapError(
            f"TLS with {_where(account)} failed ({exc.reason or exc}); is "
            f"{account.where}.security right for port {account.port}?"
        ) from exc
    except IMAPClientError as exc:
        if "STARTTLS" in str(exc).upper():
            raise ImapError(f"{_where(account)} does not offer STARTTLS: {exc}") from exc
        raise
    try:
        client.login(account.username, password)
    except LoginError as exc:
        _close(client)
        reason = str(exc).strip().strip("[]'\"") or "rejected"
        raise ImapError(
            f"Login to {_where(account)} as {account.username} failed: {reason}"
        ) from exc
    return client


def _close(client: IMAPClient | None, *, broken: bool = False) -> None:
    """Log out, or only drop the socket of a broken connection (a LOGOUT sent there
    may wait the whole read timeout for an answer that never comes)."""
    if client is None:
        return
    if not broken:
        try:
            client.logout()
            return
        except (*TRANSIENT, IMAPClientError) as exc:
            log.debug("IMAP logout failed: %s", exc)
    try:
        client.shutdown()
    except (*TRANSIENT, IMAPClientError) as exc:
        log.debug("closing a dead IMAP connection: %s", exc)


def internal_date(value: Any) -> datetime | None:
    """INTERNALDATE as aware UTC (imapclient gives a naive local time)."""
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC)


class ImapSync:
    """Reads one account's new mail; reconnects with back-off when the link drops.

    ``state`` looks up what the store has already (passed in by the caller, since a
    connector never opens the store). After :data:`RETRIES` failed reconnects in a row
    it gives up, unless ``forever`` (``--watch``).
    """

    def __init__(
        self,
        account: Account,
        password: str,
        state: StateLookup,
        *,
        forever: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.account = account
        self.max_message_bytes = max_message_bytes
        self.password = password
        self.state = state
        self.fetch_batch = max(1, FETCH_BATCH)
        self.retries = None if forever else RETRIES
        self.sleep = sleep
        self.client: IMAPClient | None = None
        # What this run has handed on, per folder: (UIDVALIDITY, highest UID). The
        # pipeline commits it with the messages; after a reconnect we go on from here.
        self.progress: dict[str, tuple[int, int]] = {}

    def close(self, *, broken: bool = False) -> None:
        _close(self.client, broken=broken)
        self.client = None

    def items(
        self, folders: Sequence[str] | None = None
    ) -> Iterator[MailJob | SyncCheckpoint | ParseFailure]:
        """Jobs and checkpoints for the new mail of ``folders`` (default: the account's)."""
        for folder in folders or self.account.folders:
            tries = None if self.retries is None else self.retries + 1
            for attempt in backoff(
                TRANSIENT, self.sleep, self._reconnecting, tries=tries, on_give_up=self._gave_up
            ):
                with attempt:
                    try:
                        if self.client is None:
                            self.client = connect(self.account, self.password)
                        yield from self._folder(self.client, folder)
                    except TRANSIENT:
                        self.close(broken=True)
                        raise

    def _reconnecting(self, state: RetryCallState) -> None:
        log.warning(
            "IMAP %s: %s; reconnecting in %.1f s",
            _where(self.account), _reason(_failure(state)), _pause(state),
        )  # fmt: skip

    def _gave_up(self, state: RetryCallState) -> NoReturn:
        exc = _failure(state)
        raise ImapError(
            f"Lost the connection to {_where(self.account)} ({_reason(exc)}) and could "
            f"not get it back after {self.retries} tries; run sync again to resume."
        ) from exc

    def _folder(
        self, client: IMAPClient, folder: str
    ) -> Iterator[MailJob | SyncCheckpoint | ParseFailure]:
        try:
            info = client.select_folder(folder, readonly=not self.account.mark_read)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            yield ParseFailure(self._source(folder), "folder", f"cannot open folder: {exc}")
            return
        uidvalidity = int(info[b"UIDVALIDITY"])
        stored = self.progress.get(folder) or self.state(self.account.name, folder)
        if stored is not None and stored[0] != uidvalidity:
            log.warning(
                "IMAP %s/%s: UIDVALIDITY changed (%s → %s); reading the folder again "
                "(messages already stored are recognized, not doubled)",
                self.account.name, folder, stored[0], uidvalidity,
            )  # fmt: skip
        last = stored[1] if stored is not None and stored[0] == uidvalidity else 0
        # UID SEARCH n:* answers the highest UID even when it is below n: filter.
        uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
        if not uids:
            if stored != (uidvalidity, last):
                yield self._checkpoint(folder, uidvalidity, last)
            return
        item = b"BODY[]" if self.account.mark_read else b"BODY.PEEK[]"
        limit = self.max_message_bytes
        head = item + f"<0.{limit}>".encode()
        for batch in self._batches(client, uids):
            whole = [uid for uid, size in batch if size <= limit]
            response = client.fetch(whole, [item, b"INTERNALDATE"]) if whole else {}
            for uid, size in batch:
                if size > limit:
                    data = client.fetch([uid], [head, b"INTERNALDATE"]).get(uid)
                else:
                    data = response.get(uid)
                if data is None:
                    continue  # expunged since the search
                yield self._job(folder, uidvalidity, uid, data, size)
            yield self._checkpoint(folder, uidvalidity, batch[-1][0])

    def _batches(self, client: IMAPClient, uids: list[int]) -> Iterator[list[tuple[int, int]]]:
        """(UID, size) in FETCH batches of at most FETCH_BATCH messages and FETCH_BYTES
        bytes (one message larger than that is a batch of its own)."""
        for start in range(0, len(uids), 1000):
            part = uids[start : start + 1000]
            sizes = client.fetch(part, [b"RFC822.SIZE"])
            batch: list[tuple[int, int]] = []
            held = 0
            for uid in part:
                size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
                if batch and (len(batch) >= self.fetch_batch or held + size > FETCH_BYTES):
                    yield batch
                    batch, held = [], 0
                batch.append((uid, size))
                held += min(size, self.max_message_bytes)
            if batch:
                yield batch

    def _source(self, folder: str) -> str:
        return f"imap:{self.account.name}/{folder}"

    def _job(
        self, folder: str, uidvalidity: int, uid: int, data: dict[bytes, Any], size: int
    ) -> MailJob | ParseFailure:
        """A job for one fetched message; ``size`` is its whole size, which the parser
        compares with what came to know whether only its head was fetched."""
        body = data.get(b"BODY[]", data.get(b"BODY[]<0>"))
        if not isinstance(body, bytes):
            return ParseFailure(self._source(folder), f"uid {uid}", "the server sent no message")
        account = self.account
        return MailJob(
            source=self._source(folder),
            position=f"uid {uid}",
            data=body,
            size=size if size > self.max_message_bytes else len(body),
            source_key=f"imap:{account.name}:{uidvalidity}:{uid}",
            raw_ref=(
                f"imap://{account.username}@{account.host}:{account.port}/{folder}"
                f";UIDVALIDITY={uidvalidity}/;UID={uid}"
            ),
            fallback_at=internal_date(data.get(b"INTERNALDATE")),
            fallback_source="internaldate",
        )

    def _checkpoint(self, folder: str, uidvalidity: int, uid: int) -> SyncCheckpoint:
        self.progress[folder] = (uidvalidity, uid)
        return SyncCheckpoint(self.account.name, folder, uidvalidity, uid)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


class FolderWatcher(threading.Thread):
    """Holds an IDLE connection on one folder and calls ``notify(folder)`` when mail
    may have arrived: on connecting (to catch up on anything missed), on EXISTS or
    RECENT, and after every reconnect. It reconnects with back-off for as long as it
    runs, so a server restart is survived; a wrong password or an untrusted
    certificate stops it and is handed to ``fail``."""

    def __init__(
        self,
        account: Account,
        password: str,
        folder: str,
        notify: Callable[[str], None],
        fail: Callable[[BaseException], None],
        stop: threading.Event,
        *,
        check_every: float = 2.0,
    ) -> None:
        super().__init__(name=f"idle:{account.name}/{folder}", daemon=True)
        self.account = account
        self.password = password
        self.folder = folder
        self.notify = notify
        self.fail = fail
        self.stop = stop
        self.check_every = check_every
        self.connected = threading.Event()

    def run(self) -> None:
        try:
            self._watch()
        except Exception as exc:  # noqa: BLE001  (handed to the main loop, which raises it)
            self.fail(exc)

    def _watch(self) -> None:
        """Connect (with back-off), IDLE until the link drops, pause, again; an
        :class:`ImapError` ends the thread through ``run``."""
        while (client := self._connect()) is not None:
            broken = False
            try:
                self.notify(self.folder)
                self._idle(client)
            except (*TRANSIENT, IMAPClientError) as exc:
                broken = True
                self.connected.clear()
                log.warning(
                    "IMAP IDLE %s/%s: %s; reconnecting in %.1f s",
                    self.account.name, self.folder, _reason(exc), BACKOFF,
                )  # fmt: skip
            finally:
                _close(client, broken=broken)
            if broken:
                self.stop.wait(BACKOFF)

    def _connect(self) -> IMAPClient | None:
        """A client with the folder selected, retried with back-off until it works;
        ``None`` once ``stop`` is set."""
        for attempt in backoff((*TRANSIENT, IMAPClientError), self.stop.wait, self._retrying):
            with attempt:
                if self.stop.is_set():
                    return None
                client = connect(self.account, self.password)
                try:
                    client.select_folder(self.folder, readonly=True)
                except BaseException:
                    _close(client, broken=True)
                    raise
                return client
        return None

    def _retrying(self, state: RetryCallState) -> None:
        log.warning(
            "IMAP IDLE %s/%s: %s; reconnecting in %.1f s",
            self.account.name, self.folder, _reason(_failure(state)), _pause(state),
        )  # fmt: skip

    def _idle(self, client: IMAPClient) -> None:
        client.idle()
        self.connected.set()
        started = time.monotonic()
        while not self.stop.is_set():
            began = time.monotonic()
            responses = client.idle_check(timeout=self.check_every)
            if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                self.notify(self.folder)
            elif not responses and time.monotonic() - began < self.check_every / 2:
                # imapclient answers an early [] when the server closed the connection
                # (it swallows the EOF); ending IDLE raises then, or proves it alive.
                client.idle_done()
                client.idle()
                started = time.monotonic()
            if time.monotonic() - started > IDLE_RENEW:
                client.idle_done()
                client.idle()
                started = time.monotonic()
        client.idle_done()
