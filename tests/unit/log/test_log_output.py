"""One logging configuration: JSON lines with context, stdlib records included, re-configurable."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import structlog

from catalyst.log import bind_order, bind_run, configure_logging, flush_logging


def lines(path: Path) -> list[dict[str, Any]]:
    flush_logging()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_run_folder_gets_events_jsonl(tmp_path: Path) -> None:
    written = configure_logging(run_dir=tmp_path, stream=io.StringIO())
    structlog.get_logger("catalyst.test").info("cycle.start", symbols=3)
    assert written == tmp_path / "events.jsonl"
    (record,) = lines(written)
    assert record["event"] == "cycle.start"
    assert record["symbols"] == 3


def test_every_record_has_an_iso_utc_timestamp_level_and_logger(tmp_path: Path) -> None:
    path = configure_logging(json_file=tmp_path / "log.jsonl", stream=io.StringIO())
    assert path is not None
    structlog.get_logger("catalyst.broker").warning("broker.reconnect")
    (record,) = lines(path)
    assert record["level"] == "warning"
    assert record["logger"] == "catalyst.broker"
    ts = dt.datetime.fromisoformat(record["timestamp"])
    assert ts.utcoffset() == dt.timedelta(0)


def test_run_and_order_context_is_merged_into_records(tmp_path: Path) -> None:
    path = configure_logging(run_dir=tmp_path, stream=io.StringIO())
    log = structlog.get_logger("catalyst.test")
    bind_run("r-20260302", "paper")
    with bind_order("700", "r-20260302-700-B-1:P"):
        log.info("broker.submit.sent")
    log.info("cycle.done")
    inside, after = lines(path)  # type: ignore[arg-type]
    assert (inside["run_id"], inside["mode"], inside["symbol"], inside["order_ref"]) == (
        "r-20260302",
        "paper",
        "700",
        "r-20260302-700-B-1:P",
    )
    assert after["run_id"] == "r-20260302"
    assert "order_ref" not in after and "symbol" not in after


def test_stdlib_logging_goes_to_the_same_file_with_the_same_context(tmp_path: Path) -> None:
    path = configure_logging(run_dir=tmp_path, stream=io.StringIO())
    bind_run("r1", "sim")
    logging.getLogger("ib_async.wrapper").warning("Error %d, reqId %s", 201, 7)
    (record,) = lines(path)  # type: ignore[arg-type]
    assert (record["event"], record["logger"], record["run_id"]) == (
        "Error 201, reqId 7",
        "ib_async.wrapper",
        "r1",
    )


def test_exceptions_are_rendered_with_their_traceback(tmp_path: Path) -> None:
    path = configure_logging(run_dir=tmp_path, stream=io.StringIO())
    try:
        raise ValueError("bad tick 9.051")
    except ValueError:
        structlog.get_logger("t").exception("broker.submit.failed")
    (record,) = lines(path)  # type: ignore[arg-type]
    assert "Traceback" in record["exception"]
    assert "ValueError: bad tick 9.051" in record["exception"]


def test_records_below_the_level_are_dropped(tmp_path: Path) -> None:
    path = configure_logging(run_dir=tmp_path, level="WARNING", stream=io.StringIO())
    log = structlog.get_logger("t")
    log.info("quiet")
    logging.getLogger("ib_async").info("quiet too")
    log.error("loud")
    assert [r["event"] for r in lines(path)] == ["loud"]  # type: ignore[arg-type]


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure_logging(level="LOUD")


def test_reconfiguring_moves_output_to_the_new_file_only(tmp_path: Path) -> None:
    first = configure_logging(json_file=tmp_path / "a.jsonl", stream=io.StringIO())
    structlog.get_logger("t").info("one")
    second = configure_logging(json_file=tmp_path / "b.jsonl", stream=io.StringIO())
    structlog.get_logger("t").info("two")
    assert [r["event"] for r in lines(first)] == ["one"]  # type: ignore[arg-type]
    assert [r["event"] for r in lines(second)] == ["two"]  # type: ignore[arg-type]


def test_a_non_terminal_stream_gets_json_lines() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    structlog.get_logger("t").info("hello", n=1)
    assert json.loads(stream.getvalue().strip())["n"] == 1


def test_console_true_gets_a_readable_rendering() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, console=True)
    structlog.get_logger("t").info("hello", n=1)
    text = stream.getvalue()
    assert "hello" in text and "n=1" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
