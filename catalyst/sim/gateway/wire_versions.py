"""Which server versions the simulator serves, and the version at which each field it sends first appears.

A real gateway lays every message out for the version it negotiated with that client, so a client
whose newest version is below 178 still reads its own layout. The thresholds below are the first
server version at which IB's official client decoder (``ibapi`` 10.x, ``decoder.py`` and
``orderdecoder.py``; the constant names are IB's ``MIN_SERVER_VER_*``) reads the field; where
the IB client library (2.1.0) or ``ib_insync`` read it at another version, ``docs/simulator.md`` says so.

Only these fields change between 157 and 178 in the messages the simulator sends; every other
message it sends has one layout across the whole range.

The encoders in ``wire_encode`` build a message for a given version. Called without one they
return :class:`VersionedFields`: the 178 layout, which any session can re-render for the version it
negotiated (``ClientSession.send`` does this), so code that builds messages need not know who reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec

#: The newest version the simulator announces (a real gateway's answer to the IB client library 2.1.0,
#: whose max is 178).
SERVER_VERSION = 178
#: The oldest client version served: IB's official client 9.81 (v100..157) negotiates 157; the IB client
#: library 2.1.0 and ib_insync 0.9.86 accept nothing older. A client whose newest version is below this
#: is refused.
MIN_CLIENT_VERSION = 157

# --- first server version of each field that changes inside 157..178 (IB's MIN_SERVER_VER_*) -------------

#: openOrder: ``duration`` after ``usePriceMgmtAlgo`` (the IB client library 2.1.0 and ib_insync
#: read it from 159).
DURATION = 158
#: openOrder: ``postToAts``.
POST_TO_ATS = 160
#: openOrder: ``autoCancelParent`` (completedOrder carries it at every version).
AUTO_CANCEL_PARENT = 162
#: contractDetails: one ``sizeMinTick`` after ``stockType``, at exactly this version (gone at 164).
FRACTIONAL_SIZE_SUPPORT = 163
#: contractDetails: no version field, no ``mdSizeMultiplier``; ``minSize, sizeIncrement,
#: suggestedSizeIncrement`` after ``stockType``.
SIZE_RULES = 164
#: error: ``advancedOrderRejectJson`` after the message text.
ADVANCED_ORDER_REJECT = 166
#: openOrder and completedOrder: ``minTradeQty, minCompeteSize, competeAgainstBestOffset,
#: midOffsetAtWhole, midOffsetAtHalf`` at the end.
PEGBEST_PEGMID_OFFSETS = 170
#: openOrder and completedOrder: ``faProfile`` (after ``faPercentage``) is sent only below this version.
FA_PROFILE_DESUPPORT = 177
#: execDetails: ``pendingPriceRevision`` at the end.
PENDING_PRICE_REVISION = 178

#: contractDetails below :data:`SIZE_RULES` starts with this message version (IB's decoder reads all of
#: reqId, underConId, longName, contractMonth.., evRule, secIdList from version 8).
CONTRACT_DETAILS_MESSAGE_VERSION = "8"


@dataclass(frozen=True)
class FieldChange:
    """One row of the table in ``docs/simulator.md``: a field and the versions that carry it."""

    message: str
    field: str
    first: int  # first server version that carries the field
    last: int | None = None  # last version that carries it (None: still there at 178)


FIELD_CHANGES: tuple[FieldChange, ...] = (
    FieldChange("openOrder", "duration", DURATION),
    FieldChange("openOrder", "postToAts", POST_TO_ATS),
    FieldChange("openOrder", "autoCancelParent", AUTO_CANCEL_PARENT),
    FieldChange("openOrder", "minTradeQty..midOffsetAtHalf (5)", PEGBEST_PEGMID_OFFSETS),
    FieldChange("openOrder", "faProfile", MIN_CLIENT_VERSION, FA_PROFILE_DESUPPORT - 1),
    FieldChange("completedOrder", "minTradeQty..midOffsetAtHalf (5)", PEGBEST_PEGMID_OFFSETS),
    FieldChange("completedOrder", "faProfile", MIN_CLIENT_VERSION, FA_PROFILE_DESUPPORT - 1),
    FieldChange("contractDetails", "version (8)", MIN_CLIENT_VERSION, SIZE_RULES - 1),
    FieldChange("contractDetails", "mdSizeMultiplier", MIN_CLIENT_VERSION, SIZE_RULES - 1),
    FieldChange("contractDetails", "sizeMinTick", FRACTIONAL_SIZE_SUPPORT, FRACTIONAL_SIZE_SUPPORT),
    FieldChange("contractDetails", "minSize, sizeIncrement, suggestedSizeIncrement", SIZE_RULES),
    FieldChange("error", "advancedOrderRejectJson", ADVANCED_ORDER_REJECT),
    FieldChange("execDetails", "pendingPriceRevision", PENDING_PRICE_REVISION),
)


class UnservedVersionError(ValueError):
    """A message was asked for at a server version the simulator does not serve."""


def check_served(version: int) -> int:
    if not MIN_CLIENT_VERSION <= version <= SERVER_VERSION:
        raise UnservedVersionError(
            f"server version {version} is outside what the simulator serves "
            f"({MIN_CLIENT_VERSION}..{SERVER_VERSION})"
        )
    return version


Fields = list[str]


class VersionedFields(list[str]):
    """A message's fields at :data:`SERVER_VERSION`, able to render itself at any served version."""

    __slots__ = ("_render",)

    def __init__(self, fields: Fields, render: Callable[[int], Fields]) -> None:
        super().__init__(fields)
        self._render = render

    def at_version(self, version: int) -> Fields:
        if version == SERVER_VERSION:
            return self
        return self._render(check_served(version))


P = ParamSpec("P")


def per_version(build: Callable[Concatenate[int, P], Fields]) -> Callable[P, VersionedFields]:
    """Turn ``build(version, *args)`` into ``encoder(*args)``: the 178 layout, re-renderable per version.

    ``encoder(*args).at_version(v)`` is ``build(v, *args)``.
    """

    @wraps(build)
    def encoder(*args: P.args, **kwargs: P.kwargs) -> VersionedFields:
        def render(version: int) -> Fields:
            return build(version, *args, **kwargs)

        return VersionedFields(build(SERVER_VERSION, *args, **kwargs), render)

    return encoder


def for_session(fields: Sequence[str], version: int) -> Sequence[str]:
    """The fields as a session at ``version`` must receive them (unversioned messages pass as they are)."""
    if isinstance(fields, VersionedFields):
        return fields.at_version(version)
    return fields
