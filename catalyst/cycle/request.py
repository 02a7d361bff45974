"""What a trading cycle is asked to do (the notebook's parameters, validated) and the limits it uses."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from catalyst.cycle.errors import CycleParameterError
from catalyst.market import UnknownSymbolError, security, universe
from catalyst.risk.errors import RiskInputError
from catalyst.risk.limits import RiskLimits

DEFAULT_STRATEGY = "catalyst-momentum"
#: The most symbols a cycle scans when none are named (the shipped universe has 20; an imported
#: HKEX list has thousands, far beyond IB's historical-data pacing).
MAX_UNNAMED_SCAN = 50


@dataclass(frozen=True)
class CycleRequest:
    """One cycle's parameters. ``universe`` empty means every symbol of ``catalyst.market``'s universe."""

    run_id: str
    strategy: str = DEFAULT_STRATEGY
    strategy_params: Mapping[str, Any] = field(default_factory=dict)
    universe: tuple[str, ...] = ()
    limit_overrides: Mapping[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    lookback_days: int = 20
    bar_size: str = "1 min"

    def __post_init__(self) -> None:
        if not self.run_id:
            raise CycleParameterError("a trading cycle needs a run id (the runner injects one)")
        if not 1 <= self.lookback_days <= 365:
            raise CycleParameterError(f"lookback_days must be 1..365, got {self.lookback_days}")

    def symbols(self) -> list[str]:
        """The universe to scan, each symbol checked against ``catalyst.market``."""
        if not self.universe:
            every = sorted(universe(), key=lambda s: int(s) if s.isdigit() else s)
            if len(every) > MAX_UNNAMED_SCAN:
                raise CycleParameterError(
                    f"universe: none named, and the active universe has {len(every):,} tradable "
                    f"securities; a cycle requests bars for every symbol it scans (IB allows about 60 "
                    f"historical-data requests in 10 minutes), so name at most {MAX_UNNAMED_SCAN} with "
                    "-p universe 700,5,1299 (or the notebook's universe parameter)"
                )
            return every
        out = []
        for raw in self.universe:
            try:
                out.append(security(str(raw)).symbol)
            except UnknownSymbolError as exc:
                raise CycleParameterError(f"universe: {exc}") from exc
        return out


def as_universe(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A notebook's ``universe`` parameter: ``"700,5,1299"``, a list, or empty/None for all."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return tuple(s.strip() for s in items if s.strip())


_INT_FIELDS = {"max_positions", "no_entry_minutes_before_close"}
_BOOL_FIELDS = {"allow_shorts"}
_DECIMAL_FIELDS = {
    "max_risk_fraction",
    "max_notional_per_position",
    "daily_loss_limit",
    "daily_loss_fraction",
}


def limits_with_overrides(base: RiskLimits, overrides: Mapping[str, Any]) -> RiskLimits:
    """``base`` with the notebook's limit overrides (names of :class:`RiskLimits` fields), each
    checked against its field's type: a wrong type or value names the override and nothing runs."""
    known = {f.name for f in dataclasses.fields(RiskLimits)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise CycleParameterError(f"unknown limit override(s) {unknown}; known: {sorted(known)}")
    values = {name: _override_value(name, value) for name, value in overrides.items()}
    try:
        return dataclasses.replace(base, **values)
    except RiskInputError as exc:
        raise CycleParameterError(f"limit overrides {dict(overrides)!r}: {exc}") from exc


def _override_value(name: str, value: Any) -> Any:
    if name in _DECIMAL_FIELDS:
        if value is None and name != "max_risk_fraction":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise CycleParameterError(f"limit override {name}={value!r} is not a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise CycleParameterError(f"limit override {name}={value!r} is not a number") from exc
        if not number.is_finite():
            raise CycleParameterError(f"limit override {name}={value!r} is not a finite number")
        return number
    if name in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CycleParameterError(f"limit override {name}={value!r} is not a whole number")
        return value
    if name in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise CycleParameterError(f"limit override {name}={value!r} is not true or false")
        return value
    if not isinstance(value, str):
        raise CycleParameterError(f"limit override {name}={value!r} is not text")
    return value
