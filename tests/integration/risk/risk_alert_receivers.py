"""Real local receivers for alert delivery: an SMTP server (aiosmtpd) and an HTTP endpoint."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpReceiver:
    port: int
    messages: list[Any] = field(default_factory=list)
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return (
            f"mailto://catalyst@127.0.0.1:{self.port}?smtp=127.0.0.1&mode=insecure"
            "&from=catalyst@localhost&to=trader@localhost&cto=2"
        )

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def bodies(self) -> list[str]:
        return [bytes(m.content).decode("utf-8", "replace") for m in self.messages]


@dataclass
class HttpReceiver:
    server: ThreadingHTTPServer
    posts: list[dict[str, Any]]

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/alerts"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
