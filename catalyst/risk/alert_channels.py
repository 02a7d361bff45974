"""Alert delivery through apprise: one URL per channel, each tried on its own.

Channel URLs carry tokens and passwords, so they come from the environment only
(``CATALYST_ALERT_URLS``) and are never logged: a channel is named by its scheme and host.
Each channel is notified separately so the ledger can say which ones failed and why.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import apprise
import structlog

from catalyst.risk.errors import AlertConfigError

log = structlog.get_logger(__name__)

ALERT_URLS_ENV = "CATALYST_ALERT_URLS"

#: apprise notification types, by Catalyst severity.
_NOTIFY_TYPE = {
    "info": apprise.NotifyType.INFO,
    "warning": apprise.NotifyType.WARNING,
    "critical": apprise.NotifyType.FAILURE,
}


def channel_urls_from_env(env: Mapping[str, str] | None = None) -> list[str]:
    """Read the channel URLs from ``CATALYST_ALERT_URLS`` (whitespace- or ``;``-separated).

    Commas are not separators because apprise URLs use them for lists of recipients.
    """
    source = os.environ if env is None else env
    text = source.get(ALERT_URLS_ENV, "")
    return [part for part in re.split(r"[\s;]+", text) if part]


def channel_label(url: str) -> str:
    """A name for a channel that is safe to log: scheme and host, no credentials or tokens."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


@dataclass(frozen=True)
class ChannelOutcome:
    """What happened when one channel was asked to deliver one alert."""

    channel: str
    delivered: bool
    error: str = ""


class AppriseChannels:
    """The configured alert channels. ``send`` tries every one and reports each outcome."""

    def __init__(self, urls: Sequence[str], *, min_interval: float | None = None) -> None:
        """``min_interval`` overrides apprise's per-service pause between two sends (5.5 s for
        most services); Catalyst's own dedup and rate limit already hold back floods."""
        self._channels: list[tuple[str, apprise.Apprise]] = []
        for url in urls:
            label = channel_label(url)
            notifier = apprise.Apprise()
            if not notifier.add(url):
                raise AlertConfigError(
                    f"alert channel {label} in {ALERT_URLS_ENV} is not a URL apprise understands; "
                    "check its scheme and parameters (https://github.com/caronc/apprise/wiki)"
                )
            if min_interval is not None:
                for service in notifier:
                    service.request_rate_per_sec = min_interval
            self._channels.append((label, notifier))

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, min_interval: float | None = None
    ) -> AppriseChannels:
        return cls(channel_urls_from_env(env), min_interval=min_interval)

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self._channels]

    def __len__(self) -> int:
        return len(self._channels)

    def send(self, title: str, body: str, severity: str) -> list[ChannelOutcome]:
        """Deliver to each channel; never raises for a channel that fails."""
        notify_type = _NOTIFY_TYPE.get(severity, apprise.NotifyType.WARNING)
        outcomes: list[ChannelOutcome] = []
        for label, notifier in self._channels:
            with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
                try:
                    ok = bool(notifier.notify(title=title, body=body or title, notify_type=notify_type))
                    error = "" if ok else _last_lines(captured.getvalue()) or "delivery failed"
                except Exception as exc:  # a plugin bug must not stop the other channels
                    ok, error = False, f"{type(exc).__name__}: {exc}"
            outcomes.append(ChannelOutcome(channel=label, delivered=ok, error=error))
            log.info("alerts.channel.sent" if ok else "alerts.channel.failed", channel=label, error=error)
        return outcomes


def _last_lines(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines)[-limit:]
