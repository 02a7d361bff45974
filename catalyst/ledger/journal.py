"""Per-process append-only journals: how an ``append`` reaches disk without waiting for anyone.

Layout: ``<ledger>.journal/<pid>-<random>-<n>.jnl``. One process writes one journal at a time
(its threads share it under a thread lock); no other process writes to it. One record is one
``append`` call (all its rows, so they reach the ledger together or not at all)::

    b"CLJ1" | payload length (uint32 LE) | CRC-32 of length and payload (uint32 LE) | payload

The payload is UTF-8 JSON: the table, and per group of rows with the same columns, the column
names and each row's values as text (``ledger_values.column_text``), so the ingest can cast them
exactly. A record is written with ``os.write`` on an ``O_APPEND`` descriptor: when ``append``
returns, its bytes are in the kernel's page cache, which survives a kill -9 of the process but not
a power cut or a kernel crash. With ``sync`` on, each record is also ``fdatasync``-ed before
``append`` returns (durable against a power cut; costs a disk flush per append).

A process killed in the middle of a write leaves a torn last record: its length or checksum does
not match, and readers stop there (in a journal nobody writes any more, they skip it).

The writer holds a shared ``flock`` on its journal while it may still write to it; whoever can take
an exclusive lock knows the writer is gone (exited, killed, or moved on to a new journal), so the
file is complete and may be deleted once ingested. A new journal is created under a temporary name,
locked, then renamed, so no reader ever sees an unlocked journal that is about to be written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from catalyst.ledger.errors import LedgerError

MAGIC = b"CLJ1"
_HEADER = struct.Struct("<4sII")
HEADER_SIZE = _HEADER.size
SUFFIX = ".jnl"

#: A journal larger than this is closed and a new one started (the old one is deleted once ingested).
ROTATE_BYTES = 4 * 1024 * 1024

#: Records are never this large; a length field beyond it is damage, not a record still being written.
_MAX_RECORD = 1 << 30

#: A temporary journal name older than this was left by a process killed while creating it.
_STALE_TMP_S = 60.0


class JournalWriteError(LedgerError):
    """The journal could not be written (disk full, permissions): the append did not happen."""


Group = tuple[list[str], list[list[str | None]]]


def journal_folder(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".journal")


# -- records -------------------------------------------------------------------------------------


def encode_record(table: str, groups: Sequence[Group]) -> bytes:
    """One framed record: ``table`` and its rows grouped by column list."""
    body = {"t": table, "g": [[cols, rows] for cols, rows in groups]}
    try:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LedgerError(f"a {table} row holds text that is not valid Unicode: {exc}") from exc
    length = struct.pack("<I", len(payload))
    return _HEADER.pack(MAGIC, len(payload), zlib.crc32(payload, zlib.crc32(length))) + payload


def decode_record(payload: bytes) -> tuple[str, list[Group]]:
    """The table and row groups of a record's payload (raises ValueError when it is not one)."""
    body = json.loads(payload.decode("utf-8"))
    table = body["t"]
    groups = [(list(cols), [list(r) for r in rows]) for cols, rows in body["g"]]
    if not isinstance(table, str) or any(len(r) != len(c) for c, rows in groups for r in rows):
        raise ValueError("malformed journal record")
    return table, groups


@dataclass(frozen=True)
class JournalRead:
    """What a journal holds from an offset on."""

    records: list[tuple[int, bytes]]  # (offset, payload) of each whole, checksummed record, in order
    end: int  # the offset just after the last whole record read
    leftover: int  # bytes after ``end``: a record still being written, or a torn one
    skipped: int  # bytes of damaged records skipped over (only when ``skip_damage``)


def read_journal(path: Path, offset: int, *, skip_damage: bool = False) -> JournalRead:
    """Read whole records from ``offset``; stop at the first incomplete or damaged one.

    With ``skip_damage`` (a journal whose writer is gone, so nothing more will be written) a damaged
    record is skipped by scanning for the next valid record; a torn tail then counts as consumed.
    """
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    records: list[tuple[int, bytes]] = []
    pos = 0
    skipped = 0
    while pos < len(data):
        payload, size = _record_at(data, pos)
        if payload is not None:
            records.append((offset + pos, payload))
            pos += size
            continue
        if not skip_damage:
            break
        following = data.find(MAGIC, pos + 1)
        while following != -1 and _record_at(data, following)[0] is None:
            following = data.find(MAGIC, following + 1)
        next_pos = len(data) if following == -1 else following
        skipped += next_pos - pos
        pos = next_pos
    return JournalRead(records, offset + pos, len(data) - pos, skipped)


def _record_at(data: bytes, pos: int) -> tuple[bytes | None, int]:
    if len(data) - pos < HEADER_SIZE:
        return None, 0
    magic, length, crc = _HEADER.unpack_from(data, pos)
    if magic != MAGIC or length > _MAX_RECORD or len(data) - pos - HEADER_SIZE < length:
        return None, 0
    payload = data[pos + HEADER_SIZE : pos + HEADER_SIZE + length]
    if zlib.crc32(payload, zlib.crc32(struct.pack("<I", length))) != crc:
        return None, 0
    return payload, HEADER_SIZE + length


# -- liveness ------------------------------------------------------------------------------------


def writer_gone(path: Path) -> bool:
    """True when no process holds ``path`` open for writing (so it is complete)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing releases the probe's lock
    return True


def journals(folder: Path) -> list[Path]:
    """The journals in ``folder`` (oldest name first; order does not matter for correctness)."""
    try:
        return sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith("."))
    except FileNotFoundError:
        return []


def remove_stale_temporaries(folder: Path) -> None:
    """Delete temporary journal names left by a process killed while creating its journal."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return
    now = time.time()
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            try:
                if now - entry.stat().st_mtime > _STALE_TMP_S and writer_gone(entry):
                    entry.unlink()
            except OSError:
                continue


# -- the writer ----------------------------------------------------------------------------------


class JournalWriter:
    """This process's journal for one ledger; thread-safe."""

    def __init__(self, folder: Path, *, sync: bool = False, rotate_bytes: int | None = None) -> None:
        self.folder = folder
        self.sync = sync
        self.rotate_bytes = ROTATE_BYTES if rotate_bytes is None else rotate_bytes
        self.pid = os.getpid()
        self._token = os.urandom(4).hex()
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._count = 0
        self.written = 0  # records written by this writer (all its files)
        self.ingested = 0  # of those, how many an ingest in this process is known to have stored

    @property
    def path(self) -> Path | None:
        return self._path

    def write(self, record: bytes) -> None:
        """Append one framed record; when this returns the record is in the page cache (or on disk)."""
        with self._lock:
            if self._fd is None or self._size >= self.rotate_bytes:
                self._start_new_file()
            assert self._fd is not None and self._path is not None
            start = self._size
            try:
                _write_all(self._fd, record)
                if self.sync:
                    os.fdatasync(self._fd)
            except OSError as exc:
                self._undo(start)
                raise JournalWriteError(
                    f"could not write the ledger journal {self._path}: {exc}; the append was not recorded"
                ) from exc
            self._size += len(record)
            self.written += 1

    def close(self) -> None:
        """Stop writing this file (its lock is released: it may be deleted once ingested)."""
        with self._lock:
            self._close_file()

    def note_ingested(self, written_before: int) -> None:
        """An ingest that started after ``written_before`` records were written has committed."""
        with self._lock:
            self.ingested = max(self.ingested, written_before)

    def close_and_remove_if_ingested(self) -> bool:
        """At exit: close; when every record is known to be stored, delete the file (True)."""
        with self._lock:
            path = self._path
            self._close_file()
            if self.written > self.ingested:
                return False
            if path is not None:
                # safe without the ledger lock: its offset row says it is fully ingested, nothing
                # more will be written, and a later ingest drops the row of a missing journal
                path.unlink(missing_ok=True)
            return True

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's descriptor without touching the parent's lock."""
        fd, self._fd, self._path = self._fd, None, None
        self._lock = threading.Lock()
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)  # the parent's descriptor keeps its own lock

    def _start_new_file(self) -> None:
        self._close_file()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._count += 1
            name = f"{self.pid}-{self._token}-{self._count:05d}{SUFFIX}"
            tmp = self.folder / f".{name}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
                os.rename(tmp, self.folder / name)
                if self.sync:
                    _sync_folder(self.folder)
            except OSError:
                os.close(fd)
                tmp.unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise JournalWriteError(
                f"could not create a ledger journal in {self.folder}: {exc}; the append was not recorded"
            ) from exc
        self._fd, self._path, self._size = fd, self.folder / name, 0

    def _undo(self, start: int) -> None:
        """Cut a partly written record off; if that fails, abandon the file (its tail is torn)."""
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, start)
        except OSError:
            self._close_file()

    def _close_file(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
