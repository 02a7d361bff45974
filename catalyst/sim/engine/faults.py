"""Which faults are switched on, with their parameters.

Engine faults act inside the exchange (``drop-children``, ``reject-children``, ``partial-fills``,
``drift``); connection faults (``latency``, ``disconnect``, ``restart``, ``pacing``,
``connectivity``) are acted on by the protocol server and only stored here so
:meth:`FaultBoard.active` reports them too; market-data faults (``no-market-data``, see
:mod:`catalyst.sim.gateway.entitlements`) are stored here and read by the server's market-data and
historical-data handlers. :func:`unknown_fault` is the one refusal of a name the
simulator does not know, whichever layer meets it.
"""

from __future__ import annotations

from catalyst.sim.engine.errors import UnknownFaultError

ENGINE_FAULT_NAMES = ("drop-children", "reject-children", "partial-fills", "drift")
SERVER_FAULT_NAMES = ("latency", "disconnect", "restart", "pacing", "connectivity")
DATA_FAULT_NAMES = ("no-market-data",)
FAULT_NAMES = ENGINE_FAULT_NAMES + SERVER_FAULT_NAMES + DATA_FAULT_NAMES


def unknown_fault(name: str) -> UnknownFaultError:
    """The refusal of a fault name the simulator does not implement, listing the ones it does."""
    return UnknownFaultError(f"unknown fault {name!r}; the simulator knows {', '.join(FAULT_NAMES)}")


class FaultBoard:
    """The switched-on faults: name -> parameters."""

    def __init__(self, active: dict[str, dict[str, object]] | None = None) -> None:
        self._active: dict[str, dict[str, object]] = {}
        for name, params in (active or {}).items():
            self.set(name, True, params)

    def set(self, name: str, on: bool, params: dict[str, object] | None = None) -> None:
        if name not in FAULT_NAMES:
            raise unknown_fault(name)
        if on:
            self._active[name] = dict(params or {})
        else:
            self._active.pop(name, None)

    def is_on(self, name: str) -> bool:
        return name in self._active

    def params(self, name: str) -> dict[str, object]:
        return dict(self._active.get(name, {}))

    def int_param(self, name: str, key: str, default: int) -> int:
        value = self._active.get(name, {}).get(key, default)
        try:
            return int(str(value))
        except ValueError:
            raise ValueError(f"fault {name} parameter {key} must be a whole number, got {value!r}") from None

    def active(self) -> dict[str, dict[str, object]]:
        return {k: dict(v) for k, v in self._active.items()}
