"""Orders on record before they leave, and one owner of a symbol's exits (issue 10, items 2 and 3),
over the real ib_async client and the simulated gateway.

The placeOrder observer below calls the real ``placeOrder`` unchanged; it only reads, at the moment
each leg is handed to the client library, what the ledger file and the lease folder hold.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from broker_harness import STATE_DIR, GatewayTarget, run_session, tick_down, tick_up

from catalyst.broker import BrokerSession
from catalyst.broker.errors import OrdersNotRecordedError, SymbolExitsBusyError
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.ledger.lease import Lease, exits_lease_name, lease_holder
from catalyst.ledger.lock import LedgerFileLock

pytestmark = pytest.mark.integration


async def resting_long(s: BrokerSession, symbol: str, intent_id: str) -> BracketIntent:
    q = await s.quote(symbol)
    assert q.bid is not None
    entry = tick_down(q.bid, 10, symbol)
    lot = (await s.contract(symbol)).board_lot
    return BracketIntent.snapped(
        intent_id, symbol, Side.BUY, lot, entry, entry * Decimal("0.9"), tick_up(entry, 20, symbol)
    )


def refs_at_gateway(control: Any, intent_id: str) -> list[str]:
    return [str(o["order_ref"]) for o in control.orders() if str(o["order_ref"]).startswith(intent_id + ":")]


def test_each_legs_row_is_committed_and_the_exit_lease_held_when_place_order_is_called(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    seen: list[dict[str, Any]] = []

    async def scenario(s: BrokerSession) -> None:
        intent = await resting_long(s, "5", "it-rec-1")
        real_place = s.connection.ib.placeOrder
        reader = Ledger(ledger.path)  # another handle on the file, as another process would read it

        def observed_place(contract: Any, order: Any) -> Any:
            rows = reader.query(
                "SELECT intent_id, status, order_id, client_id FROM orders WHERE order_ref = ?",
                [order.orderRef],
            ).to_dict("records")
            holder = lease_holder(STATE_DIR, exits_lease_name(s.account, "5"))
            seen.append({"ref": order.orderRef, "order_id": order.orderId, "rows": rows, "holder": holder})
            return real_place(contract, order)

        s.connection.ib.placeOrder = observed_place  # type: ignore[method-assign]
        try:
            bracket = await s.submit_bracket(intent)
        finally:
            s.connection.ib.placeOrder = real_place  # type: ignore[method-assign]
        assert not bracket.adopted
        assert lease_holder(STATE_DIR, exits_lease_name(s.account, "5")) is None  # released after proof

    run_session(gateway, ledger, scenario)
    assert [e["ref"] for e in seen] == ["it-rec-1:P", "it-rec-1:TP", "it-rec-1:SL"]
    for e in seen:
        assert len(e["rows"]) == 1, f"{e['ref']} was sent before its row was committed"
        (row,) = e["rows"]
        assert row["intent_id"] == "it-rec-1"
        assert row["status"] == "pending_submit"  # distinguishable: the broker has not answered yet
        assert int(row["order_id"]) == e["order_id"] and row["client_id"] is not None
        assert e["holder"] is not None and "it-rec-1" in e["holder"].purpose
    intent = ledger.query("SELECT status FROM intents WHERE intent_id = 'it-rec-1'")
    assert intent["status"].tolist() == ["proven"]


def test_a_ledger_that_cannot_record_the_orders_means_nothing_is_sent(
    gateway: GatewayTarget, tmp_path: Any
) -> None:
    control = gateway.require_control()
    ledger = Ledger(tmp_path / "ledger.duckdb", lock_timeout=1.0)
    ledger.tables()  # created and migrated first

    async def scenario(s: BrokerSession) -> None:
        intent = await resting_long(s, "5", "it-rec-2")
        blocker = LedgerFileLock(ledger.lock_path, timeout=5)
        blocker.acquire()  # another process holds the ledger: nothing can be committed
        try:
            with pytest.raises(OrdersNotRecordedError, match="was not sent") as caught:
                await s.submit_bracket(intent)
        finally:
            blocker.release()
        assert "ledger" in str(caught.value)

    run_session(gateway, ledger, scenario)
    assert refs_at_gateway(control, "it-rec-2") == []


def test_a_bracket_waits_while_the_monitor_holds_the_symbols_exits_and_is_refused_if_it_keeps_them(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        name = exits_lease_name(s.account, "3988")
        monitor = Lease(STATE_DIR, name, purpose="monitor repair 3988")
        assert monitor.try_acquire()
        s.submitter.exits_wait = 1.0
        try:
            refused = await resting_long(s, "3988", "it-lease-1")
            with pytest.raises(SymbolExitsBusyError, match="was not sent") as caught:
                await s.submit_bracket(refused)
            assert "monitor repair 3988" in str(caught.value)  # the holder is named
            waiting = await resting_long(s, "3988", "it-lease-2")
            s.submitter.exits_wait = 60.0
            asyncio.get_running_loop().call_later(0.5, monitor.release)  # the repair finishes
            bracket = await s.submit_bracket(waiting)
            assert bracket.intent_id == "it-lease-2"
        finally:
            monitor.release()

    run_session(gateway, ledger, scenario)
    assert refs_at_gateway(control, "it-lease-1") == []
    assert sorted(refs_at_gateway(control, "it-lease-2")) == [
        "it-lease-2:P",
        "it-lease-2:SL",
        "it-lease-2:TP",
    ]
    rows = ledger.query("SELECT intent_id, status FROM intents ORDER BY intent_id")
    assert rows.to_dict("records") == [
        {"intent_id": "it-lease-1", "status": "rejected"},
        {"intent_id": "it-lease-2", "status": "proven"},
    ]


def test_protection_and_flatten_rows_are_committed_when_place_order_is_called(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    """Exits too (the monitor's re-protection, every flatten): on record before they leave."""
    control = gateway.require_control()
    seen: dict[str, list[dict[str, Any]]] = {}

    async def scenario(s: BrokerSession) -> None:
        control.drift(s.account, "2388", 500)
        reader = Ledger(ledger.path)
        real_place = s.connection.ib.placeOrder

        def observed_place(contract: Any, order: Any) -> Any:
            seen[order.orderRef] = reader.query(
                "SELECT role, status, order_id FROM orders WHERE order_ref = ?", [order.orderRef]
            ).to_dict("records")
            return real_place(contract, order)

        s.connection.ib.placeOrder = observed_place  # type: ignore[method-assign]
        try:
            q = await s.quote("2388")
            assert q.bid is not None and q.ask is not None
            await s.protect("2388", 500, stop=tick_down(q.bid, 20, "2388"), target=tick_up(q.ask, 20, "2388"))
            await s.flatten("2388")
        finally:
            s.connection.ib.placeOrder = real_place  # type: ignore[method-assign]

    run_session(gateway, ledger, scenario)
    assert sorted(ref.rsplit(":", 1)[-1] if "PROT" in ref else "FLAT" for ref in seen) == ["FLAT", "SL", "TP"]
    for ref, rows in seen.items():
        assert len(rows) == 1, f"{ref} was sent before its row was committed"
        assert rows[0]["role"] in {"protect", "flatten"}


def test_an_exit_is_sent_even_when_the_ledger_cannot_record_it_and_lands_later(
    gateway: GatewayTarget, tmp_path: Any
) -> None:
    """Unlike an entry, a flatten reduces risk: a ledger held by another process does not stop it.
    Its row is written once the ledger is free again."""
    control = gateway.require_control()
    ledger = Ledger(tmp_path / "ledger.duckdb", lock_timeout=1.0)
    ledger.tables()
    refs: list[str] = []

    async def scenario(s: BrokerSession) -> None:
        control.drift(s.account, "1299", 200)
        blocker = LedgerFileLock(ledger.lock_path, timeout=5)
        blocker.acquire()
        try:
            exit_order = await s.flatten("1299")
        finally:
            blocker.release()
        assert exit_order is not None
        refs.append(exit_order.order_ref)

    run_session(gateway, ledger, scenario)
    assert refs and refs[0] in [str(o["order_ref"]) for o in control.orders()]
    assert ledger.query("SELECT role FROM orders WHERE order_ref = ?", refs)["role"].tolist() == ["flatten"]
