"""Turning Python values into values a ledger column accepts, exactly.

Money is ``DECIMAL``: a ``Decimal`` (or int, or numeric string) is stored as is and must fit the
column's scale; rounding money silently is how the predecessor lost cents, so a value with more
decimal places than the column holds raises. A ``float`` headed for a DECIMAL column is converted
through its shortest repr (``9.05`` stays ``9.05``), never through binary, and must fit the same way.
Dicts and lists become JSON text (Decimals and datetimes rendered as strings). Datetimes must be
timezone-aware. Enums are stored by value.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from catalyst.ledger.ledger_errors import LedgerError

_INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"})


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str  # as DuckDB reports it: VARCHAR, DECIMAL(18,4), TIMESTAMP WITH TIME ZONE, JSON ...
    precision: int | None
    scale: int | None

    @property
    def is_decimal(self) -> bool:
        return self.data_type.startswith("DECIMAL")

    @property
    def is_integer(self) -> bool:
        return self.data_type in _INTEGER_TYPES

    @property
    def is_json(self) -> bool:
        return self.data_type == "JSON"

    @property
    def is_timestamp(self) -> bool:
        return self.data_type.startswith("TIMESTAMP")


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: exact text for Decimals, ISO for datetimes, values for enums."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def to_json_text(value: Any) -> str:
    return json.dumps(value, default=json_default, sort_keys=True, ensure_ascii=False)


def _to_decimal(table: str, col: ColumnInfo, value: Any) -> Decimal:
    where = f"{table}.{col.name}"
    if isinstance(value, bool):
        raise LedgerError(f"{where} is {col.data_type}; got a bool {value!r}")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise LedgerError(f"{where} is {col.data_type}; got {value!r}")
            number = Decimal(repr(value))
        elif isinstance(value, str):
            number = Decimal(value.strip())
        elif hasattr(value, "item"):  # numpy scalar
            return _to_decimal(table, col, value.item())
        else:
            raise LedgerError(f"{where} is {col.data_type}; got {type(value).__name__} {value!r}")
    except InvalidOperation as exc:
        raise LedgerError(f"{where} is {col.data_type}; {value!r} is not a number") from exc
    if not number.is_finite():
        raise LedgerError(f"{where} is {col.data_type}; got {value!r}")
    scale = col.scale or 0
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > scale and number != number.quantize(Decimal(1).scaleb(-scale)):
        raise LedgerError(
            f"{where} holds {scale} decimal places; {value!r} has more and would be rounded. "
            "Snap the value (e.g. to the tick) before recording it"
        )
    precision = col.precision or 18
    if abs(number) >= Decimal(10) ** (precision - scale):
        raise LedgerError(f"{where} is {col.data_type}; {value!r} is too large")
    return number


def coerce(table: str, col: ColumnInfo, value: Any) -> Any:
    """Return ``value`` in the form DuckDB stores exactly for ``col``; raise LedgerError if it cannot."""
    if value is None:
        return None
    if col.is_decimal:
        return _to_decimal(table, col, value)
    if col.is_json:
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                return to_json_text(value)
            return value
        return to_json_text(value)
    if col.is_integer and isinstance(value, float | Decimal):
        whole = value.is_integer() if isinstance(value, float) else value == value.to_integral_value()
        if not whole:
            raise LedgerError(f"{table}.{col.name} holds whole numbers; got {value!r}")
        return int(value)
    if col.is_timestamp:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise LedgerError(
                    f"{table}.{col.name} needs a timezone-aware datetime; got naive {value.isoformat()} "
                    "(use datetime.now(timezone.utc) or attach HK_TZ)"
                )
            return value.astimezone(dt.UTC)
        if isinstance(value, str):
            return value
        raise LedgerError(f"{table}.{col.name} is a timestamp; got {type(value).__name__} {value!r}")
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, str | int) else value.name
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        return value.item()
    return value
