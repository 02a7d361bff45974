"""The simulated gateway serves any tradable security of the active universe, imported from HKEX's
list: contract details with the imported lot and the ladder of its spread table, quotes on that
ladder from a deterministic seed price, and bars; with a full-size list it stays responsive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from ib_async import IB, Stock
from sim_gateway_helpers import TRADING_CLOCK, connect, wait_until

from catalyst.market import is_on_tick, use_universe
from catalyst.market.hkex_list_layout import ListRow, etf, sheet, warrant, write_xlsx
from catalyst.market.universe_import import import_document
from catalyst.market.universe_store import write_universe
from catalyst.sim.engine.contracts import LISTINGS, MARKET_RULE_IDS, SEED_PRICE_RANGE, seed_price
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("imported_universe_gateway")]

DAY = date(2026, 11, 24)
#: A list the size of HKEX's (about 17,000 rows, 2,900 tradable), plus the securities checked below.
FILLER = [ListRow(20000 + i, f"FILLER {i}", 1000) for i in range(2800)] + [
    warrant(30000 + i, f"WRT {i}", 10000) for i in range(14000)
]
ROWS = [
    ListRow(700, "TENCENT", 100),
    ListRow(1234, "CHINA LILANG", 2000),
    etf(2822, "CSOP A50 ETF", 200),
    warrant(10001, "UB-N225@EP2603D", 10000),
    *FILLER,
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    folder = tmp_path_factory.mktemp("imported")
    target = folder / "universe.json"
    write_universe(import_document(write_xlsx(folder / "ListOfSecurities.xlsx", sheet(DAY, ROWS))), target)
    mp = pytest.MonkeyPatch()
    mp.setenv("CATALYST_MARKET__UNIVERSE_FILE", str(target))
    try:
        handle = start_gateway(folder / "gw", clock=TRADING_CLOCK)
    finally:
        mp.undo()
    use_universe(target)  # this process checks against the same universe
    yield handle
    handle.stop()
    use_universe(None)


@pytest.fixture
def ib(gateway: GatewayHandle) -> Iterator[IB]:
    client = connect(gateway)
    yield client
    client.disconnect()


def test_contract_details_of_a_security_outside_the_shipped_20_carry_its_imported_lot(ib: IB) -> None:
    [cd] = ib.reqContractDetails(Stock("1234", "SEHK", "HKD"))
    assert cd.longName == "CHINA LILANG (SIM)"
    assert (int(cd.minSize), int(cd.sizeIncrement)) == (2000, 2000)
    assert cd.marketRuleIds.split(",")[0] == str(MARKET_RULE_IDS["A"])


def test_an_imported_etf_gets_the_table_d_rule_and_a_quote_on_that_ladder(ib: IB) -> None:
    [cd] = ib.reqContractDetails(Stock("2822", "SEHK", "HKD"))
    assert cd.marketRuleIds.split(",")[0] == str(MARKET_RULE_IDS["D"]) and cd.stockType == "ETF"
    [t] = ib.reqTickers(cd.contract)
    for price in (t.bid, t.ask, t.last):
        assert is_on_tick(Decimal(str(price)), on=DAY, table="D"), price


def test_a_new_security_trades_near_its_deterministic_seed_price(ib: IB) -> None:
    [c] = ib.qualifyContracts(Stock("1234", "SEHK", "HKD"))
    [t] = ib.reqTickers(c)
    seed = seed_price("1234")
    assert seed == seed_price("1234") and SEED_PRICE_RANGE[0] <= seed <= SEED_PRICE_RANGE[1]
    assert seed / 3 < Decimal(str(t.last)) < seed * 3
    bars = ib.reqHistoricalData(c, "", "2 D", "5 mins", "TRADES", True)
    assert len(bars) > 40 and all(b.volume % 2000 == 0 for b in bars)


def test_a_kept_out_security_is_not_listed(ib: IB) -> None:
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
    assert ib.qualifyContracts(Stock("10001", "SEHK", "HKD")) in ([], [None])
    assert 200 in codes


def test_with_a_full_size_list_every_security_can_be_looked_up_but_only_served_ones_stream() -> None:
    assert "20001" in LISTINGS and LISTINGS["20001"].board_lot == 1000
    assert len(list(LISTINGS)) < 100  # iteration (the exchange's quote pushes) covers served ones only


def test_with_a_full_size_list_streaming_quotes_keep_coming(ib: IB, gateway: GatewayHandle) -> None:
    [c] = ib.qualifyContracts(Stock("20777", "SEHK", "HKD"))
    ticker = ib.reqMktData(c)
    assert wait_until(ib, lambda: ticker.last > 0, timeout=30)
    seen = ticker.time
    gateway.control.advance(120)  # a quote push over all ~2,900 securities each tick would stall here
    assert wait_until(ib, lambda: ticker.time != seen, timeout=30)
    ib.cancelMktData(c)
