"""SEHK stock contracts, qualified at the broker once per session and cross-checked.

For each symbol the broker's contract details are compared with ``catalyst.market``: the board
lot (when the broker reports one: ``sizeIncrement``/``minSize`` above 1) and the tick ladder of
the market rule IB attaches to SEHK. A disagreement means one side is stale (a lot change, a
spread-table phase landing on another date than we assumed), so the symbol is locked: every order
for it is refused with :class:`SymbolLockedError` and a ``symbol_locked`` risk event is raised
until a person fixes the data and records ``symbol_unlocked``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import structlog
from ib_async import IB, Contract, Stock

from catalyst.broker.errors import BrokerTimeoutError, ContractNotFoundError, SymbolLockedError
from catalyst.broker.order_mapping import decimal_from_wire
from catalyst.market import board_lot, ladder, normalize_symbol, security

log = structlog.get_logger(__name__)

Ladder = tuple[tuple[Decimal, Decimal], ...]
OnLock = Callable[[str, str, dict[str, Any]], None]

#: How often a symbol's lock state is re-read from the ledger (another process may lock it).
LOCK_RECHECK_SECONDS = 60.0


@dataclass(frozen=True)
class SehkContract:
    """A qualified SEHK stock as the broker describes it, with what we checked against."""

    symbol: str
    con_id: int
    exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    long_name: str
    board_lot: int  # catalyst.market's lot (the one orders use)
    broker_lot: int | None  # what the broker reports, None when it reports nothing useful
    market_rule_id: int | None
    broker_ladder: Ladder = field(default_factory=tuple)


def _tidy(x: Decimal) -> Decimal:
    """Without trailing zeros and without exponent notation (``10.00`` -> ``10``, ``0.010`` -> ``0.01``)."""
    n = x.normalize()
    return n.quantize(Decimal(1)) if n == n.to_integral_value() else n


def normalise_ladder(pairs: Sequence[tuple[Any, Any]]) -> Ladder:
    """Ladder pairs as exact Decimals without trailing zeros, for comparison."""
    out: list[tuple[Decimal, Decimal]] = []
    for low, inc in pairs:
        low_d = low if isinstance(low, Decimal) else decimal_from_wire(float(low))
        inc_d = inc if isinstance(inc, Decimal) else decimal_from_wire(float(inc))
        if low_d is None or inc_d is None:
            continue
        out.append((_tidy(low_d), _tidy(inc_d)))
    return tuple(out)


def contract_disagreements(
    *, symbol: str, broker_lot: int | None, broker_ladder: Ladder | None, on: date | None = None
) -> list[str]:
    """Every way the broker's view of ``symbol`` differs from catalyst.market (empty = agree)."""
    problems: list[str] = []
    ours_lot = board_lot(symbol)
    if broker_lot is not None and broker_lot != ours_lot:
        problems.append(f"board lot: broker reports {broker_lot}, catalyst.market has {ours_lot}")
    if broker_ladder is None:
        problems.append("tick ladder: the broker did not return the market rule, so it cannot be checked")
    else:
        ours = normalise_ladder(ladder(on=on, table=security(symbol).spread_table))
        if broker_ladder != ours:
            problems.append(
                "tick ladder: broker market rule "
                + ", ".join(f"{lo}:{inc}" for lo, inc in broker_ladder)
                + " differs from catalyst.market "
                + ", ".join(f"{lo}:{inc}" for lo, inc in ours)
            )
    return problems


def broker_lot_of(details: Any) -> int | None:
    """The board lot the broker reports, if any (IB's meaning of these fields for SEHK is [U])."""
    for name in ("sizeIncrement", "minSize"):
        value = decimal_from_wire(getattr(details, name, None))
        if value is not None and value > 1 and value == value.to_integral_value():
            return int(value)
    return None


class ContractsCache:
    """Qualify once, check once, refuse locked symbols every time."""

    def __init__(
        self,
        ib: IB,
        *,
        request_timeout: float,
        on_lock: OnLock | None = None,
        is_locked_elsewhere: Callable[[str], str | None] | None = None,
    ) -> None:
        self._ib = ib
        self._timeout = request_timeout
        self._on_lock = on_lock
        self._is_locked_elsewhere = is_locked_elsewhere
        self._cache: dict[str, tuple[Contract, SehkContract]] = {}
        self._locked: dict[str, str] = {}
        self._elsewhere: dict[str, tuple[float, str | None]] = {}
        self._lock = asyncio.Lock()

    def locked(self) -> dict[str, str]:
        return dict(self._locked)

    def cached(self) -> dict[str, SehkContract]:
        return {k: v[1] for k, v in self._cache.items()}

    async def resolve(self, symbol: str, *, for_orders: bool = True) -> tuple[Contract, SehkContract]:
        """The qualified ib_async contract and its checked description; locked symbols raise.

        ``for_orders=False`` (quotes, bars) returns a locked symbol's contract anyway.
        """
        sym = normalize_symbol(symbol)
        reason: str | None = None
        async with self._lock:  # one qualification and one ledger lock check at a time
            if sym not in self._cache and sym not in self._locked:
                await self._qualify(sym)
            if for_orders:
                reason = self._locked.get(sym)
                if reason is None and self._is_locked_elsewhere is not None:
                    reason = await self._lock_elsewhere(sym)
        if for_orders and reason is not None:
            raise SymbolLockedError(
                f"trading {sym} is refused: {reason}. Fix catalyst.market (universe or spread table) "
                "or confirm the broker's data, then record a symbol_unlocked risk event"
            )
        if sym not in self._cache:
            raise ContractNotFoundError(f"{sym} could not be qualified at SEHK: {self._locked.get(sym)}")
        return self._cache[sym]

    async def _lock_elsewhere(self, sym: str) -> str | None:
        """The ledger's lock state of ``sym``, read at most once a minute (off the event loop)."""
        assert self._is_locked_elsewhere is not None
        loop = asyncio.get_running_loop()
        hit = self._elsewhere.get(sym)
        if hit is not None and loop.time() - hit[0] < LOCK_RECHECK_SECONDS:
            return hit[1]
        reason = await asyncio.to_thread(self._is_locked_elsewhere, sym)
        self._elsewhere[sym] = (loop.time(), reason)
        return reason

    async def _qualify(self, sym: str) -> None:
        stock = Stock(sym, "SEHK", "HKD")
        log.info("broker.contract.request", symbol=sym, exchange="SEHK", currency="HKD")
        try:
            details_list = await asyncio.wait_for(self._ib.reqContractDetailsAsync(stock), self._timeout)
        except TimeoutError as exc:
            raise BrokerTimeoutError(
                f"contract details for {sym} not received within {self._timeout}s"
            ) from exc
        stocks = [d for d in details_list if d.contract is not None and d.contract.secType == "STK"]
        if len(stocks) != 1:
            log.error("broker.contract.not_unique", symbol=sym, matches=len(stocks))
            raise ContractNotFoundError(
                f"the broker returned {len(stocks)} SEHK stocks for {sym}; expected exactly one"
            )
        details = stocks[0]
        contract = details.contract
        assert contract is not None
        rule_id = self._sehk_rule_id(details)
        broker_ladder: Ladder | None = None
        if rule_id is not None:
            increments = await self._ib.reqMarketRuleAsync(rule_id)
            if increments:
                broker_ladder = normalise_ladder([(p.lowEdge, p.increment) for p in increments])
        broker_lot = broker_lot_of(details)
        log.info(
            "broker.contract.details",
            symbol=sym,
            con_id=contract.conId,
            local_symbol=contract.localSymbol,
            trading_class=contract.tradingClass,
            long_name=details.longName,
            min_tick=details.minTick,
            valid_exchanges=details.validExchanges,
            market_rule_ids=details.marketRuleIds,
            min_size=str(details.minSize),
            size_increment=str(details.sizeIncrement),
            order_types=details.orderTypes,
            broker_lot=broker_lot,
            broker_ladder=[f"{lo}:{inc}" for lo, inc in broker_ladder or ()],
        )
        problems = contract_disagreements(symbol=sym, broker_lot=broker_lot, broker_ladder=broker_ladder)
        described = SehkContract(
            symbol=sym,
            con_id=int(contract.conId),
            exchange=str(contract.exchange),
            currency=str(contract.currency),
            local_symbol=str(contract.localSymbol),
            trading_class=str(contract.tradingClass),
            long_name=str(details.longName),
            board_lot=board_lot(sym),
            broker_lot=broker_lot,
            market_rule_id=rule_id,
            broker_ladder=broker_ladder or (),
        )
        self._cache[sym] = (contract, described)
        if problems:
            reason = "; ".join(problems)
            self._locked[sym] = reason
            log.critical("broker.contract.mismatch", symbol=sym, problems=problems)
            if self._on_lock is not None:
                self._on_lock(sym, reason, {"problems": problems, "con_id": described.con_id})

    @staticmethod
    def _sehk_rule_id(details: Any) -> int | None:
        exchanges = [e.strip() for e in str(details.validExchanges or "").split(",")]
        rules = [r.strip() for r in str(details.marketRuleIds or "").split(",")]
        for exchange, rule in zip(exchanges, rules, strict=False):
            if exchange == "SEHK" and rule.lstrip("-").isdigit():
                return int(rule)
        if len(rules) == 1 and rules[0].isdigit():
            return int(rules[0])
        return None
