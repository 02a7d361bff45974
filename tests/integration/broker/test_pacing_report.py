"""A request IB drops for pacing (error 100) is reported as a pacing violation, not as a gateway that
"did not answer server time within 30s"."""

from __future__ import annotations

import pytest
from broker_harness import GatewayTarget, run_session

from catalyst.broker import BrokerSession
from catalyst.broker.errors import BrokerPacingError

pytestmark = pytest.mark.integration


def test_a_request_dropped_for_pacing_says_so(gateway: GatewayTarget) -> None:
    control = gateway.require_control()

    async def flood(session: BrokerSession) -> str:
        control.fault("pacing", True, limit=2, max_violations=1000)
        try:
            with pytest.raises(BrokerPacingError) as caught:
                for _ in range(20):  # back to back: far more than 2 messages a second
                    await session.queries.server_time()
            return str(caught.value)
        finally:
            control.fault("pacing", False)

    message = run_session(gateway, None, flood, broker={"request_timeout": 3})
    assert "pacing" in message and "error 100" in message
    assert "server time" in message, "the request that was dropped is named"
    assert "Max rate of messages per second has been exceeded" in message, "IB's own words are kept"
