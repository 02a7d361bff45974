"""Connecting, refusing clearly, reconnecting, and the plain-value queries."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from broker_harness import (
    GatewayTarget,
    make_settings,
    run_session,
    tick_down,
    tick_up,
)

from catalyst.broker import (
    AccountNotManagedError,
    AccountSnapshot,
    BrokerSession,
    ClientIdInUseError,
    GatewayUnreachableError,
    ReadOnlySessionError,
)
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker_connection")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def resting_long(s: BrokerSession, symbol: str, intent_id: str, quantity: int) -> BracketIntent:
    q = await s.quote(symbol)
    assert q.bid is not None
    entry = tick_down(q.bid, 4, symbol)
    return BracketIntent.snapped(
        intent_id, symbol, Side.BUY, quantity, entry, entry * Decimal("0.9"), tick_up(entry, 20, symbol)
    )


def test_nothing_listening_raises_gateway_unreachable() -> None:
    target = GatewayTarget("sim", "127.0.0.1", free_port(), "DU0000001", None)
    with pytest.raises(GatewayUnreachableError, match="nothing is listening"):
        run_session(target, None, lambda s: asyncio.sleep(0))


def test_a_client_id_in_use_raises_client_id_in_use(gateway: GatewayTarget) -> None:
    async def scenario(s: BrokerSession) -> None:
        twin = BrokerSession(make_settings(gateway, client_id=s.client_id))
        with pytest.raises(ClientIdInUseError, match="already in use"):
            await twin.connect()
        await twin.close()

    run_session(gateway, None, scenario)


def test_an_account_the_gateway_does_not_manage_is_refused(gateway: GatewayTarget) -> None:
    other = GatewayTarget(gateway.kind, gateway.host, gateway.port, "DU7777777", gateway.control)
    with pytest.raises(AccountNotManagedError, match="DU7777777"):
        run_session(other, None, lambda s: asyncio.sleep(0))


def test_a_read_only_session_refuses_to_submit(gateway: GatewayTarget) -> None:
    control = gateway.require_control()
    before = len(control.orders())

    async def scenario(s: BrokerSession) -> None:
        intent = await resting_long(s, "16", "it-ro-1", 500)
        with pytest.raises(ReadOnlySessionError):
            await s.submit_bracket(intent)

    run_session(gateway, None, scenario, broker={"readonly": True})
    assert len(control.orders()) == before


def test_queries_return_plain_values_and_frames(gateway: GatewayTarget, ledger: Ledger) -> None:
    async def scenario(s: BrokerSession) -> dict[str, Any]:
        snap = await s.account_snapshot()
        bars = await s.bars("700", duration="5 D", bar_size="1 day")
        again = await s.bars("700", duration="5 D", bar_size="1 day")  # identical within 15 s: cached
        return {
            "snap": snap,
            "bars": bars,
            "again": again,
            "time": await s.server_time(),
            "quote": await s.quote("700"),
        }

    out = run_session(gateway, ledger, scenario)
    assert isinstance(out["snap"], AccountSnapshot) and out["snap"].currency == "HKD"
    assert out["snap"].net_liquidation > 0
    bars = out["bars"]
    assert list(bars.columns) == ["time", "open", "high", "low", "close", "volume", "wap", "count"]
    assert len(bars) >= 1 and all(isinstance(v, Decimal) for v in bars.close)
    pd.testing.assert_frame_equal(bars, out["again"])
    assert out["time"].tzinfo is not None
    assert out["quote"].bid is not None and out["quote"].bid < out["quote"].ask


def test_open_orders_show_every_client_and_executions_carry_commissions(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    async def place(s: BrokerSession) -> None:
        q = await s.quote("1299")
        assert q.ask is not None
        entry = tick_up(q.ask, 2, "1299")
        await s.submit_bracket(
            BracketIntent.snapped(
                "it-q-1", "1299", Side.BUY, 200, entry, entry * Decimal("0.9"), tick_up(entry, 20, "1299")
            )
        )
        assert await s.wait_for_order("it-q-1:P", {"Filled"}, timeout=15) == "Filled"

    async def look(s: BrokerSession) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return await s.open_orders(), await s.executions(), await s.positions()

    run_session(gateway, ledger, place, broker={"client_id": 71})
    orders, execs, positions = run_session(gateway, None, look, broker={"client_id": 72})
    mine = orders[orders.order_ref.str.startswith("it-q-1:")]
    assert sorted(mine.order_ref) == ["it-q-1:SL", "it-q-1:TP"] and set(mine.client_id) == {71}
    assert set(mine.side) == {"SELL"}
    fills = execs[execs.order_ref == "it-q-1:P"]
    assert int(fills.quantity.sum()) == 200 and all(c is not None and c > 0 for c in fills.commission)
    assert int(positions[positions.symbol == "1299"].quantity.sum()) >= 200


def test_after_a_disconnect_the_session_reconnects_and_records_fills_made_meanwhile(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        intent = await resting_long(s, "2318", "it-dis-1", 500)
        await s.submit_bracket(intent)
        control.fault("disconnect", True, after=1)
        with pytest.raises(Exception):  # noqa: B017 - the request that trips the fault dies with the socket
            await asyncio.wait_for(s.server_time(), 2)
        assert await s.reports.wait_for(lambda: True if not s.is_ready else None, 5)
        control.fault("disconnect", False)
        control.move_price("2318", price=str(tick_down(intent.entry, 1, "2318")))  # fills while we are away
        await s.connection.wait_ready(10)  # new submissions are held until here
        assert s.connection.reconnects >= 1

    run_session(gateway, ledger, scenario, reconnect_delays=(0.5, 0.5, 1.0))
    fills = ledger.query("SELECT quantity, source FROM fills WHERE order_ref = 'it-dis-1:P'")
    assert int(fills.quantity.sum()) == 500


def test_the_cli_check_prints_the_account_positions_and_open_orders(
    gateway: GatewayTarget, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from catalyst.cli.app import app

    monkeypatch.setenv("CATALYST_BROKER__HOST", gateway.host)
    monkeypatch.setenv("CATALYST_BROKER__PORT", str(gateway.port))
    monkeypatch.setenv("CATALYST_BROKER__ACCOUNT", gateway.account)
    monkeypatch.setenv("CATALYST_PATHS__LEDGER", str(tmp_path / "ledger.duckdb"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["broker", "check", "--client-id", "77"])
    assert result.exit_code == 0, result.output
    assert f"account {gateway.account}" in result.output and "open orders (all clients)" in result.output


def test_a_submission_made_while_the_gateway_restarts_is_held_and_sent_after_the_reconnect(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        intent = await resting_long(s, "5", "it-hold-1", 400)
        await s.prepare(["5"])
        control.fault("restart", True, seconds=1)
        assert await s.reports.wait_for(lambda: True if not s.is_ready else None, 5)
        verified = await s.submit_bracket(intent)  # waits for reconnect + resync, then goes out
        assert s.connection.reconnects >= 1 and not verified.adopted

    run_session(gateway, ledger, scenario)
    assert sorted(o["order_ref"] for o in control.orders() if o["order_ref"].startswith("it-hold-1:")) == [
        "it-hold-1:P",
        "it-hold-1:SL",
        "it-hold-1:TP",
    ]
