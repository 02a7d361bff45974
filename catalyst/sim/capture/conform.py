"""Compare what a gateway answered in a capture with what the simulator answers to the same requests.

Both answer sequences are first reduced to comparable events: streaming messages (ticks, account
values, portfolio updates, bar updates) keep only their first occurrence per subscription and key,
since how often they come is the market's business; every other message is kept in order. The two
event sequences are aligned (``difflib``) on (message name, error code or order status), and each
mismatch is one :class:`Difference`:

- ``missing``: the captured gateway sent it, the simulator did not;
- ``extra``: the simulator sent it, the captured gateway did not;
- ``error-code`` / ``status``: same place in the sequence, another error code or order status;
- ``layout``: same message, another number of fields;
- ``text``: an error with the same code but other wording;
- ``timing``: answered more than ``tolerance`` seconds sooner or later after the request before it.

Each difference names the ``SimBehaviour`` settings (``sim_behaviour``) or rules it bears on.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields

from catalyst.sim.capture.capture_file import CLIENT, GATEWAY, Frame
from catalyst.sim.capture.capture_replay import ReplayedSession
from catalyst.sim.engine.behaviour import SimBehaviour

#: streaming answers: (name) -> indexes of the fields that identify one stream
STREAMS: dict[str, tuple[int, ...]] = {
    "tickPrice": (2, 3),
    "tickSize": (2, 3),
    "tickString": (2, 3),
    "tickGeneric": (2, 3),
    "tickReqParams": (1,),
    "marketDataType": (2,),
    "historicalDataUpdate": (1,),
    "updateAccountValue": (2, 4),
    "accountUpdateMulti": (2, 5, 7),
    "updatePortfolio": (2,),
    "updateAccountTime": (),
    "currentTime": (),
}

#: error codes and the settings or rules that decide whether (and which) the simulator sends
CODE_SETTINGS: dict[int, tuple[str, ...]] = {
    202: ("day_expiry_sends_202", "auction_fills"),
    399: ("outside_hours_warning_399",),
    201: (
        "cash_account",
        "margin_leverage",
        "amend_window",
        "quotation_rule_breach",
        "auction_fills",
        "catalyst.market.auction: +-5 % band",
    ),
    104: ("sim_order_rules: modify of a filled, cancelled or cancel-pending order",),
    135: ("sim_order_rules: child of an unknown parent",),
    387: ("reject_unknown_order_type_code",),
    110: ("sim_order_rules: tick size (spread table)",),
    10147: ("sim_order_rules: unknown order id",),
}
#: messages whose content the settings decide, whatever the difference
MESSAGE_SETTINGS: dict[str, tuple[str, ...]] = {
    "commissionReport": ("commission_minimum_per_order", "stamp_duty_per_execution"),
    "execDetails": (
        "children_size_on_partial_parent",
        "odd_lot_fill_probability",
        "mkt_conversion_ticks",
        "mkt_conversion_max_pct",
        "auction_fills",
    ),
}
#: messages laid out per server version (``wire_versions``)
VERSIONED = frozenset({"error", "openOrder", "completedOrder", "contractDetails", "execDetails"})


@dataclass(frozen=True)
class Difference:
    conn: int
    position: int  # index of the event in the captured sequence (or where it would be)
    kind: str
    message: str
    captured: str
    simulator: str
    settings: tuple[str, ...]


@dataclass(frozen=True)
class ConformReport:
    differences: tuple[Difference, ...]
    sessions: int
    captured_messages: int
    simulator_messages: int

    @property
    def conforms(self) -> bool:
        return not self.differences

    def to_json(self) -> str:
        body = {
            "conforms": self.conforms,
            "sessions": self.sessions,
            "captured_messages": self.captured_messages,
            "simulator_messages": self.simulator_messages,
            "differences": [asdict(d) | {"settings": list(d.settings)} for d in self.differences],
        }
        return json.dumps(body, indent=2)


@dataclass(frozen=True)
class _Event:
    frame: Frame
    key: tuple[str, str]
    delay: float  # seconds since the last client frame before it


def compare(
    replays: Sequence[ReplayedSession], behaviour: SimBehaviour, tolerance: float = 1.0
) -> ConformReport:
    differences: list[Difference] = []
    captured_total = simulator_total = 0
    for replay in replays:
        captured = _events(replay.captured.frames, replay.captured.t)
        simulated = _events(sorted([*replay.sent, *replay.answers], key=lambda f: f.t), replay.captured.t)
        captured_total += len(captured)
        simulator_total += len(simulated)
        differences += _align(replay.captured.conn, captured, simulated, behaviour, tolerance)
    return ConformReport(tuple(differences), len(replays), captured_total, simulator_total)


def _events(frames: Iterable[Frame], start: float) -> list[_Event]:
    events: list[_Event] = []
    seen_streams: set[tuple[str, ...]] = set()
    last_request = start
    for frame in frames:
        if frame.direction == CLIENT:
            last_request = frame.t
            continue
        stream = STREAMS.get(frame.name)
        if stream is not None:
            identity = (frame.name, *(frame.fields[i] if i < len(frame.fields) else "" for i in stream))
            if identity in seen_streams:
                continue
            seen_streams.add(identity)
        events.append(_Event(frame, (frame.name, _discriminator(frame)), frame.t - last_request))
    return events


def _discriminator(frame: Frame) -> str:
    if frame.name == "error" and len(frame.fields) > 3:
        return frame.fields[3]
    if frame.name == "orderStatus" and len(frame.fields) > 2:
        return frame.fields[2]
    return ""


def _align(
    conn: int, captured: list[_Event], simulated: list[_Event], behaviour: SimBehaviour, tolerance: float
) -> list[Difference]:
    out: list[Difference] = []
    matcher = difflib.SequenceMatcher(
        a=[e.key for e in captured], b=[e.key for e in simulated], autojunk=False
    )
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
                out += _pair(conn, i, captured[i], simulated[j], behaviour, tolerance)
            continue
        left, right = list(range(a0, a1)), list(range(b0, b1))
        for i in list(left):  # a replaced event with the same name is a changed one, not missing + extra
            same = next((j for j in right if simulated[j].key[0] == captured[i].key[0]), None)
            if same is not None:
                left.remove(i)
                right.remove(same)
                out += _pair(conn, i, captured[i], simulated[same], behaviour, tolerance)
        out += [_one_sided(conn, i, captured[i], "missing", behaviour) for i in left]
        out += [_one_sided(conn, a0, simulated[j], "extra", behaviour) for j in right]
    return sorted(out, key=lambda d: d.position)


def _pair(
    conn: int, position: int, cap: _Event, sim: _Event, behaviour: SimBehaviour, tolerance: float
) -> list[Difference]:
    name = cap.frame.name
    out: list[Difference] = []

    def diff(kind: str, captured: str, simulator: str) -> None:
        out.append(
            Difference(
                conn,
                position,
                kind,
                name,
                captured,
                simulator,
                _settings(cap.frame, sim.frame, behaviour, kind),
            )
        )

    if cap.key[1] != sim.key[1]:
        diff("error-code" if name == "error" else "status", cap.key[1], sim.key[1])
    if len(cap.frame.fields) != len(sim.frame.fields):
        diff("layout", f"{len(cap.frame.fields)} fields", f"{len(sim.frame.fields)} fields")
    elif name == "error" and cap.key[1] == sim.key[1] and cap.frame.fields[4:5] != sim.frame.fields[4:5]:
        diff("text", _text(cap.frame), _text(sim.frame))
    if abs(cap.delay - sim.delay) > tolerance:
        diff("timing", f"{cap.delay:.3f} s after the request", f"{sim.delay:.3f} s after the request")
    return out


def _one_sided(conn: int, position: int, event: _Event, kind: str, behaviour: SimBehaviour) -> Difference:
    shown = _describe(event.frame)
    captured, simulator = (shown, "-") if kind == "missing" else ("-", shown)
    return Difference(
        conn,
        position,
        kind,
        event.frame.name,
        captured,
        simulator,
        _settings(event.frame, event.frame, behaviour, kind),
    )


def _describe(frame: Frame) -> str:
    if frame.name == "error" and len(frame.fields) > 4:
        return f"error {frame.fields[3]}: {frame.fields[4][:60]}"
    if frame.name == "orderStatus" and len(frame.fields) > 2:
        return f"orderStatus {frame.fields[2]} (order {frame.fields[1]})"
    return f"{frame.name} ({len(frame.fields)} fields)"


def _text(frame: Frame) -> str:
    return frame.fields[4][:80] if len(frame.fields) > 4 else ""


def _settings(cap: Frame, sim: Frame, behaviour: SimBehaviour, kind: str) -> tuple[str, ...]:
    """The settings and rules a difference bears on, most specific first."""
    names: list[str] = []
    if cap.name == "error" or sim.name == "error":
        for frame in (cap, sim):
            code = _code(frame)
            if code is None:
                continue
            names += CODE_SETTINGS.get(code, ())
            names += [
                f.name
                for f in fields(SimBehaviour)
                if isinstance(getattr(behaviour, f.name), int)
                and not isinstance(getattr(behaviour, f.name), bool)
                and f.name.endswith("_code")
                and code == getattr(behaviour, f.name)
            ]
    names += MESSAGE_SETTINGS.get(cap.name, ())
    if kind == "layout" and cap.name in VERSIONED:
        names.append("wire_versions (per-version layout)")
    if kind == "status" and cap.name == "orderStatus":
        names += [
            "outside_hours_warning_399",
            "children_size_on_partial_parent",
            "auction_fills",
            "cancel_window_pending",
            "amend_window",
        ]
    return tuple(dict.fromkeys(names))


def _code(frame: Frame) -> int | None:
    try:
        return int(frame.fields[3]) if frame.direction == GATEWAY and len(frame.fields) > 3 else None
    except ValueError:
        return None


def render_table(report: ConformReport) -> str:
    """The report as a terminal table: one line per difference, then a summary line."""
    head = ("conn", "#", "kind", "message", "captured", "simulator", "bears on")
    rows = [
        (
            str(d.conn),
            str(d.position),
            d.kind,
            d.message,
            d.captured,
            d.simulator,
            ", ".join(d.settings) or "-",
        )
        for d in report.differences
    ]
    summary = (
        f"{report.sessions} session(s), {report.captured_messages} captured and "
        f"{report.simulator_messages} simulator messages compared: "
    )
    if not rows:
        return summary + "no difference"
    widths = [min(60, max(len(r[i]) for r in [head, *rows])) for i in range(len(head))]
    lines = [
        "  ".join(cell[:w].ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, summary + f"{len(rows)} difference(s)"])
