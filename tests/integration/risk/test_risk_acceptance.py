"""Acceptance of layers 2, 3 and reconciliation over the simulated gateway, each with the fault that
defeats the layer before it. One gateway process for the module, one account per test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from risk_sim_helpers import SIM_CLOCK, Rig, flat, make_rig, record_position, run, settings_for, ticks, until

from catalyst.broker import BrokerSession
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.market import board_lot
from catalyst.reconcile.engine import reconcile, require_clean_start
from catalyst.reconcile.errors import TradingBlockedError
from catalyst.risk.alerts import read_alert_file
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import AccountView, PreTradeContext, pre_trade
from catalyst.risk.pretrade_inputs import pretrade_context
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_sim")]

ACCOUNTS = (
    "DU0000021",
    "DU0000022",
    "DU0000023",
    "DU0000024",
    "DU0000025",
    "DU0000026",
    "DU0000027",
    "DU0000028",
)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("risk-gw"), clock=SIM_CLOCK, accounts=ACCOUNTS)
    try:
        yield handle
    finally:
        handle.stop()


def kinds(ledger: Ledger) -> list[str]:
    return list(ledger.query("SELECT kind FROM risk_events ORDER BY ts")["kind"])


def test_drop_children_an_unprotected_position_is_found_in_one_poll_and_flattened(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The state ``drop-children`` leaves once the bracket proof is bypassed: the entry filled, no
    stop and no target at the broker, while the ledger believes the position is protected."""
    account = ACCOUNTS[0]
    gw.control.drift(account, "700", 100)
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits(missing_protection="flatten"))
    record_position(rig.ledger, account, "700", 100, Decimal("700"), Decimal("850"))

    async def scenario(r: Rig) -> None:
        report = await r.monitor.check_protection()
        assert [(g.symbol, g.missing) for g in report.gaps] == [("700", ("stop", "target"))]
        assert report.actions == ["flatten 700"]
        await until(lambda: flat(r.session, "700"), what="700 flat at the broker")

    run(rig, scenario)
    assert {"unprotected_position", "unprotected_flattened"} <= set(kinds(rig.ledger))
    assert any(a["title"].startswith("Closed 700") for a in read_alert_file(rig.alert_file))


def test_a_position_whose_bracket_is_live_is_not_touched(gw: GatewayHandle, tmp_path: Path) -> None:
    account = ACCOUNTS[1]
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())

    async def scenario(r: Rig) -> None:
        q = await r.session.quote("3988")
        assert q.ask is not None
        entry = q.ask + Decimal("0.02")  # marketable: fills at once
        intent = BracketIntent.snapped(
            "acc-live-1",
            "3988",
            Side.BUY,
            board_lot("3988"),
            entry,
            entry * Decimal("0.9"),
            ticks(q.ask, 20, "3988"),
        )
        await r.session.submit_bracket(intent)
        await until(lambda: _holds(r.session, "3988"), what="entry filled")
        report = await r.monitor.check_protection()
        assert report.gaps == [] and report.actions == []

    run(rig, scenario)


async def _holds(session: BrokerSession, symbol: str) -> bool:
    return not await flat(session, symbol)


def test_an_adverse_move_trips_the_breaker_cancels_entries_flattens_and_the_halt_survives_a_restart(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    account = ACCOUNTS[2]
    limits = RiskLimits(daily_loss_limit=Decimal("1000"), daily_loss_fraction=None)
    gw.control.drift(account, "388", 100)  # carried from yesterday, marked from the previous close
    rig = make_rig(gw.host, gw.port, account, tmp_path, limits)
    entry_ref = ""

    async def scenario(r: Rig) -> None:
        nonlocal entry_ref
        q = await r.session.quote("3988")
        assert q.bid is not None
        entry = ticks(q.bid, -20, "3988")  # resting, never fills in this test
        intent = BracketIntent.snapped(
            "acc-brk-1",
            "3988",
            Side.BUY,
            board_lot("3988"),
            entry,
            entry * Decimal("0.9"),
            ticks(q.ask, 20, "3988"),
        )
        bracket = await r.session.submit_bracket(intent)
        entry_ref = intent.order_ref("P")
        assert bracket is not None
        first = await r.monitor.check_breaker()
        assert first.breaker is not None and not first.breaker.tripped
        gw.control.move_price("388", pct=-10)
        report = await r.monitor.check_breaker()
        assert report.breaker is not None and report.breaker.tripped, report.breaker
        assert f"cancel {entry_ref}" in report.actions and "flatten 388" in report.actions
        await until(lambda: flat(r.session, "388"), what="388 flat at the broker")

    run(rig, scenario)
    entry = [o for o in gw.control.orders() if o["order_ref"] == entry_ref]
    assert entry and entry[0]["status"] == "Cancelled"
    assert "breaker_tripped" in kinds(rig.ledger)

    restarted = make_rig(gw.host, gw.port, account, tmp_path / "again", limits, ledger=rig.ledger)
    state = restarted.monitor.risk_state()
    assert state.halted and "daily loss limit" in state.halt_reason
    ctx = PreTradeContext(
        account=AccountView(Decimal("1e6"), Decimal("1e6")),
        now=datetime(2026, 11, 24, 2, 30, tzinfo=UTC),
        risk_state=state,
    )
    intent = BracketIntent("acc-brk-2", "700", Side.BUY, 100, Decimal("700"), Decimal("690"), Decimal("720"))
    assert [r.code.value for r in pre_trade([intent], ctx, limits).rejections] == ["breaker_halted"]


def test_drift_the_next_reconciliation_reports_corrects_and_locks(gw: GatewayHandle, tmp_path: Path) -> None:
    account = ACCOUNTS[3]
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())
    gw.control.drift(account, "5", 400)

    async def scenario(r: Rig) -> None:
        first = await reconcile(r.session, r.ledger, account=account)
        assert list(first.findings["kind"]) == ["orphan"] and first.locked == ("5",)
        clean = await reconcile(r.session, r.ledger, account=account)
        assert clean.clean and clean.unlocked == ("5",)
        gw.control.drift(account, "5", 1200)
        drifted = await reconcile(r.session, r.ledger, account=account)
        row = drifted.findings.iloc[0]
        assert (row["kind"], int(row["ledger_quantity"]), int(row["broker_quantity"])) == (
            "quantity_mismatch",
            400,
            1200,
        )
        assert drifted.locked == ("5",)

    run(rig, scenario)
    held = rig.ledger.scalar("SELECT quantity FROM positions WHERE account = ? AND symbol = '5'", [account])
    assert int(held) == 1200
    corrections = list(rig.ledger.query("SELECT correction FROM discrepancies ORDER BY ts")["correction"])
    assert corrections[-1] == "ledger quantity 400 set to broker's 1200"


def test_a_startup_reconciliation_that_cannot_complete_blocks_trading(tmp_path: Path) -> None:
    import asyncio
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]  # nothing listens here once closed
    ledger = Ledger(tmp_path / "ledger.duckdb")
    session = BrokerSession(
        settings_for("127.0.0.1", dead_port, ACCOUNTS[4]), ledger=ledger, hold_timeout=0.2
    )
    with pytest.raises(
        TradingBlockedError, match="trading blocked: the startup reconciliation did not complete"
    ):
        asyncio.run(require_clean_start(session, ledger, account=ACCOUNTS[4]))
    assert list(ledger.query("SELECT status FROM reconciliations")["status"]) == ["failed"]


def test_pretrade_refuses_the_eleventh_position_a_duplicate_lunch_and_oversized_risk(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """Layer 1 with the book read from the gateway: ten positions held there already."""
    from catalyst.market import HK_TZ, universe

    account = ACCOUNTS[5]
    held = sorted(universe(), key=int)[:10]
    for symbol in held:
        gw.control.drift(account, symbol, board_lot(symbol))
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())
    morning = datetime(2026, 11, 24, 10, 30, tzinfo=HK_TZ)
    lunch = datetime(2026, 11, 24, 12, 30, tzinfo=HK_TZ)
    limits = RiskLimits(max_positions=10, max_risk_fraction=Decimal("0.01"))

    def intent(symbol: str, entry: str, stop: str, target: str, lots: int = 1) -> BracketIntent:
        return BracketIntent(
            f"pt-{symbol}-{lots}",
            symbol,
            Side.BUY,
            lots * board_lot(symbol),
            Decimal(entry),
            Decimal(stop),
            Decimal(target),
            created_at=morning,
        )

    async def scenario(r: Rig) -> dict[str, list[str]]:
        ctx = await pretrade_context(r.session, r.ledger, account=account, now=morning)
        assert sorted(ctx.positions) == sorted(held)
        eleventh = intent("2388", "35.00", "34.00", "37.00")
        duplicate = intent(held[0], "4.50", "4.40", "4.70")  # 5 (HSBC) is held: prices don't matter here
        out = {
            "eleventh": pre_trade([eleventh], ctx, limits),
            "duplicate": pre_trade([duplicate], ctx, limits),
        }
        fewer = PreTradeContext(account=ctx.account, now=morning, positions={}, risk_state=ctx.risk_state)
        at_lunch = PreTradeContext(account=ctx.account, now=lunch, positions={}, risk_state=ctx.risk_state)
        out["lunch"] = pre_trade([eleventh], at_lunch, limits)
        out["oversized"] = pre_trade([intent("2388", "35.00", "30.00", "45.00", lots=20)], fewer, limits)
        return {k: [f"{x.code.value}: {x.text}" for x in v.rejections] for k, v in out.items()}

    found = run(rig, scenario)
    assert found["eleventh"][0].startswith("max_positions: 10 positions")
    assert found["duplicate"][0].startswith("duplicate_symbol: already a position in 5")
    assert found["lunch"][0].startswith("market_phase: no new entries during LUNCH")
    assert found["oversized"][0].startswith("risk_per_trade: risk ")


def test_a_price_through_the_recorded_stop_with_the_position_still_open_is_closed(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The broker's own stop did not act (here: it was never there): the quote check closes it."""
    account = ACCOUNTS[6]
    gw.control.drift(account, "9988", 100)
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())

    async def scenario(r: Rig) -> None:
        q = await r.session.quote("9988")
        assert q.bid is not None
        record_position(r.ledger, account, "9988", 100, q.bid + Decimal("1"), q.bid + Decimal("20"))
        report = await r.monitor.check_quotes()
        assert [(b.symbol, b.level_kind) for b in report.breaches] == [("9988", "stop")]
        assert report.actions == ["flatten 9988"]
        await until(lambda: flat(r.session, "9988"), what="9988 flat at the broker")

    run(rig, scenario)
    assert "level_breach_closed" in kinds(rig.ledger)


def test_drop_children_an_unprotected_position_is_re_protected_by_default(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """Same state as above, default setting (recreate): stop and target are placed again at the
    broker from the levels the ledger recorded, and the next poll finds the position protected."""
    from catalyst.market import security, snap_to_tick

    account = ACCOUNTS[7]
    gw.control.drift(account, "1299", 200)
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())

    async def scenario(r: Rig) -> None:
        q = await r.session.quote("1299")
        assert q.bid is not None and q.ask is not None
        table = security("1299").spread_table
        stop = snap_to_tick(q.bid * Decimal("0.9"), "down", table=table)
        target = ticks(q.ask, 20, "1299")
        record_position(r.ledger, account, "1299", 200, stop, target)
        report = await r.monitor.check_protection()
        assert [g.symbol for g in report.gaps] == ["1299"] and report.actions == ["protect 1299"]
        again = await r.monitor.check_protection()
        assert again.gaps == []
        assert not await flat(r.session, "1299")

    run(rig, scenario)
    assert "protection_recreated" in kinds(rig.ledger)
    working = {
        (o["order_type"], o["status"])
        for o in gw.control.orders()
        if o["symbol"] == "1299" and o["account"] == account
    }
    assert {t for t, _ in working} == {"LMT", "STP LMT"}
