"""The gateway's control channel: a loopback JSON-lines endpoint for tests, the CLI and demos.

Each request is one line ``{"cmd": "...", "args": {...}}``; each answer one line
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. The endpoint runs on the
gateway's event loop, so commands see and change the engine exactly as client requests do, and
their events (fills from ``advance``, a position from ``drift``) reach the connected clients.

:class:`GatewayControl` is the client: ``GatewayControl(state_dir)`` reads the address from
``state_dir/gateway.json``; ``GatewayControl("127.0.0.1:4102")`` or ``(host, port)`` also work.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from catalyst.sim.gateway.server import GatewayServer

log = structlog.get_logger(__name__)

GATEWAY_FILE = "gateway.json"
PID_FILE = "gateway.pid"


class GatewayControlError(RuntimeError):
    """The control channel could not be reached, or the gateway refused the command."""


def to_jsonable(value: Any) -> Any:
    """Engine values as JSON: dataclasses as dicts, Decimal as text, datetimes as ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if "action" in out:
            out["side"] = out["action"]
        if "total_quantity" in out and "filled" in out:
            out["remaining"] = to_jsonable(getattr(value, "remaining", None))
        return out
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class ControlServer:
    """Answers control commands for one :class:`GatewayServer`."""

    def __init__(
        self,
        gateway: GatewayServer,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_stop: Callable[[], None] | None = None,
        info: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.gateway = gateway
        self.host = host
        self.port = port
        self._on_stop = on_stop
        self._info = info
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("sim.control.listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                answer = await self.execute_line(line)
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the peer went away, or the gateway is shutting down
        finally:
            writer.close()

    async def execute_line(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            cmd = str(request["cmd"])
            args = dict(request.get("args") or {})
        except (ValueError, KeyError, TypeError) as exc:
            return {"ok": False, "error": f"bad control request: {exc}"}
        handler = getattr(self, f"_cmd_{cmd}", None)
        if handler is None:
            return {"ok": False, "error": f"unknown control command {cmd!r}"}
        try:
            result = handler(**args)
            if asyncio.iscoroutine(result):
                result = await result
        except Exception as exc:
            log.warning("sim.control.command_failed", cmd=cmd, error=str(exc))
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        log.info("sim.control.command", cmd=cmd, args={k: str(v) for k, v in args.items()})
        return {"ok": True, "result": to_jsonable(result)}

    # --- commands -------------------------------------------------------------------------------

    @property
    def _ex(self) -> Any:
        return self.gateway.exchange

    def _cmd_status(self) -> dict[str, Any]:
        g = self.gateway
        status: dict[str, Any] = {
            "host": g.host,
            "port": g.port,
            "control_port": self.port,
            "accepting": g.accepting,
            "clock": self._ex.now(),
            "accounts": list(self._ex.accounts),
            "clients": [
                {
                    "client_id": s.client_id,
                    "peer": s.peer,
                    "messages_in": s.messages_in,
                    "messages_out": s.messages_out,
                    "market_data": len(s.market_data),
                }
                for s in g.sessions.values()
            ],
            "connections_total": g.connections_total,
            "faults": g.fault_states(),
        }
        if self._info is not None:
            status.update(self._info())
        return status

    def _cmd_fault(self, name: str, on: bool, params: dict[str, Any] | None = None) -> Any:
        return self.gateway.set_fault(name, bool(on), **(params or {}))

    def _cmd_faults(self) -> Any:
        return self.gateway.fault_states()

    def _cmd_set_clock(self, ts: str) -> Any:
        when = datetime.fromisoformat(ts)
        if when.tzinfo is None:
            raise ValueError(f"set_clock needs a time zone in {ts!r}, e.g. 2026-11-24T10:00:00+08:00")
        self.gateway.dispatch(self._ex.set_clock(when))
        return self._ex.now()

    def _cmd_advance(self, seconds: float) -> Any:
        self.gateway.dispatch(self._ex.advance(float(seconds)))
        return self._ex.now()

    def _cmd_set_speed(self, x: float) -> Any:
        self._ex.set_speed(float(x))
        return float(x)

    def _cmd_move_price(self, symbol: str, pct: str | None = None, price: str | None = None) -> Any:
        self.gateway.dispatch(
            self._ex.move_price(
                symbol,
                pct=None if pct is None else Decimal(str(pct)),
                price=None if price is None else Decimal(str(price)),
            )
        )
        return self._ex.quote(symbol)

    def _cmd_drift(self, account: str, symbol: str, quantity: int) -> Any:
        self.gateway.dispatch(self._ex.drift(account, symbol, int(quantity)))
        return self._ex.positions(account)

    def _cmd_orders(self) -> Any:
        return self._ex.all_orders()

    def _cmd_executions(self) -> Any:
        return self._ex.all_executions()

    def _cmd_positions(self, account: str | None = None) -> Any:
        return self._ex.positions(account)

    def _cmd_quote(self, symbol: str) -> Any:
        return self._ex.quote(symbol)

    def _cmd_account_values(self, account: str) -> Any:
        return [list(v) for v in self._ex.account_values(account)]

    def _cmd_save(self) -> Any:
        self._ex.save()
        return True

    def _cmd_stop(self) -> Any:
        log.info("sim.control.stop_requested")
        if self._on_stop is not None:
            asyncio.get_running_loop().call_soon(self._on_stop)
        return True


def read_gateway_file(state_dir: Path | str) -> dict[str, Any]:
    """The running gateway's address record (host, port, control port, pid)."""
    path = Path(state_dir) / GATEWAY_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GatewayControlError(
            f"no gateway is running for state dir {state_dir} ({path} is missing); "
            "start one with `catalyst gateway start`"
        ) from None
    except ValueError as exc:
        raise GatewayControlError(
            f"{path} is not valid JSON ({exc}); remove it and restart the gateway"
        ) from None
    return data


class GatewayControl:
    """Client of the control channel (one short TCP connection per call)."""

    def __init__(self, target: Path | str | tuple[str, int], *, timeout: float = 10.0) -> None:
        self.timeout = timeout
        if isinstance(target, tuple):
            self.host, self.port = target[0], int(target[1])
        elif isinstance(target, str) and ":" in target and not Path(target).exists():
            host, _, port = target.rpartition(":")
            self.host, self.port = host, int(port)
        else:
            info = read_gateway_file(target)
            self.host, self.port = str(info["control_host"]), int(info["control_port"])

    def call(self, cmd: str, **args: Any) -> Any:
        request = json.dumps({"cmd": cmd, "args": args}).encode() + b"\n"
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                sock.sendall(request)
                buf = b""
                while not buf.endswith(b"\n"):
                    chunk = sock.recv(1 << 20)
                    if not chunk:
                        break
                    buf += chunk
        except OSError as exc:
            raise GatewayControlError(
                f"cannot reach the gateway's control channel at {self.host}:{self.port} ({exc}); "
                "is the gateway running? (`catalyst gateway status`)"
            ) from exc
        if not buf:
            raise GatewayControlError(f"the gateway at {self.host}:{self.port} closed the control connection")
        answer = json.loads(buf)
        if not answer.get("ok"):
            raise GatewayControlError(f"gateway refused {cmd!r}: {answer.get('error')}")
        return answer.get("result")

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("status")
        return result

    def fault(self, name: str, on: bool = True, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call("fault", name=name, on=on, params=params)
        return result

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("faults")
        return result

    def set_clock(self, ts: datetime | str) -> str:
        return str(self.call("set_clock", ts=ts.isoformat() if isinstance(ts, datetime) else ts))

    def advance(self, seconds: float) -> str:
        return str(self.call("advance", seconds=seconds))

    def set_speed(self, x: float) -> float:
        return float(self.call("set_speed", x=x))

    def move_price(
        self,
        symbol: str,
        pct: Decimal | float | str | None = None,
        price: Decimal | float | str | None = None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "move_price",
            symbol=symbol,
            pct=None if pct is None else str(pct),
            price=None if price is None else str(price),
        )
        return result

    def drift(self, account: str, symbol: str, quantity: int) -> list[dict[str, Any]]:
        return list(self.call("drift", account=account, symbol=symbol, quantity=quantity))

    def orders(self) -> list[dict[str, Any]]:
        return list(self.call("orders"))

    def executions(self) -> list[dict[str, Any]]:
        return list(self.call("executions"))

    def positions(self, account: str | None = None) -> list[dict[str, Any]]:
        return list(self.call("positions", account=account))

    def quote(self, symbol: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("quote", symbol=symbol)
        return result

    def account_values(self, account: str) -> list[list[str]]:
        return list(self.call("account_values", account=account))

    def save(self) -> None:
        self.call("save")

    def stop(self) -> None:
        self.call("stop")
