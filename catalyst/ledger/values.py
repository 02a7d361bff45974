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

from catalyst.ledger.errors import LedgerError

_INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"})

#: Ranges of the signed integer types, checked before a value is journaled (the cast happens later).
_INTEGER_RANGES = {
    "TINYINT": 1 << 7,
    "SMALLINT": 1 << 15,
    "INTEGER": 1 << 31,
    "BIGINT": 1 << 63,
}


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str  # as DuckDB reports it: VARCHAR, DECIMAL(18,4), TIMESTAMP WITH TIME ZONE, JSON ...
    precision: int | None
    scale: int | None
    nullable: bool = True
    has_default: bool = False

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


def column_text(table: str, col: ColumnInfo, value: Any) -> str | None:
    """A coerced value as the exact text DuckDB casts back to it (for the journal); raise if it cannot.

    The journal is ingested later, by whichever process reads next: a value that would fail there
    must fail here, in the caller's ``append``, naming the column.
    """
    if value is None:
        return None
    where = f"{table}.{col.name}"
    if col.is_decimal:
        return (
            format(value, "f") if isinstance(value, Decimal) else format(_to_decimal(table, col, value), "f")
        )
    if col.is_integer:
        return _integer_text(where, col, value)
    if col.data_type in ("DOUBLE", "FLOAT", "REAL"):
        return _float_text(where, col, value)
    if col.data_type == "BOOLEAN":
        return _bool_text(where, value)
    if col.is_timestamp:
        return _timestamp_text(where, value)
    if col.is_json or col.data_type == "VARCHAR":
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float | Decimal):
            return str(value)
        raise LedgerError(f"{where} is {col.data_type}; got {type(value).__name__} {value!r}")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _integer_text(where: str, col: ColumnInfo, value: Any) -> str:
    try:
        number = int(value.strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise LedgerError(f"{where} holds whole numbers; got {type(value).__name__} {value!r}") from None
    if isinstance(value, float) and not value.is_integer():
        raise LedgerError(f"{where} holds whole numbers; got {value!r}")
    bound = _INTEGER_RANGES.get(col.data_type)
    if bound is not None and not -bound <= number < bound:
        raise LedgerError(f"{where} is {col.data_type}; {value!r} is out of its range")
    return str(number)


def _float_text(where: str, col: ColumnInfo, value: Any) -> str:
    if isinstance(value, bool):
        raise LedgerError(f"{where} is {col.data_type}; got a bool {value!r}")
    try:
        return repr(float(value.strip() if isinstance(value, str) else value))
    except (TypeError, ValueError):
        raise LedgerError(f"{where} is {col.data_type}; got {type(value).__name__} {value!r}") from None


def _bool_text(where: str, value: Any) -> str:
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "t", "f", "1", "0"):
        return "true" if value.strip().lower() in ("true", "t", "1") else "false"
    raise LedgerError(f"{where} is BOOLEAN; got {type(value).__name__} {value!r}")


def _timestamp_text(where: str, value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise LedgerError(f"{where} is a timestamp; {value!r} is not an ISO date and time") from None
    raise LedgerError(f"{where} is a timestamp; got {type(value).__name__} {value!r}")
