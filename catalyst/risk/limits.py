"""The numbers the risk layers enforce, as one frozen value built from settings.

Kept apart from the checks so a backtest, a notebook or a test can state its own limits
without a settings file.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from catalyst.risk.errors import RiskInputError

MissingProtection = Literal["recreate", "flatten"]


@dataclass(frozen=True)
class RiskLimits:
    """Limits for layers 1-3.

    ``max_risk_fraction`` is a fraction of equity (0.01 = 1 %); ``daily_loss_fraction`` likewise
    of start-of-day equity. ``None`` disables a money limit.
    """

    max_positions: int = 10
    max_risk_fraction: Decimal = Decimal("0.01")
    max_notional_per_position: Decimal | None = None
    daily_loss_limit: Decimal | None = None
    daily_loss_fraction: Decimal | None = Decimal("0.03")
    allow_shorts: bool = False
    no_entry_minutes_before_close: int = 15
    missing_protection: MissingProtection = "recreate"

    def __post_init__(self) -> None:
        if self.max_positions < 0:
            raise RiskInputError(f"risk.max_positions must be >= 0, got {self.max_positions}")
        if not Decimal(0) < self.max_risk_fraction <= Decimal(1):
            raise RiskInputError(
                f"max risk per trade must be a fraction of equity in (0, 1], got {self.max_risk_fraction}"
            )
        if self.max_notional_per_position is not None and self.max_notional_per_position <= 0:
            raise RiskInputError("risk.max_notional_per_position must be positive when set")
        if self.daily_loss_limit is not None and self.daily_loss_limit <= 0:
            raise RiskInputError("risk.daily_loss_limit_hkd must be a positive amount of HKD when set")
        if self.daily_loss_fraction is not None and not Decimal(0) < self.daily_loss_fraction <= 1:
            raise RiskInputError("risk.daily_loss_limit_pct must be a percentage in (0, 100] when set")
        if self.no_entry_minutes_before_close < 0:
            raise RiskInputError("risk.no_entry_minutes_before_close must be >= 0")
        if self.missing_protection not in ("recreate", "flatten"):
            raise RiskInputError(
                f"risk.missing_protection must be 'recreate' or 'flatten', got {self.missing_protection!r}"
            )

    @classmethod
    def from_settings(cls, settings: Any) -> RiskLimits:
        """Build from ``Settings.risk`` (percent settings become fractions here)."""
        risk = settings.risk
        defaults = cls()

        def dec(value: Any) -> Decimal | None:
            return None if value is None else Decimal(str(value))

        risk_pct = dec(getattr(risk, "max_risk_per_trade_pct", None))
        loss_pct = dec(getattr(risk, "daily_loss_limit_pct", None))
        return cls(
            max_positions=int(getattr(risk, "max_positions", defaults.max_positions)),
            max_risk_fraction=defaults.max_risk_fraction if risk_pct is None else risk_pct / 100,
            max_notional_per_position=dec(getattr(risk, "max_notional_per_position_hkd", None)),
            daily_loss_limit=dec(getattr(risk, "daily_loss_limit_hkd", None)),
            daily_loss_fraction=None if loss_pct is None else loss_pct / 100,
            allow_shorts=bool(getattr(risk, "allow_shorts", False)),
            no_entry_minutes_before_close=int(
                getattr(risk, "no_entry_minutes_before_close", defaults.no_entry_minutes_before_close)
            ),
            missing_protection=getattr(risk, "missing_protection", "recreate"),
        )
