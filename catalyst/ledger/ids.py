"""Sortable unique ids for ledger events.

The layout follows UUIDv7: 48 bits of Unix milliseconds, then random bits, so ids sort by creation
time across processes and are unique without coordination. Within one process a counter keeps ids
strictly increasing even inside the same millisecond.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def new_id() -> str:
    """Return a new time-ordered UUID string (version 7 layout)."""
    global _last_ms, _seq
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _seq += 1
            if _seq >= 1 << 12:  # 12-bit counter exhausted: borrow the next millisecond
                ms += 1
                _seq = 0
        else:
            _seq = 0
        _last_ms = ms
        seq = _seq
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= seq << 64
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand
    return str(uuid.UUID(int=value))
