"""The last price of each open position, for the review's unrealized P&L: one read-only broker session.

The price is the broker's last trade, else its close, else the bid/ask midpoint, with the time the
broker gave (``as_of``). A review of an earlier day is marked at the prices of when it runs: the
``marked_at`` column says when. No gateway, no marks: the review says the positions are not marked
instead of showing a P&L of zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import structlog

from catalyst.broker import BrokerError, BrokerSession
from catalyst.runs.review_report import MARK_COLUMNS

log = structlog.get_logger(__name__)

#: Client id offset of the review's read-only session (the backtest comparison uses +50).
CLIENT_ID_OFFSET = 51


def mark_source(quote: Any, kind: str) -> str:
    """Where a mark came from, saying so when IB served the quote as anything but live data
    (``broker last (delayed)``): the review does not pass delayed prices off as live ones."""
    served = str(getattr(quote, "data_type", "") or "live")
    return f"broker {kind}" + ("" if served == "live" else f" ({served})")


def mark_price(quote: Any) -> tuple[Decimal | None, str]:
    """The price a position is marked at from one quote, and which price it was."""
    if quote.last is not None and quote.last > 0:
        return quote.last, "last"
    if quote.close is not None and quote.close > 0:
        return quote.close, "close"
    if quote.bid is not None and quote.ask is not None and quote.bid > 0 and quote.ask > 0:
        return (quote.bid + quote.ask) / 2, "mid"
    return None, ""


async def last_prices(
    settings: Any, symbols: Sequence[str], *, session_factory: Callable[..., Any] = BrokerSession
) -> pd.DataFrame:
    """``MARK_COLUMNS`` for ``symbols`` from the broker (empty when there are none or no gateway)."""
    if not symbols:
        return pd.DataFrame(columns=MARK_COLUMNS)
    broker = session_factory(
        settings, ledger=None, readonly=True, client_id=settings.broker.client_id + CLIENT_ID_OFFSET
    )
    try:
        await broker.connect()
    except (BrokerError, OSError, TimeoutError) as exc:
        log.warning("review.marks.no_gateway", error=str(exc))
        return pd.DataFrame(columns=MARK_COLUMNS)
    rows = []
    try:
        for symbol in symbols:
            try:
                quote = await broker.quote(symbol)
            except (BrokerError, TimeoutError) as exc:
                log.warning("review.marks.no_quote", symbol=symbol, error=str(exc))
                continue
            price, kind = mark_price(quote)
            if price is None:
                continue
            when = quote.time or datetime.now(UTC)
            source = mark_source(quote, kind)
            rows.append({"symbol": str(symbol), "price": price, "as_of": when, "source": source})
    finally:
        await broker.close()
    return pd.DataFrame(rows, columns=MARK_COLUMNS)
