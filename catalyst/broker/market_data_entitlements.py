"""Market-data types and IB's answers when an account lacks a subscription, in a trader's words.

``broker.market_data_type`` names what Catalyst asks of IB at connect (``reqMarketDataType``):
live (1), frozen (2), delayed (3), delayed-frozen (4). IB serves live data wherever the account is
entitled, and says which type each subscription got (message 58, ``Ticker.marketDataType``).

Without a subscription IB answers a quote request with error 354 ("not subscribed") or 10089
("requires additional subscription for API"), or, when delayed data was asked for, with warning
10167 ("displaying delayed market data") followed by delayed ticks; 10168 says delayed data is not
enabled either. A historical request without permissions ends with error 162 ("No market data
permissions for ..."). :func:`entitlement_answer` sorts these; :func:`refusal_message` and
:func:`delayed_message` turn them into messages that name the symbol, what is missing and which
setting would help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: ``broker.market_data_type`` -> IB's reqMarketDataType code.
MARKET_DATA_TYPE_CODES: dict[str, int] = {"live": 1, "frozen": 2, "delayed": 3, "delayed-frozen": 4}
MARKET_DATA_TYPE_NAMES: dict[int, str] = {v: k for k, v in MARKET_DATA_TYPE_CODES.items()}

#: Codes that refuse a request outright for want of a subscription.
NOT_SUBSCRIBED_CODES = frozenset({354, 10089, 10090, 10168})
#: The warning that the request is served, but with delayed data.
DELAYED_INSTEAD_CODE = 10167
#: Historical Market Data Service error: a refusal for want of permissions when its text says so.
HISTORICAL_ERROR_CODE = 162
_PERMISSION_WORDS = ("permission", "not subscribed", "subscription")

Answer = Literal["not_subscribed", "delayed_instead"]


@dataclass(frozen=True)
class EntitlementNotice:
    """One of IB's entitlement answers to a request (its error code and text)."""

    code: int
    message: str
    answer: Answer


def market_data_type_code(name: str) -> int:
    """The reqMarketDataType code of a ``broker.market_data_type`` value."""
    try:
        return MARKET_DATA_TYPE_CODES[name]
    except KeyError:
        raise ValueError(
            f"broker.market_data_type {name!r} is not one of {', '.join(MARKET_DATA_TYPE_CODES)}"
        ) from None


def market_data_type_name(code: int | None) -> str:
    """The name of an IB market data type code; an unknown or missing code reads as live (IB's default)."""
    return MARKET_DATA_TYPE_NAMES.get(int(code or 1), "live")


def is_delayed(name: str) -> bool:
    return name in ("delayed", "delayed-frozen")


def entitlement_answer(code: int, message: str) -> EntitlementNotice | None:
    """The entitlement meaning of an IB error, or None when it is about something else."""
    if code in NOT_SUBSCRIBED_CODES:
        return EntitlementNotice(code, message, "not_subscribed")
    if code == DELAYED_INSTEAD_CODE:
        return EntitlementNotice(code, message, "delayed_instead")
    if code == HISTORICAL_ERROR_CODE and any(w in message.lower() for w in _PERMISSION_WORDS):
        return EntitlementNotice(code, message, "not_subscribed")
    return None


def refusal_message(symbol: str, what: str, notice: EntitlementNotice, configured: str) -> str:
    """Why ``what`` (quotes, historical bars) of ``symbol`` did not arrive, and what would help."""
    missing = (
        "an HKEX (SEHK) market-data subscription enabled for the API"
        if notice.code != 10168
        else "a live HKEX (SEHK) market-data subscription, and delayed data is not enabled either"
    )
    if what == "historical bars":
        helps = (
            "subscribe to HKEX market data in IB's Client Portal (Settings > Market Data Subscriptions); "
            "delayed data does not replace it for historical bars"
        )
    elif is_delayed(configured):
        helps = "subscribe to HKEX market data in IB's Client Portal (Settings > Market Data Subscriptions)"
    else:
        helps = (
            "subscribe to HKEX market data in IB's Client Portal (Settings > Market Data Subscriptions), "
            'or set broker.market_data_type = "delayed" (CATALYST_BROKER__MARKET_DATA_TYPE) to work on '
            "15-minute delayed prices"
        )
    return (
        f"no {what} for {symbol}: IB error {notice.code} ({notice.message.strip()}): the account lacks "
        f"{missing}. Nothing was priced or sized from missing data; {helps}"
    )


def delayed_message(symbol: str, served: str, configured: str) -> str:
    """A quote of ``symbol`` served delayed: what that means for the decisions made on it."""
    return (
        f"{symbol} is priced on {served} market data (broker.market_data_type = {configured!r}; IB has "
        "no live HKEX subscription for this account): prices are at least 15 minutes old"
    )
