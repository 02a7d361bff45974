"""Names of TWS API message ids in both directions, for logs and captures (no layouts here).

Requests (client to gateway) and answers (gateway to client) are numbered independently, so the
same id names two messages: ``REQUEST_NAMES[3]`` is placeOrder, ``ANSWER_NAMES[3]`` orderStatus.
The names are IB's own (EClient method / EWrapper callback). Layouts live in ``wire_decode`` and
``wire_encode``; this table only names what a capture or a log line shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

REQUEST_NAMES: Mapping[int, str] = {
    1: "reqMktData", 2: "cancelMktData", 3: "placeOrder", 4: "cancelOrder", 5: "reqOpenOrders",
    6: "reqAccountUpdates", 7: "reqExecutions", 8: "reqIds", 9: "reqContractDetails",
    10: "reqMktDepth", 11: "cancelMktDepth", 12: "reqNewsBulletins", 13: "cancelNewsBulletins",
    14: "setServerLogLevel", 15: "reqAutoOpenOrders", 16: "reqAllOpenOrders", 17: "reqManagedAccts",
    18: "requestFA", 19: "replaceFA", 20: "reqHistoricalData", 21: "exerciseOptions",
    22: "reqScannerSubscription", 23: "cancelScannerSubscription", 24: "reqScannerParameters",
    25: "cancelHistoricalData", 49: "reqCurrentTime", 50: "reqRealTimeBars", 51: "cancelRealTimeBars",
    52: "reqFundamentalData", 53: "cancelFundamentalData", 54: "calculateImpliedVolatility",
    55: "calculateOptionPrice", 56: "cancelImpliedVolatility", 57: "cancelOptionPrice",
    58: "reqGlobalCancel", 59: "reqMarketDataType", 61: "reqPositions", 62: "reqAccountSummary",
    63: "cancelAccountSummary", 64: "cancelPositions", 65: "verifyRequest", 66: "verifyMessage",
    67: "queryDisplayGroups", 68: "subscribeToGroupEvents", 69: "updateDisplayGroup",
    70: "unsubscribeFromGroupEvents", 71: "startApi", 72: "verifyAndAuthRequest",
    73: "verifyAndAuthMessage", 74: "reqPositionsMulti", 75: "cancelPositionsMulti",
    76: "reqAccountUpdatesMulti", 77: "cancelAccountUpdatesMulti", 78: "reqSecDefOptParams",
    79: "reqSoftDollarTiers", 80: "reqFamilyCodes", 81: "reqMatchingSymbols", 82: "reqMktDepthExchanges",
    83: "reqSmartComponents", 84: "reqNewsArticle", 85: "reqNewsProviders", 86: "reqHistoricalNews",
    87: "reqHeadTimestamp", 88: "reqHistogramData", 89: "cancelHistogramData", 90: "cancelHeadTimestamp",
    91: "reqMarketRule", 92: "reqPnL", 93: "cancelPnL", 94: "reqPnLSingle", 95: "cancelPnLSingle",
    96: "reqHistoricalTicks", 97: "reqTickByTickData", 98: "cancelTickByTickData",
    99: "reqCompletedOrders", 100: "reqWshMetaData", 101: "cancelWshMetaData", 102: "reqWshEventData",
    103: "cancelWshEventData", 104: "reqUserInfo",
}  # fmt: skip

ANSWER_NAMES: Mapping[int, str] = {
    1: "tickPrice", 2: "tickSize", 3: "orderStatus", 4: "error", 5: "openOrder",
    6: "updateAccountValue", 7: "updatePortfolio", 8: "updateAccountTime", 9: "nextValidId",
    10: "contractDetails", 11: "execDetails", 12: "updateMktDepth", 13: "updateMktDepthL2",
    14: "updateNewsBulletin", 15: "managedAccounts", 16: "receiveFA", 17: "historicalData",
    18: "bondContractDetails", 19: "scannerParameters", 20: "scannerData", 21: "tickOptionComputation",
    45: "tickGeneric", 46: "tickString", 47: "tickEFP", 49: "currentTime", 50: "realtimeBar",
    51: "fundamentalData", 52: "contractDetailsEnd", 53: "openOrderEnd", 54: "accountDownloadEnd",
    55: "execDetailsEnd", 56: "deltaNeutralValidation", 57: "tickSnapshotEnd", 58: "marketDataType",
    59: "commissionReport", 61: "position", 62: "positionEnd", 63: "accountSummary",
    64: "accountSummaryEnd", 65: "verifyMessageApi", 66: "verifyCompleted", 67: "displayGroupList",
    68: "displayGroupUpdated", 69: "verifyAndAuthMessageApi", 70: "verifyAndAuthCompleted",
    71: "positionMulti", 72: "positionMultiEnd", 73: "accountUpdateMulti", 74: "accountUpdateMultiEnd",
    75: "securityDefinitionOptionParameter", 76: "securityDefinitionOptionParameterEnd",
    77: "softDollarTiers", 78: "familyCodes", 79: "symbolSamples", 80: "mktDepthExchanges",
    81: "tickReqParams", 82: "smartComponents", 83: "newsArticle", 84: "tickNews", 85: "newsProviders",
    86: "historicalNews", 87: "historicalNewsEnd", 88: "headTimestamp", 89: "histogramData",
    90: "historicalDataUpdate", 91: "rerouteMktDataReq", 92: "rerouteMktDepthReq", 93: "marketRule",
    94: "pnl", 95: "pnlSingle", 96: "historicalTicks", 97: "historicalTicksBidAsk",
    98: "historicalTicksLast", 99: "tickByTick", 100: "orderBound", 101: "completedOrder",
    102: "completedOrdersEnd", 103: "replaceFAEnd", 104: "wshMetaData", 105: "wshEventData",
    106: "historicalSchedule", 107: "userInfo",
}  # fmt: skip


def request_name(fields: Sequence[str]) -> str:
    """The name of a client request frame (``unknown(N)`` for an id IB does not define)."""
    return _name(REQUEST_NAMES, fields)


def answer_name(fields: Sequence[str]) -> str:
    """The name of a gateway answer frame (``unknown(N)`` for an id IB does not define)."""
    return _name(ANSWER_NAMES, fields)


def _name(table: Mapping[int, str], fields: Sequence[str]) -> str:
    if not fields:
        return "empty"
    try:
        msg_id = int(fields[0])
    except ValueError:
        return "not-a-message"
    return table.get(msg_id, f"unknown({msg_id})")
