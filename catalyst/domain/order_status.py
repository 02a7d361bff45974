"""An order's status in the ledger: IB's words and Catalyst's own, in one table with its moves.

The ledger's ``orders.status`` holds either what IB's ``orderStatus`` said (spelt exactly as IB
writes it) or a status only Catalyst can know: the row was committed before ``placeOrder``, the
order was handed to the client library, the process died before sending it, the broker refused it,
let it lapse, or does not know it. Every reader (status sync, reconciliation, the audit, the
reports) asks this module what a status means, instead of keeping its own set of strings; the
sets drifted apart before (one counted an expired DAY order as still open).

Classes of status:

* **working**: may still trade (``RECORDED`` and ``SENT`` included: the broker may have it);
* **done at the broker**: IB will not work it again (``Filled``, ``Cancelled``, ``ApiCancelled``,
  ``Inactive``);
* **final**: status sync never asks the broker about it again (done, plus ``rejected``,
  ``expired``, ``unknown``, ``not_sent``);
* **settled**: final and beyond correction; ``Inactive``, ``unknown`` and ``not_sent`` are final
  but a later broker report may still correct them (reconciliation adopts what the broker shows).

:func:`can_move` is the transition table: a settled status never changes (but a ``Cancelled`` may be
named ``expired`` or ``rejected`` from the broker's messages); a correctable one may become what the
broker reports; a working one may become anything but "recorded" again.
"""

from __future__ import annotations

from enum import StrEnum

from catalyst.domain.errors import UnknownOrderStatusError


class OrderStatus(StrEnum):
    # Catalyst's own
    RECORDED = "pending_submit"  # committed to the ledger, placeOrder not called yet
    SENT = "sent"  # handed to the client library, no broker answer yet
    NOT_SENT = "not_sent"  # recorded, but its process died before sending it (close-out)
    REJECTED = "rejected"  # the broker refused it (an order error, or IB's Inactive after a refusal)
    EXPIRED = "expired"  # a DAY order the broker let lapse at the close
    UNKNOWN = "unknown"  # the broker reports no open or completed order with this orderRef
    # IB's orderStatus values, as IB writes them
    API_PENDING = "ApiPending"
    PENDING_SUBMIT = "PendingSubmit"
    PENDING_CANCEL = "PendingCancel"
    PRE_SUBMITTED = "PreSubmitted"
    SUBMITTED = "Submitted"
    API_CANCELLED = "ApiCancelled"
    CANCELLED = "Cancelled"
    FILLED = "Filled"
    INACTIVE = "Inactive"

    @classmethod
    def parse(cls, text: object) -> OrderStatus:
        """The status ``text`` names (exact spelling, as stored); anything else raises."""
        try:
            return _BY_TEXT[str(text)]
        except KeyError:
            raise UnknownOrderStatusError(
                f"unknown order status {text!r}; known: {', '.join(sorted(_BY_TEXT))}"
            ) from None

    @property
    def is_working(self) -> bool:
        return self in WORKING

    @property
    def is_done_at_broker(self) -> bool:
        return self in DONE_AT_BROKER

    @property
    def is_final(self) -> bool:
        return self in FINAL

    @property
    def is_settled(self) -> bool:
        return self in SETTLED


_BY_TEXT = {s.value: s for s in OrderStatus}

#: Broker statuses that prove a leg was accepted (tws-protocol.md §5.3).
ACKNOWLEDGED = frozenset({OrderStatus.PRE_SUBMITTED, OrderStatus.SUBMITTED, OrderStatus.FILLED})
#: IB will not work the order again.
DONE_AT_BROKER = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.API_CANCELLED, OrderStatus.INACTIVE}
)
#: Never synced again.
FINAL = DONE_AT_BROKER | {
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
    OrderStatus.UNKNOWN,
    OrderStatus.NOT_SENT,
}
#: Final, and a later broker report may still correct it.
CORRECTABLE = frozenset({OrderStatus.INACTIVE, OrderStatus.UNKNOWN, OrderStatus.NOT_SENT})
SETTLED = FINAL - CORRECTABLE
WORKING = frozenset(OrderStatus) - FINAL
#: What a broker report can say about an order (IB's statuses and the ones Catalyst derives from
#: its messages: a refusal, an expiry).
FROM_BROKER = frozenset(s for s in OrderStatus if s.value[0].isupper()) | {
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
}


#: IB reports a DAY order's lapse and some refusals as ``Cancelled``; Catalyst names them from the
#: broker's own messages afterwards (status sync, the recorder), the only moves out of a settled status.
RECLASSIFIED = frozenset(
    {(OrderStatus.CANCELLED, OrderStatus.EXPIRED), (OrderStatus.CANCELLED, OrderStatus.REJECTED)}
)


def can_move(old: OrderStatus, new: OrderStatus) -> bool:
    """Whether the ledger may change an order's status from ``old`` to ``new``."""
    if old is new or (old, new) in RECLASSIFIED:
        return True
    if old in SETTLED:
        return False
    if old in CORRECTABLE:
        return new in FROM_BROKER
    return new is not OrderStatus.RECORDED


def may_record(old: str | None, new: str) -> bool:
    """:func:`can_move` over stored texts: a row with no status yet, or one an older version wrote
    in words this table does not know, may take ``new``; ``new`` itself must be known."""
    target = OrderStatus.parse(new)
    if old is None or old not in _BY_TEXT:
        return True
    return can_move(_BY_TEXT[old], target)


def texts(statuses: frozenset[OrderStatus]) -> tuple[str, ...]:
    """The stored spellings of ``statuses``, sorted (for SQL ``IN`` lists and ``isin``)."""
    return tuple(sorted(s.value for s in statuses))
