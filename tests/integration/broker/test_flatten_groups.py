"""A flatten and the exits another client left working (issue 10, no naked exits), over the real
ib_async client and the simulated gateway: the flatten joins their OCA group; if the broker refuses
it there, it is sent once more on its own, so the position is still closed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from broker_harness import GatewayTarget, make_settings, run_session, tick_down, tick_up

from catalyst.broker import BrokerSession
from catalyst.ledger import Ledger

pytestmark = pytest.mark.integration


def test_a_flatten_refused_in_the_other_clients_group_is_sent_again_on_its_own(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()
    sent: list[dict[str, Any]] = []
    risk: list[dict[str, Any]] = []

    async def scenario(s: BrokerSession) -> None:
        control.drift(s.account, "1299", 200)
        other = BrokerSession(make_settings(gateway), run_id="cycle", proof_timeout=3.0)
        await other.connect()
        try:
            q = await other.quote("1299")
            assert q.bid is not None and q.ask is not None
            await other.protect(
                "1299",
                200,
                stop=tick_down(q.bid, 20, "1299"),
                target=tick_up(q.ask, 20, "1299"),
                oca_group="it-grp:OCA",
            )
        finally:
            await other.close()
        real_place = s.connection.ib.placeOrder

        def refuse_in_group(contract: Any, order: Any) -> Any:
            """Stands in for a broker that will not join another client's group: the first flatten
            joined to one goes out a hundredth off the tick ladder, which the simulator refuses."""
            sent.append({"ref": order.orderRef, "oca": order.ocaGroup})
            if order.ocaGroup and len(sent) == 1:
                order.lmtPrice = float(Decimal(str(order.lmtPrice)) - Decimal("0.001"))
            return real_place(contract, order)

        s.connection.ib.placeOrder = refuse_in_group  # type: ignore[method-assign]
        try:
            exit_order = await s.flatten("1299")
        finally:
            s.connection.ib.placeOrder = real_place  # type: ignore[method-assign]
        assert exit_order is not None
        assert await s.wait_flat(["1299"], timeout=15) == {}

    run_session(gateway, ledger, scenario, risk_events=risk)
    assert [e["oca"] for e in sent] == ["it-grp:OCA", ""]
    assert sent[0]["ref"] != sent[1]["ref"] and sent[1]["ref"].startswith("it:1299:FLAT:")
    assert not [e for e in risk if e["kind"] == "flatten_unconfirmed"]


def test_a_flatten_joins_the_group_of_the_exits_another_client_left_and_ends_them(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        control.drift(s.account, "388", 100)
        other = BrokerSession(make_settings(gateway), run_id="cycle", proof_timeout=3.0)
        await other.connect()
        try:
            q = await other.quote("388")
            assert q.bid is not None and q.ask is not None
            await other.protect(
                "388",
                100,
                stop=tick_down(q.bid, 20, "388"),
                target=tick_up(q.ask, 20, "388"),
                oca_group="it-grp2:OCA",
            )
        finally:
            await other.close()
        exit_order = await s.flatten("388")
        assert exit_order is not None
        assert await s.wait_flat(["388"], timeout=15) == {}

    run_session(gateway, ledger, scenario)
    left = [
        o for o in control.orders() if o["symbol"] == "388" and o["status"] in {"PreSubmitted", "Submitted"}
    ]
    assert left == [], f"exits left working on a flat symbol: {left}"
