"""Inside one process: threads share a ledger safely; nested use joins the open transaction."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from catalyst.ledger import Ledger

NOW = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)


def event(ident: str) -> dict[str, object]:
    return {"event_id": ident, "ts": NOW, "event": "x"}


def test_threads_appending_at_once_store_every_event_once(ledger: Ledger) -> None:
    def work(n: int) -> None:
        for i in range(10):
            ledger.append("log_events", event(f"t{n}-{i}"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.scalar("SELECT count(DISTINCT event_id) FROM log_events") == 40
    assert ledger.scalar("SELECT count(*) FROM log_events") == 40


def test_a_second_ledger_object_for_the_same_file_joins_the_open_transaction(ledger: Ledger) -> None:
    other = Ledger(ledger.path, lock_timeout=1)
    with ledger.transaction():
        ledger.append("log_events", event("a"))
        other.append("log_events", event("b"))  # would wait for our own lock if it did not join
    assert ledger.scalar("SELECT count(*) FROM log_events") == 2


def test_two_ledger_files_are_independent(tmp_path: Path) -> None:
    first, second = Ledger(tmp_path / "a.duckdb"), Ledger(tmp_path / "b.duckdb")
    with first.transaction():
        first.append("log_events", event("a"))
        second.append("log_events", event("b"))
    assert first.scalar("SELECT event_id FROM log_events") == "a"
    assert second.scalar("SELECT event_id FROM log_events") == "b"
