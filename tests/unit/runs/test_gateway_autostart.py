"""Paper and live never start a gateway: they say what is not reachable."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from catalyst.runs.gateway_autostart import ensure_gateway, is_listening
from catalyst.runs.errors import GatewayUnreachableError


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_paper_and_live_refuse_to_start_anything_and_name_the_address(mode: str, tmp_path: Path) -> None:
    port = _closed_port()
    with pytest.raises(
        GatewayUnreachableError, match=f"nothing listens at 127.0.0.1:{port} \\({mode} mode\\)"
    ):
        ensure_gateway(mode=mode, host="127.0.0.1", port=port, state_dir=tmp_path)
    assert not (tmp_path / "sim").exists()


def test_a_listening_gateway_is_used_as_it_is(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = int(server.getsockname()[1])
        found = ensure_gateway(mode="paper", host="127.0.0.1", port=port, state_dir=tmp_path)
        assert (found.port, found.started) == (port, False)
        assert is_listening("127.0.0.1", port)
