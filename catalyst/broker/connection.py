"""One ib_async connection to a gateway: connect with clear errors, reconnect with backoff.

IB Gateway restarts every night and IB's servers reset around it (errors 1100/1101/1102), so a
lost connection is normal. While the connection is down, or connectivity is lost, or the session
is resynchronising after a reconnect, :attr:`BrokerConnection.ready` is cleared and every new
submission waits for it. After each (re)connect the owner's ``resync`` coroutine runs (open
orders of all clients, positions, executions: fills made while disconnected arrive only this way)
before submissions are released.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, NoReturn

import structlog
from ib_async import IB

from catalyst.broker.errors import (
    AccountNotManagedError,
    BrokerNotConnectedError,
    BrokerTimeoutError,
    ClientIdInUseError,
    GatewayUnreachableError,
)
from catalyst.broker.market_data_entitlements import market_data_type_code
from catalyst.broker.report_log import BrokerReports

log = structlog.get_logger(__name__)

#: Seconds to wait before each reconnect attempt; the last value repeats until close().
DEFAULT_RECONNECT_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)

#: IB allows 50 messages a second from a client. The limiter counts at the sender, IB at the receiver:
#: jitter on the way can bunch messages, so Catalyst keeps a 20% margin (ib_async's own default is 45).
MAX_MESSAGES_PER_SECOND = 40

Resync = Callable[[str], Awaitable[None]]


def resolve_account(configured: str, managed: Sequence[str]) -> str:
    """The one account a session acts for: the configured one, which the gateway login must manage,
    else the login's only account. Several accounts and none configured, or none at all, is refused
    (:class:`AccountNotManagedError`): every ledger row, risk state, lease and alert carries it."""
    accounts = [a.strip() for a in managed if a and a.strip()]
    wanted = configured.strip()
    if wanted:
        if wanted not in accounts:
            raise AccountNotManagedError(
                f"account {wanted} is not managed by this gateway login (it manages "
                f"{', '.join(accounts) or 'none'}); fix broker.account or log in to the right account"
            )
        return wanted
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        raise AccountNotManagedError(
            "the gateway reported no managed account at connect, so Catalyst cannot tell which account "
            "it trades; check the login in IB Gateway/TWS, or set broker.account"
        )
    raise AccountNotManagedError(
        f"the gateway manages several accounts ({', '.join(accounts)}) and none is configured; set "
        f"broker.account (catalyst.toml, or CATALYST_BROKER__ACCOUNT) to the one to trade, e.g. {accounts[0]}"
    )


class BrokerConnection:
    """Owns the :class:`ib_async.IB` instance; the rest of the broker package borrows it."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: int,
        account: str,
        connect_timeout: float,
        readonly: bool,
        reports: BrokerReports,
        resync: Resync | None = None,
        reconnect_delays: Sequence[float] = DEFAULT_RECONNECT_DELAYS,
        max_messages_per_second: int = MAX_MESSAGES_PER_SECOND,
        market_data_type: str = "live",
    ) -> None:
        self.host = host
        self.port = int(port)
        self.client_id = int(client_id)
        self.configured_account = account.strip()
        #: The account this session acts for, resolved at the first connect (:func:`resolve_account`)
        #: and never changed by a reconnect. Until then the configured one (possibly empty).
        self.account = self.configured_account
        self._session_account = ""
        self.connect_timeout = float(connect_timeout)
        self.readonly = readonly
        #: ``broker.market_data_type``: asked of IB (reqMarketDataType) at every (re)connect.
        self.market_data_type = market_data_type
        self.market_data_type_code = market_data_type_code(market_data_type)
        self.reports = reports
        self.resync: Resync | None = resync
        #: Coroutines that re-request a stream after IB dropped it (1101: "data lost").
        self.resubscribers: list[Callable[[], Awaitable[None]]] = []
        self.resubscriptions = 0
        self.reconnect_delays = tuple(reconnect_delays) or DEFAULT_RECONNECT_DELAYS
        self.ib = IB()
        self.ib.client.MaxRequests = max(1, min(int(max_messages_per_second), 50))
        self.ib.client.RequestsInterval = 1
        reports.install(self.ib)
        self.ready = asyncio.Event()
        self.state = "disconnected"
        self.epoch = 0  # bumped on every successful (re)connect
        self.reconnects = 0
        #: The newest pacing violation IB reported (error 100: too many messages a second), as
        #: (monotonic time, message): IB drops the request that broke the limit, so it is never answered.
        self.last_pacing_violation: tuple[float, str] | None = None
        self._closing = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.errorEvent += self._on_error

    # -- connect / close ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect, check the account, resynchronise, release submissions. Raises on failure."""
        self._closing = False
        await self._connect_once()
        await self._after_connect("connect")

    async def close(self) -> None:
        self._closing = True
        self.ready.clear()
        for task in (self._reconnect_task, self._resync_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.ib.isConnected():
            self.ib.disconnect()
        self.state = "closed"
        self.reports.notify()
        log.info("broker.connection.closed", host=self.host, port=self.port, client_id=self.client_id)

    @property
    def connected(self) -> bool:
        return self.ib.isConnected() and self.ib.client.isReady()

    async def wait_ready(self, timeout: float) -> None:
        """Wait until connected and resynchronised, or raise BrokerNotConnectedError."""
        if self._closing:
            raise BrokerNotConnectedError("the broker session is closed; connect a new session")
        if self.ready.is_set() and self.connected:
            return
        log.warning("broker.connection.holding", state=self.state, timeout=timeout)
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError as exc:
            raise BrokerNotConnectedError(
                f"not connected to the gateway at {self.host}:{self.port} (state {self.state}) after "
                f"waiting {timeout:.0f}s; nothing was sent. Check that the gateway is running"
            ) from exc

    async def _connect_once(self) -> None:
        self.state = "connecting"
        with self._refusal_watch() as refused:
            self._log_connect_request()
            await self._handshake(refused)
        accounts = list(self.ib.managedAccounts())
        self.account = self._session_account = self._check_account(accounts)
        self.ib.reqMarketDataType(self.market_data_type_code)  # IB keeps it per connection
        log.info(
            "broker.connect.ok",
            market_data_type=self.market_data_type,
            host=self.host,
            port=self.port,
            client_id=self.client_id,
            account=self.account,
            managed_accounts=accounts,
            server_version=self.ib.client.serverVersion(),
        )

    @contextlib.contextmanager
    def _refusal_watch(self) -> Iterator[asyncio.Future[str]]:
        """A future set to the gateway's message when it refuses the client id during the handshake
        (IB error 326, or ib_async's "already in use" API error); listening only inside the block."""
        refused: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_error(req_id: int, code: int, message: str, contract: Any) -> None:
            if code == 326 and not refused.done():
                refused.set_result(message)

        def on_api_error(message: str) -> None:
            if "already in use" in message and not refused.done():
                refused.set_result(message)

        self.ib.errorEvent += on_error
        self.ib.client.apiError += on_api_error
        try:
            yield refused
        finally:
            self.ib.errorEvent -= on_error
            self.ib.client.apiError -= on_api_error
            if not refused.done():
                refused.cancel()

    def _log_connect_request(self) -> None:
        log.info(
            "broker.connect.request",
            host=self.host,
            port=self.port,
            client_id=self.client_id,
            account=self.configured_account,
            readonly=self.readonly,
            timeout=self.connect_timeout,
        )

    async def _handshake(self, refused: asyncio.Future[str]) -> None:
        """ib_async's connect, or the specific error that says why it failed."""
        task = asyncio.ensure_future(
            self.ib.connectAsync(
                self.host,
                self.port,
                clientId=self.client_id,
                timeout=self.connect_timeout,
                readonly=self.readonly,
                account="",
            )
        )
        try:
            done, _ = await asyncio.wait({task, refused}, return_when=asyncio.FIRST_COMPLETED)
            if refused in done:
                await self._refuse(task)
            self._check_handshake(task)
        except TimeoutError as exc:
            self.ib.disconnect()
            raise BrokerTimeoutError(
                f"the gateway at {self.host}:{self.port} accepted the connection but did not complete "
                f"the API handshake within {self.connect_timeout:.0f}s; check that the API is enabled "
                "and that no dialog is waiting for confirmation in IB Gateway/TWS"
            ) from exc

    async def _refuse(self, task: asyncio.Future[Any]) -> NoReturn:
        """The gateway refused the client id: stop the handshake and say so."""
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        self.ib.disconnect()
        raise ClientIdInUseError(
            f"the gateway at {self.host}:{self.port} refused client id {self.client_id}: it is "
            "already in use (IB error 326). Close the other session or set broker.client_id "
            "to a free id"
        )

    def _check_handshake(self, task: asyncio.Future[Any]) -> None:
        """The finished handshake's outcome: nothing, a TimeoutError, or the specific error."""
        try:
            task.result()
        except TimeoutError:
            raise
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise GatewayUnreachableError(
                f"nothing is listening at {self.host}:{self.port}: start the gateway (`catalyst "
                "gateway start` for the simulator, IB Gateway/TWS for paper or live) and check "
                f"broker.host/broker.port ({exc})"
            ) from exc
        except OSError as exc:
            self.ib.disconnect()
            raise BrokerNotConnectedError(
                f"the gateway at {self.host}:{self.port} closed the connection during the handshake "
                f"({exc}); if another session uses client id {self.client_id}, pick another one"
            ) from exc

    def _check_account(self, accounts: list[str]) -> str:
        """The account this connection acts for (:func:`resolve_account`), which a reconnect may not
        change; on refusal the connection is dropped."""
        try:
            resolved = resolve_account(self.configured_account, accounts)
            if self._session_account and resolved != self._session_account:
                raise AccountNotManagedError(
                    f"after reconnecting, the gateway at {self.host}:{self.port} manages "
                    f"{', '.join(accounts) or 'no account'}, not this session's account "
                    f"{self._session_account}; the session does not switch accounts. Log the gateway in "
                    "to the same account, or restart the process"
                )
        except AccountNotManagedError:
            self.ib.disconnect()
            raise
        return resolved

    async def _after_connect(self, reason: str) -> None:
        self.epoch += 1
        self.state = "resyncing"
        if self.resync is not None:
            await self.resync(reason)
        if self.state == "connectivity_lost":  # a 1100 arrived during the resync: keep holding
            log.warning("broker.connection.lost_during_resync", reason=reason, epoch=self.epoch)
            return
        self.state = "ready"
        self.ready.set()
        self.reports.notify()
        log.info("broker.connection.ready", reason=reason, epoch=self.epoch)

    # -- disconnects and connectivity notices ------------------------------------------------------

    def _on_disconnected(self) -> None:
        self.ready.clear()
        self.reports.notify()
        if self._closing:
            return
        self.state = "reconnecting"
        log.critical("broker.connection.lost", host=self.host, port=self.port, client_id=self.client_id)
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.ensure_future(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delays = itertools.chain(self.reconnect_delays, itertools.repeat(self.reconnect_delays[-1]))
        for attempt, delay in enumerate(delays, start=1):
            if self._closing:
                return
            await asyncio.sleep(delay)  # backoff between attempts, not a wait for an event
            if self._closing:
                return
            try:
                await self._connect_once()
            except (
                GatewayUnreachableError,
                ClientIdInUseError,
                BrokerTimeoutError,
                BrokerNotConnectedError,
                OSError,
            ) as exc:
                log.warning("broker.reconnect.failed", attempt=attempt, delay=delay, error=str(exc))
                continue
            except AccountNotManagedError as exc:
                log.critical("broker.reconnect.account_gone", attempt=attempt, error=str(exc))
                continue
            self.reconnects += 1
            self.reports.forget_order_ids()
            try:
                await self._after_connect("reconnect")
            except Exception as exc:  # a failed resync leaves submissions held; try again
                log.exception("broker.reconnect.resync_failed", attempt=attempt, error=str(exc))
                self.ready.clear()
                if self.ib.isConnected():
                    self.ib.disconnect()
                continue
            log.warning("broker.reconnect.ok", attempt=attempt, reconnects=self.reconnects)
            return

    def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None:
        if code == 100:
            self.last_pacing_violation = (time.monotonic(), message)
            log.error("broker.pacing_violation", code=code, message=message, client_id=self.client_id)
        elif code == 1100:
            self.ready.clear()
            self.state = "connectivity_lost"
            self.reports.notify()
            log.critical("broker.connectivity.lost", code=code, message=message)
        elif code in (1101, 1102):
            log.warning("broker.connectivity.restored", code=code, message=message, data_lost=code == 1101)
            if self._resync_task is None or self._resync_task.done():
                self._resync_task = asyncio.ensure_future(self._restored(code))

    async def _restored(self, code: int) -> None:
        """After 1101 (subscriptions lost) subscribe again, then resync; after 1102 only resync."""
        try:
            if code == 1101:
                await self.resubscribe()
            await self._after_connect(f"connectivity-{code}")
        except Exception as exc:  # submissions stay held; the next reconnect or notice tries again
            log.exception("broker.connectivity.resync_failed", code=code, error=str(exc))
            self.ready.clear()
            self.state = "connectivity_lost"
            self.reports.notify()

    async def resubscribe(self) -> None:
        """Request again what this connection streams: the account's updates (ib_async subscribes
        them at connect; IB drops them with 1101) and whatever the owners registered in
        :attr:`resubscribers` (market data streams, for instance)."""
        account = self.account
        log.warning("broker.connectivity.resubscribe", account=account, extra=len(self.resubscribers))
        if account:
            await asyncio.wait_for(self.ib.reqAccountUpdatesAsync(account), self.connect_timeout)
            await asyncio.wait_for(self.ib.reqAccountUpdatesMultiAsync(account), self.connect_timeout)
        for again in list(self.resubscribers):
            await again()
        self.resubscriptions += 1
        log.info("broker.connectivity.resubscribed", account=account)
