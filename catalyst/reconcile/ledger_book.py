"""What the ledger says the account holds: the positions table rolled forward by later fills.

A ``positions`` row is a checkpoint (written on a fill or by a reconciliation correction); fills
recorded after its ``updated_at`` move it on. A symbol with fills but no row is built from its
fills alone. Stop and target come from the row, or else from the intent of the entry fill, so
the position monitor knows the levels of a position whoever opened it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

BOOK_COLUMNS = ["account", "symbol", "quantity", "avg_cost", "stop_price", "target_price", "intent_id"]

_BOOK_SQL = """
WITH base AS (
    SELECT account, symbol, quantity, avg_cost, stop_price, target_price, intent_id, updated_at
    FROM positions WHERE account = $account
),
later AS (
    SELECT f.symbol,
           sum(CASE WHEN f.side = 'BUY' THEN f.quantity ELSE -f.quantity END) AS qty,
           arg_max(f.order_ref, f.ts) AS last_ref
    FROM fills f LEFT JOIN base b ON b.symbol = f.symbol
    WHERE coalesce(f.account, $account) = $account
      AND (b.updated_at IS NULL OR f.ts > b.updated_at)
    GROUP BY f.symbol
),
merged AS (
    SELECT coalesce(b.symbol, l.symbol) AS symbol,
           coalesce(b.quantity, 0) + coalesce(l.qty, 0) AS quantity,
           b.avg_cost, b.stop_price, b.target_price,
           coalesce(b.intent_id, split_part(l.last_ref, ':', 1)) AS intent_id
    FROM base b FULL OUTER JOIN later l ON l.symbol = b.symbol
)
SELECT $account AS account, m.symbol, m.quantity, m.avg_cost,
       coalesce(m.stop_price, i.stop_price) AS stop_price,
       coalesce(m.target_price, i.target_price) AS target_price,
       m.intent_id
FROM merged m LEFT JOIN intents i ON i.intent_id = m.intent_id
WHERE m.quantity <> 0
ORDER BY m.symbol
"""


def ledger_positions(ledger: Ledger, account: str) -> pd.DataFrame:
    """Open positions by the ledger for ``account`` (columns :data:`BOOK_COLUMNS`)."""
    frame = ledger.query(_BOOK_SQL, {"account": account})
    if frame.empty:
        return pd.DataFrame(columns=BOOK_COLUMNS)
    frame["quantity"] = frame["quantity"].astype("int64")
    return frame[BOOK_COLUMNS]
