"""Errors the simulated exchange raises to its caller (the protocol server, a test, the CLI).

Order problems are never raised: they are IB-style ``OrderRejected`` events (110, 201, ...), because
that is what a client of a real gateway sees. These exceptions are for misuse of the engine API.
"""

from __future__ import annotations

from catalyst.errors import CatalystError


class SimError(CatalystError):
    """Base class of the simulator's own errors."""


class UnknownSimContractError(SimError, KeyError):
    """A symbol or conId the simulator does not list."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class BarRequestError(SimError, ValueError):
    """A historical-data request the simulator cannot answer (bad duration or bar size)."""


class SimClockError(SimError, ValueError):
    """The simulated clock was asked to do something impossible (go backwards, negative speed)."""


class ClockBehindStateError(SimClockError):
    """A start time (``--clock``) earlier than the clock of the saved state being restored."""


class UnknownFaultError(SimError, ValueError):
    """A fault name the simulator does not implement."""


class FaultParameterError(SimError, ValueError):
    """A fault parameter out of range or of the wrong kind (e.g. ``restore=1103``)."""


class SimStateError(SimError, RuntimeError):
    """The state file cannot be read or written (corrupt, from another version, locked)."""


class UnknownAccountError(SimError, KeyError):
    """An account id the simulator does not manage."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
