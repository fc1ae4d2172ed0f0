"""Parsing many mail messages on every core, in order.

Mail readers (files, IMAP) yield :class:`MailJob` entries: the bytes of one message,
or where to read them. :func:`parse_in_order` turns them into records with a pool
of worker processes while keeping the input order, so a
:class:`~deskterm.connectors.records.SyncCheckpoint` placed after some jobs still
comes after their records. The ingest pipeline then threads and writes in the main
process. Parsing is most of the CPU an import needs; two workers roughly double it.

Small inputs are parsed in-process: starting workers costs more than a few hundred
messages take to parse.

Memory is bounded by the largest message read: of a message over
``ParseOptions.max_message_bytes`` only the first bytes are read (and the record says
so); a big file message is keyed by hashing it as it streams past and is read by the
parser itself, so its bytes are never held by the reader and sent through a pipe.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import re
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing import forkserver
from multiprocessing.connection import Connection

from deskterm.connectors.mailsource import JobReader, MailJob, envelope_date
from deskterm.connectors.mime import (
    MailError,
    ParseOptions,
    RawKey,
    parse_message,
    raw_key,
)
from deskterm.connectors.records import AlreadyStored, InboundRecord, Item, ParseFailure

log = logging.getLogger(__name__)

INLINE_BELOW = 300  # fewer jobs than this are parsed without worker processes
CHUNK = 48  # jobs per task sent to a worker...
CHUNK_BYTES = 8 << 20  # ...or fewer, when they are big
# Tasks per worker queued ahead: enough for the workers to go on parsing while the
# writer stores a batch (2,000 messages of a bulk import), instead of waiting for it.
IN_FLIGHT = 24
IN_FLIGHT_BYTES = 12 * CHUNK_BYTES  # ...and no more message bytes than that (memory)
HELD_BYTES = 32 << 20  # message bytes held in this process before they move on
STREAM_ABOVE = 4 << 20  # a file message bigger than this is keyed as it streams past


_FROM_QUOTED = re.compile(rb"^>(>*From )", re.MULTILINE)


_reader = JobReader()
_options = ParseOptions()


def parse_items(job: MailJob, options: ParseOptions | None = None) -> list[Item]:
    """One job to its record, to the record and a failure that says what the limits
    left out of it (the rest of a message over the size limit, parts beyond the part
    or depth limits), or to a failure saying why there is no record."""
    item = parse_job(job, options)
    if isinstance(item, InboundRecord) and "limits" in item.extra:
        reason = f"imported without part of it: {item.extra['limits']}"
        return [item, ParseFailure(job.source, job.position, reason[:300])]
    return [item]


def parse_job(job: MailJob, options: ParseOptions | None = None) -> InboundRecord | ParseFailure:
    """One job to a record, or to a failure saying where and why (never raises for
    bad mail: a bad message must not stop the batch)."""
    options = options or _options
    try:
        data, whole = _reader.read(job, options.max_message_bytes)
    except OSError as exc:
        return ParseFailure(job.source, job.position, f"cannot read: {exc.strerror or exc}")
    cut = whole if whole > len(data) else None
    if job.mbox:
        data = _FROM_QUOTED.sub(rb"\1", data)
    try:
        record = parse_message(
            data,
            source_key=job.source_key,
            raw_ref=job.raw_ref,
            fallback_at=job.fallback_at,
            fallback_source=job.fallback_source,
            options=options,
            whole_size=cut,
        )
    except MailError as exc:
        return ParseFailure(job.source, job.position, str(exc)[:300])
    except RecursionError:
        return ParseFailure(job.source, job.position, "MIME structure nested too deeply")
    except Exception as exc:  # noqa: BLE001  (the email package raises anything on hostile input)
        reason = f"parser error: {type(exc).__name__}: {exc}".splitlines()[0]
        return ParseFailure(job.source, job.position, reason[:300])
    if record.date_source == "import" and job.path:
        fallback = _file_time(job)
        if fallback is not None:
            record = replace(record, sent_at=fallback[0], date_source=fallback[1])
    if options.analyze is not None:
        record.analysis = options.analyze(record)
    return record


def _file_time(job: MailJob) -> tuple[datetime, str] | None:
    if job.envelope:
        at = envelope_date(job.envelope)
        if at is not None:
            return at, "envelope"
    try:
        return datetime.fromtimestamp(os.stat(job.path or "").st_mtime, UTC), "file"  # noqa: PTH116
    except OSError:
        return None


def skip_stored(
    entries: Iterable[MailJob | Item],
    known: Callable[[Sequence[str]], set[str]] | None,
    *,
    batch: int = 500,
) -> Iterator[MailJob | Item]:
    """Key every file job: jobs without a key yet (.eml, mbox) are read here and keyed
    by a hash of their bytes. With ``known`` (the store's source-key lookup, passed in
    by the caller: connectors never open the store), messages stored before become
    :class:`AlreadyStored` without being parsed, so importing the same files again
    costs at most a read and a hash per message."""
    reader = JobReader()
    pending: list[MailJob | Item] = []
    held = 0

    def flush() -> Iterator[MailJob | Item]:
        nonlocal held
        held = 0
        keys = [e.source_key for e in pending if isinstance(e, MailJob) and e.source_key]
        stored = known(keys) if known and keys else set()
        for entry in pending:
            if isinstance(entry, MailJob) and entry.source_key in stored:
                yield AlreadyStored(entry.source_key or "")
            else:
                yield entry
        pending.clear()

    try:
        for entry in entries:
            if isinstance(entry, MailJob) and entry.data is None and entry.source_key is None:
                try:
                    entry = _keyed(entry, reader)
                except OSError as exc:
                    reason = f"cannot read: {exc.strerror or exc}"
                    pending.append(ParseFailure(entry.source, entry.position, reason))
                    continue
                held += len(entry.data or b"")
            pending.append(entry)
            if len(pending) >= batch or held >= HELD_BYTES:
                yield from flush()
        yield from flush()
    finally:
        reader.close()


def _keyed(job: MailJob, reader: JobReader) -> MailJob:
    """``job`` with its key, and with its bytes unless it is big: those are hashed
    as they stream past and read again by the parser (holding them here and sending
    them through a pipe would cost their size twice more)."""
    if job.size > STREAM_ABOVE:
        key = RawKey()
        for piece in reader.pieces(job):
            key.update(piece)
        return replace(job, source_key=key.key())
    data, whole = reader.read(job)
    return replace(job, data=data, source_key=raw_key(data), size=whole)


def _parse_chunk(jobs: list[MailJob]) -> list[Item]:
    return [item for job in jobs for item in parse_items(job)]


def _inline(entries: Iterable[MailJob | Item], options: ParseOptions) -> Iterator[Item]:
    for entry in entries:
        if isinstance(entry, MailJob):
            yield from parse_items(entry, options)
        else:
            yield entry


def _worker_init(options: ParseOptions, lifeline: Connection) -> None:
    global _options
    # Ctrl-C is the parent's to handle: it stops feeding us and shuts the pool down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _options = options
    threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True).start()
    gc.freeze()  # the preloaded modules live as long as we do: out of the collector's way


def _exit_with_parent(lifeline: Connection) -> None:
    """Exit when the importer goes away, even killed: only it holds the other end of
    the lifeline, so reading from it ends then. Without this a killed import would
    leave its parsers waiting for work forever."""
    with contextlib.suppress(EOFError, OSError):  # the end of the pipe is the signal
        lifeline.recv()
    os._exit(0)


# Ctrl-C leaves at once (cli exit_interrupted) while the pool's queue locks exist; the
# resource tracker process then frees them, and would warn about each on the agent's
# terminal. It reads PYTHONWARNINGS when it starts (this process read it long ago).
_QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"


def _forkserver(options: ParseOptions) -> multiprocessing.context.ForkServerContext:
    warnings = os.environ.get("PYTHONWARNINGS", "")
    if _QUIET_TRACKER not in warnings:
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, (warnings, _QUIET_TRACKER)))
    context = multiprocessing.get_context("forkserver")
    # What every parser imports (inscriptis for HTML-only mail), and what the analysis
    # needs: imported once, in the process the workers are forked from.
    context.set_forkserver_preload(["deskterm.connectors.mailjobs", "inscriptis", *options.preload])
    return context


def start_parsers(options: ParseOptions, workers: int | None = None) -> None:
    """Start the process parse workers are forked from, ahead of need: its imports
    (a few tenths of a second) then run on another core while the caller opens the
    store and lists the mail, instead of after. Nothing happens for one worker."""
    if (default_workers() if workers is None else workers) > 1:
        _forkserver(options)
        forkserver.ensure_running()


def default_workers() -> int:
    """Worker processes: one per core (the writer mostly waits on SQLite)."""
    return max(1, os.cpu_count() or 1)


def parse_in_order(
    entries: Iterable[MailJob | Item],
    options: ParseOptions | None = None,
    *,
    workers: int | None = None,
    ahead: bool = False,
) -> Generator[Item, None, None]:
    """Records for the jobs among ``entries``, other items passed through, in order.

    By default a parsed chunk is handed on as soon as it is done, so an IMAP
    checkpoint commits promptly even when the next fetch waits on the server. With
    ``ahead`` (a source that never waits: local files) the workers' window is kept
    full first, so they go on parsing while the caller stores a batch."""
    options = options or ParseOptions()
    workers = default_workers() if workers is None else workers
    if workers <= 1:  # one at a time, as the source yields them
        yield from _inline(entries, options)
        return
    stream = iter(entries)
    head: list[MailJob | Item] = []
    jobs = held = 0
    for entry in stream:
        head.append(entry)
        if isinstance(entry, MailJob):
            jobs += 1
            held += entry.size
        if jobs >= INLINE_BELOW or held >= HELD_BYTES:
            break
    else:
        yield from _inline(head, options)
        return
    yield from _pooled(head, stream, options, workers, ahead=ahead)


class _Workers:
    """Parser processes that survive one of them dying (killed for memory, crashed in
    C code): the chunk it held is parsed again one message at a time, so only the
    message that kills a parser is lost, recorded as a failure."""

    DEATHS = 3  # parsers dying on this many messages in a row: the fault is not theirs

    def __init__(self, workers: int, options: ParseOptions) -> None:
        self.workers = workers
        self.options = options
        context = multiprocessing.get_context("forkserver")
        self.lifeline, self._alive = context.Pipe(duplex=False)
        self.pool: ProcessPoolExecutor | None = self._start()
        self.broken = False
        self.deaths = 0

    def _start(self) -> ProcessPoolExecutor:
        context = _forkserver(self.options)
        return ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_worker_init,
            initargs=(self.options, self.lifeline),
        )

    def submit(self, chunk: list[MailJob]) -> _Task:
        if self.pool is None:
            return _Task(chunk, None, None)
        return _Task(chunk, self.pool, self.pool.submit(_parse_chunk, chunk))

    def result(self, task: _Task) -> list[Item]:
        if task.future is None:
            return [item for job in task.chunk for item in parse_items(job, self.options)]
        try:
            return task.future.result()
        except BrokenProcessPool:
            # Work queued on a pool that broke earlier fails too; only the current
            # pool's breaking needs a new one.
            self.broken = self.broken or task.pool is self.pool
            return self._salvage(task.chunk)

    def _salvage(self, chunk: list[MailJob]) -> list[Item]:
        out: list[Item] = []
        for job in chunk:
            self._restart()
            if self.pool is None:
                out.extend(parse_items(job, self.options))
                continue
            try:
                out.extend(self.pool.submit(_parse_chunk, [job]).result())
                self.deaths = 0
            except BrokenProcessPool:
                reason = "the parser process died on this message (out of memory or a crash)"
                out.append(ParseFailure(job.source, job.position, reason))
                self.broken = True
                self.deaths += 1
        return out

    def _restart(self) -> None:
        """A fresh pool after one broke; parsing goes on in-process if they keep dying
        (workers that cannot start at all)."""
        if not self.broken:
            return
        self.broken = False
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if self.deaths >= self.DEATHS:
            log.warning("parser processes keep dying; parsing in this process instead")
            self.pool = None
        else:
            self.pool = self._start()

    def close(self, *, finished: bool) -> None:
        if self.pool is not None:
            if not finished:
                # Interrupted: stop the parsers now. Left to finish their chunks, they
                # can leave the pool's feeder thread blocked on a full pipe, and the
                # interpreter waits for that thread forever at exit.
                for proc in list(getattr(self.pool, "_processes", {}).values()):
                    proc.terminate()
            self.pool.shutdown(wait=finished, cancel_futures=not finished)
        self._alive.close()  # stragglers exit now
        self.lifeline.close()


@dataclass(frozen=True, slots=True)
class _Task:
    chunk: list[MailJob]
    pool: ProcessPoolExecutor | None
    future: Future[list[Item]] | None  # None: parse in-process


def _pooled(
    head: list[MailJob | Item],
    stream: Iterator[MailJob | Item],
    options: ParseOptions,
    workers: int,
    *,
    ahead: bool,
) -> Iterator[Item]:
    pool = _Workers(workers, options)
    pending: deque[_Task | list[Item]] = deque()
    limit = workers * IN_FLIGHT
    queued = 0  # message bytes of the tasks in ``pending``
    finished = False

    def collect(entry: _Task | list[Item]) -> list[Item] | list[Item]:
        nonlocal queued
        if isinstance(entry, list):
            return entry
        queued -= sum(job.size for job in entry.chunk)
        return pool.result(entry)

    try:
        chunk: list[MailJob] = []
        chunk_bytes = 0
        for entry in _chain(head, stream):
            if isinstance(entry, MailJob):
                chunk.append(entry)
                chunk_bytes += entry.size
                if len(chunk) < CHUNK and chunk_bytes < CHUNK_BYTES:
                    continue
                pending.append(pool.submit(chunk))
                queued += chunk_bytes
                chunk, chunk_bytes = [], 0
            else:
                if chunk:
                    pending.append(pool.submit(chunk))
                    queued += chunk_bytes
                    chunk, chunk_bytes = [], 0
                pending.append([entry])
            # Wait when too much is queued; unless reading ahead, hand on what is
            # done (a checkpoint should commit promptly).
            while pending and (
                len(pending) > limit
                or queued > IN_FLIGHT_BYTES
                or (not ahead and _ready(pending[0]))
            ):
                yield from collect(pending.popleft())
        if chunk:
            pending.append(pool.submit(chunk))
        while pending:
            yield from collect(pending.popleft())
        finished = True
    finally:
        pool.close(finished=finished)


def _ready(entry: _Task | list[Item]) -> bool:
    return isinstance(entry, list) or entry.future is None or entry.future.done()


def _chain(
    head: list[MailJob | Item], stream: Iterator[MailJob | Item]
) -> Iterator[MailJob | Item]:
    yield from head
    head.clear()
    yield from stream
