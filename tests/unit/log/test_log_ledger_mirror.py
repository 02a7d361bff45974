"""Log records are mirrored into the ledger's log_events, in batches, without ever breaking logging."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from catalyst.ledger import Ledger
from catalyst.log import bind_run, configure_logging, flush_logging, ledger_mirror


def test_records_are_mirrored_into_log_events_with_their_context(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    configure_logging(run_dir=tmp_path, ledger=ledger, stream=io.StringIO(), secrets=["s3cr3t-value"])
    bind_run("r7", "sim")
    structlog.get_logger("catalyst.cycle").info("cycle.intent", symbol="700", note="key s3cr3t-value")
    flush_logging()
    row = ledger.query("SELECT run_id, level, event, logger, payload FROM log_events").iloc[0]
    assert (row["run_id"], row["level"], row["event"], row["logger"]) == (
        "r7",
        "info",
        "cycle.intent",
        "catalyst.cycle",
    )
    payload = json.loads(row["payload"])
    assert payload["symbol"] == "700"
    assert "s3cr3t-value" not in row["payload"]


def test_records_are_written_in_batches(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    configure_logging(ledger=ledger, stream=io.StringIO(), mirror_interval=0)
    for i in range(250):
        structlog.get_logger("t").info("tick", i=i)
    mirror = ledger_mirror()
    assert mirror is not None
    assert ledger.scalar("SELECT count(*) FROM log_events") == 200  # one full batch so far
    assert mirror.pending == 50
    flush_logging()
    assert ledger.scalar("SELECT count(*) FROM log_events") == 250


class BrokenLedger:
    def __init__(self) -> None:
        self.calls = 0

    def append(self, table: str, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        self.calls += 1
        raise OSError("disk full")


def test_a_failing_ledger_never_breaks_logging_and_keeps_the_records(tmp_path: Path) -> None:
    broken = BrokenLedger()
    path = configure_logging(run_dir=tmp_path, ledger=broken, stream=io.StringIO(), mirror_interval=0)
    log = structlog.get_logger("t")
    log.info("one")
    flush_logging()
    log.info("two")
    mirror = ledger_mirror()
    assert mirror is not None
    assert broken.calls == 1
    assert mirror.pending == 2
    assert path is not None
    assert path.read_text(encoding="utf-8").count("\n") == 2


EXIT_WITHOUT_FLUSH = r"""
import io, sys, structlog
from catalyst.ledger import Ledger
from catalyst.log import configure_logging
configure_logging(ledger=Ledger(sys.argv[1]), stream=io.StringIO(), mirror_interval=60)
for i in range(5):
    structlog.get_logger("t").info("before.exit", i=i)
"""


def test_buffered_records_are_written_when_the_process_exits(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"
    subprocess.run([sys.executable, "-c", EXIT_WITHOUT_FLUSH, str(path)], check=True, timeout=120)
    assert Ledger(path).scalar("SELECT count(*) FROM log_events WHERE event = 'before.exit'") == 5


def test_a_full_batch_is_written_by_the_writer_thread_without_an_explicit_flush(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    configure_logging(ledger=ledger, stream=io.StringIO(), mirror_interval=60)
    for i in range(200):
        structlog.get_logger("t").info("tick", i=i)
    deadline = time.monotonic() + 30
    while ledger.scalar("SELECT count(*) FROM log_events") < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ledger.scalar("SELECT count(*) FROM log_events") == 200
