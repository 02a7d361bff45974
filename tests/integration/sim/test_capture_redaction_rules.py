"""What the capture file hides (accounts, names, secrets) and how conform classifies differences.

Pure values in, values out: the rules the proxy and conform tests exercise over sockets, at their edges.
"""

from __future__ import annotations

from catalyst.sim.capture.capture_file import CLIENT, GATEWAY, Frame, Session
from catalyst.sim.capture.capture_redaction import Redactor
from catalyst.sim.capture.capture_replay import ReplayedSession
from catalyst.sim.capture.conform import compare
from catalyst.sim.engine.behaviour import SimBehaviour


def test_account_ids_get_stable_placeholders_and_come_back_on_restore() -> None:
    r = Redactor()
    assert r.redact("managedAccounts", ["15", "1", "DU1234567,U7654321"]) == [
        "15",
        "1",
        "<account-1>,<account-2>",
    ]
    assert r.redact("position", ["61", "3", "DU1234567", "700"]) == ["61", "3", "<account-1>", "700"]
    assert r.restore(["6", "2", "1", "<account-2>"]) == ["6", "2", "1", "U7654321"]


def test_numbers_that_are_not_account_ids_are_left_alone() -> None:
    r = Redactor()
    fields = ["3", "4", "Submitted", "0", "100", "0", "1000001", "0", "0", "5", "", ""]
    assert r.redact("orderStatus", fields) == fields
    assert r.redact("contractDetails", ["10", "3", "700", "U123", "F12", "SMART,SEHK"])[3:5] == [
        "U123",
        "F12",
    ]


def test_names_in_account_values_and_fa_data_are_hidden() -> None:
    r = Redactor()
    out = r.redact("updateAccountValue", ["6", "2", "AccountOwnerName", "Chan Tai Man", "", "DU1234567"])
    assert out == ["6", "2", "AccountOwnerName", "<name-1>", "", "<account-1>"]
    assert r.redact("receiveFA", ["16", "1", "1", "<Group><Name>Chan</Name></Group>"]) == [
        "16",
        "1",
        "<name-2>",
        "<name-3>",
    ]
    kept = ["6", "2", "AccountType", "INDIVIDUAL", "", "DU1234567"]
    assert r.redact("updateAccountValue", kept)[3] == "INDIVIDUAL"


def test_secret_looking_values_are_hidden_but_ordinary_text_is_not() -> None:
    r = Redactor()
    assert r.redact("placeOrder", ["3", "password=hunter2"])[1] == "<secret-1>"
    assert r.redact("placeOrder", ["3", "Zq7Kp2Lm9Xv4Rt8Wn3Yb6Hc1"])[1] == "<secret-2>"  # 24 mixed
    assert r.redact("placeOrder", ["3", "Zq7Kp2Lm9Xv4Rt8Wn3Yb6Hc"])[1] == "Zq7Kp2Lm9Xv4Rt8Wn3Yb6Hc"  # 23
    assert r.redact("error", ["4", "2", "-1", "2104", "Market data farm connection is OK:hfarm", ""])[
        4
    ].startswith("Market")


def _session(answers: list[tuple[float, list[str]]]) -> Session:
    frames = [Frame(1, 0.0, CLIENT, 3, "placeOrder", ("3", "4"))]
    frames += [Frame(1, t, GATEWAY, int(f[0]), _NAMES[f[0]], tuple(f)) for t, f in answers]
    return Session(1, 0.0, "v157..178", 178, "", frames)


_NAMES = {"1": "tickPrice", "3": "orderStatus", "4": "error", "5": "openOrder", "59": "commissionReport"}


def _replayed(
    captured: list[tuple[float, list[str]]], simulated: list[tuple[float, list[str]]]
) -> ReplayedSession:
    session = _session(captured)
    sim = _session(simulated)
    return ReplayedSession(
        session, tuple(f for f in sim.frames if f.direction == GATEWAY), (session.frames[0],)
    )


def test_conform_names_status_layout_timing_and_missing_differences() -> None:
    captured = [
        (0.01, ["5", "4", "a", "b"]),
        (0.02, ["3", "4", "Inactive"]),
        (0.03, ["4", "2", "4", "399", "held", ""]),
        (0.04, ["59", "1", "x"]),
    ]
    simulated = [(0.01, ["5", "4", "a"]), (0.02, ["3", "4", "Submitted"]), (2.5, ["59", "1", "x"])]
    report = compare([_replayed(captured, simulated)], SimBehaviour(), tolerance=1.0)
    kinds = {(d.kind, d.message) for d in report.differences}
    assert kinds == {
        ("layout", "openOrder"),
        ("status", "orderStatus"),
        ("missing", "error"),
        ("timing", "commissionReport"),
    }
    missing = next(d for d in report.differences if d.kind == "missing")
    assert missing.settings[0] == "outside_hours_warning_399" and missing.captured.startswith("error 399")
    layout = next(d for d in report.differences if d.kind == "layout")
    assert "wire_versions (per-version layout)" in layout.settings
    timing = next(d for d in report.differences if d.kind == "timing")
    assert "commission_minimum_per_order" in timing.settings


def test_conform_finds_nothing_when_only_streaming_counts_and_values_differ() -> None:
    tick = ["1", "6", "5", "1", "300.2", "100", "0"]
    captured = [
        (0.01, ["3", "4", "Submitted", "0"]),
        (0.015, tick),
        (0.016, tick),
        (0.017, tick),
        (0.02, ["3", "4", "Filled", "100"]),
    ]
    simulated = [
        (0.01, ["3", "4", "Submitted", "0"]),
        (0.2, ["1", "6", "5", "1", "301.0", "100", "0"]),
        (0.3, ["3", "4", "Filled", "200"]),
    ]
    assert compare([_replayed(captured, simulated)], SimBehaviour()).conforms
