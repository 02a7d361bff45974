"""Whatever a client sends, the engine answers with events (never an exception) and stays consistent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_support import ACCOUNT, make_exchange
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalyst.sim.engine.errors import SimClockError, UnknownAccountError, UnknownSimContractError
from catalyst.sim.engine.exchange import Exchange
from catalyst.sim.engine.model import OrderRejected, OrderRequest

_EX: list[Exchange] = []


def _shared() -> Exchange:
    if not _EX:
        _EX.append(make_exchange(cash=Decimal("1e8")))
    return _EX[0]


prices = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True, places=3),
    st.sampled_from([Decimal("772"), Decimal("771.5"), Decimal("0.001"), Decimal("-1"), Decimal("1E+30")]),
)
requests = st.builds(
    OrderRequest,
    client_id=st.integers(0, 3),
    order_id=st.integers(-2, 40),
    con_id=st.sampled_from([0, 900000700, 900000005, 12345]),
    symbol=st.sampled_from(["700", "5", "", "XYZ", "0700"]),
    exchange=st.just("SEHK"),
    currency=st.just("HKD"),
    action=st.sampled_from(["BUY", "SELL", "SSHORT", "", "buy"]),
    total_quantity=st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True, places=2),
        st.sampled_from([Decimal(100), Decimal(400)]),
    ),
    order_type=st.sampled_from(["LMT", "MKT", "STP", "STP LMT", "TRAIL", ""]),
    lmt_price=prices,
    aux_price=prices,
    tif=st.sampled_from(["", "DAY", "GTC", "IOC"]),
    oca_group=st.sampled_from(["", "G1"]),
    oca_type=st.integers(0, 3),
    account=st.sampled_from(["", ACCOUNT, "U1"]),
    order_ref=st.text(max_size=20),
    transmit=st.booleans(),
    parent_id=st.integers(0, 40),
    outside_rth=st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(requests, st.tuples(st.integers(0, 3), st.integers(-2, 40))), max_size=6))
def test_any_sequence_of_requests_and_cancels_gives_events_and_keeps_books_consistent(
    calls: list[OrderRequest | tuple[int, int]],
) -> None:
    ex = _shared()
    for call in calls:
        events = ex.place_order(call) if isinstance(call, OrderRequest) else ex.cancel_order(*call)
        assert isinstance(events, list)
        for e in events:
            if isinstance(e, OrderRejected):
                assert e.code in {103, 104, 110, 135, 200, 201, 202, 387, 10147, 10148}
    for o in ex.open_orders():
        assert 0 <= o.filled <= o.total_quantity and o.status in {"PreSubmitted", "Submitted"}
    shares = sum(
        (1 if e.side == "BOT" else -1) * e.shares for e in ex.all_executions() if e.account == ACCOUNT
    )
    assert sum(p.quantity for p in ex.positions(ACCOUNT)) == shares  # no drift: positions = executions


def test_engine_api_misuse_raises_specific_errors() -> None:
    ex = make_exchange()
    with pytest.raises(UnknownSimContractError):
        ex.quote("NOPE")
    with pytest.raises(UnknownAccountError):
        ex.account_values("U404")
    with pytest.raises(SimClockError):
        ex.set_speed(-1)
    with pytest.raises(ValueError, match="exactly one"):
        ex.move_price("700")
    assert ex.contract(symbol="NOPE") is None and ex.market_rule(1) is None


def test_leading_zeros_find_the_same_contract() -> None:
    ex = make_exchange()
    c = ex.contract(symbol="0700")
    assert c is not None and c.symbol == "700" and ex.contract(con_id=c.con_id) == c
