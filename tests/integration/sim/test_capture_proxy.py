"""`catalyst gateway record` and `conform`: a transparent recording proxy, and a capture replayed.

Real sockets, the real ib_async client, real simulator processes: a session through the proxy is
the same session as a direct one, frame for frame; the capture replays without difference against
a simulator with the same settings; a simulator with another behaviour setting is caught and the
setting named; account ids and secrets never reach the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from capture_helpers import SECRET_REF, TICK_IDS, SessionOutcome, scripted_session
from sim_gateway_helpers import TRADING_CLOCK, start_fresh_gateway
from typer.testing import CliRunner

from catalyst.cli.gateway import gateway_app
from catalyst.sim.capture.capture_file import GATEWAY, read_capture
from catalyst.sim.capture.capture_proxy import ProxyThread
from catalyst.sim.capture.capture_redaction import Redactor
from catalyst.sim.gateway.wire_message_names import answer_name

pytestmark = pytest.mark.integration

runner = CliRunner()
ACCOUNT = "DU7654321"


@dataclass(frozen=True)
class Recorded:
    capture: Path
    direct: SessionOutcome
    proxied: SessionOutcome


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """The scripted session once directly and once through the proxy, each on a fresh simulator."""
    base = tmp_path_factory.mktemp("capture")
    with start_fresh_gateway(base / "direct", ephemeral=True, accounts=(ACCOUNT,)) as direct_gw:
        direct = scripted_session(direct_gw.host, direct_gw.port)
    capture = base / "session.jsonl"
    with (
        start_fresh_gateway(base / "proxied", ephemeral=True, accounts=(ACCOUNT,)) as proxied_gw,
        ProxyThread(proxied_gw.host, proxied_gw.port, capture) as proxy,
    ):
        proxied = scripted_session("127.0.0.1", proxy.port, limit_price=direct.limit_price)
    return Recorded(capture, direct, proxied)


def test_ib_async_through_the_proxy_receives_what_it_receives_directly(recorded: Recorded) -> None:
    direct, proxied = recorded.direct, recorded.proxied
    assert proxied.statuses == direct.statuses
    assert proxied.error_codes == direct.error_codes
    assert 387 in proxied.error_codes
    # frame for frame, apart from the gateway's clock in its handshake reply and the market's ticks:
    # how many tick frames a snapshot gets before its end depends on when it was asked (the
    # simulator's market moves in real time), so ticks are compared by kind, every other frame in order
    assert [f[:1] for f in proxied.received[:1]] == [f[:1] for f in direct.received[:1]]
    assert _answers(proxied.received[1:]) == _answers(direct.received[1:])
    assert _tick_kinds(proxied.received) == _tick_kinds(direct.received)
    assert len(proxied.received) > 30


def _answers(frames: list[list[str]]) -> list[list[str]]:
    return [f for f in frames if f[0] not in TICK_IDS]


def _tick_kinds(frames: list[list[str]]) -> set[tuple[str, str]]:
    return {(f[0], f[3]) for f in frames if f[0] in TICK_IDS}


def test_the_capture_holds_every_frame_the_client_received_named_and_timed(recorded: Recorded) -> None:
    path, proxied = recorded.capture, recorded.proxied
    capture = read_capture(path)
    assert capture.complete and capture.server_version == 178
    (session,) = capture.sessions
    assert session.client_versions == "v157..178"
    answers = [f for f in session.frames if f.direction == GATEWAY]
    redactor = Redactor()
    expected = [redactor.redact(answer_name(fields), fields) for fields in proxied.received[1:]]
    assert [list(f.fields) for f in answers] == expected
    assert [f.name for f in session.frames[:2]] == ["startApi", "managedAccounts"]
    assert {"placeOrder", "cancelOrder", "openOrder", "orderStatus", "error"} <= {
        f.name for f in session.frames
    }
    times = [f.t for f in session.frames]
    assert times == sorted(times) and times[0] >= session.t


def test_account_ids_and_secrets_are_in_no_line_of_the_file_but_unchanged_on_the_wire(
    recorded: Recorded,
) -> None:
    path, proxied = recorded.capture, recorded.proxied
    text = path.read_text(encoding="utf-8")
    assert ACCOUNT not in text and "7654321" not in text
    assert SECRET_REF not in text and "Zq7Kp2Lm9Xv4Rt8Wn3Yb6Hc1" not in text
    assert "<account-1>" in text and "<secret-1>" in text
    # the client got the real values back from the gateway
    assert proxied.order_ref == SECRET_REF
    assert any(ACCOUNT in field for frame in proxied.received for field in frame)


def test_conform_against_a_simulator_with_the_same_settings_reports_no_difference(recorded: Recorded) -> None:
    path = recorded.capture
    result = runner.invoke(
        gateway_app, ["conform", str(path), "--clock", TRADING_CLOCK, "--tolerance", "30", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["conforms"] is True and report["differences"] == []
    assert report["captured_messages"] == report["simulator_messages"] > 30


def test_conform_against_another_behaviour_setting_reports_it_and_names_the_setting(
    recorded: Recorded,
) -> None:
    path = recorded.capture
    result = runner.invoke(
        gateway_app,
        [
            "conform",
            str(path),
            "--behaviour",
            "reject_unknown_order_type_code=10052",
            "--tolerance",
            "30",
            "--json",
        ],
    )
    assert result.exit_code == 2, result.output
    (difference,) = json.loads(result.output)["differences"]
    assert difference["kind"] == "error-code" and difference["message"] == "error"
    assert (difference["captured"], difference["simulator"]) == ("387", "10052")
    assert "reject_unknown_order_type_code" in difference["settings"]
    table = runner.invoke(
        gateway_app,
        ["conform", str(path), "--behaviour", "reject_unknown_order_type_code=10052", "--tolerance", "30"],
    )
    assert table.exit_code == 2
    assert "error-code" in table.output and "reject_unknown_order_type_code" in table.output
    assert "1 difference(s)" in table.output


def test_a_missing_answer_is_reported_as_missing(recorded: Recorded, tmp_path: Path) -> None:
    """The captured gateway sent an error the simulator never sends: one `missing` difference."""
    path = recorded.capture
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if '"name": "contractDetailsEnd"' in line)
    record = json.loads(lines[at])
    extra = dict(
        record,
        id=4,
        name="error",
        fields=["4", "2", "-1", "2107", "HMDS data farm connection is inactive", ""],
    )
    edited = tmp_path / "edited.jsonl"
    edited.write_text(
        "\n".join([*lines[: at + 1], json.dumps(extra), *lines[at + 1 :]]) + "\n", encoding="utf-8"
    )
    result = runner.invoke(gateway_app, ["conform", str(edited), "--tolerance", "30", "--json"])
    assert result.exit_code == 2, result.output
    (difference,) = json.loads(result.output)["differences"]
    assert difference["kind"] == "missing" and difference["captured"].startswith("error 2107")
