"""The small interface between the shared agent state machine and a vendor's device-side API.

A dialect adds one module with a :class:`DeviceProtocol` subclass (``agents/fl33t.py``,
``agents/memfault.py``; balena's register / target state / state report / logs will be one more)
and registers it in :data:`fake_api.agents.PROTOCOLS`. Each method makes the vendor's HTTP
requests for one step and turns the answers into plain facts:

* ``register(device)``: provision or register (store credentials on ``device.creds``);
* ``poll(device)`` -> :class:`PollReply`: the offer, if any, and a poll interval if the server
  dictates one;
* ``download(device, offer, start)`` -> :class:`~.transport.Reply` (200, or 206 from ``start``);
* ``report(device, outcome)``: tell the server how the update went (``None`` or a PollReply when
  the vendor's report is itself a poll, as fl33t's check-in is).

Unexpected answers raise :class:`ServerError` (with ``Retry-After`` when sent); a download URL
the server refuses (expired or altered signature) raises :class:`UrlRefused`. The agent decides
what to do about either.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Optional

from .transport import Reply, Transport


@dataclass(frozen=True)
class Offer:
    """An update the server offers: what to fetch and how to check it."""

    version: str
    ref: str
    url: str
    size: Optional[int] = None
    md5: Optional[str] = None
    sha256: Optional[str] = None


@dataclass(frozen=True)
class PollReply:
    offer: Optional[Offer] = None
    interval: Optional[float] = None


@dataclass(frozen=True)
class Outcome:
    """How an update attempt ended: ``ok``, the version now running, and why not when failed."""

    ok: bool
    version: Optional[str]
    target: str
    reason: str = ""
    device_time: float = 0.0


class ServerError(Exception):
    """The server answered something the device cannot use (a 4xx/5xx, a bad body)."""

    def __init__(self, status: int, message: str = "", retry_after: Optional[float] = None) -> None:
        super().__init__(f"{status} {message}".strip())
        self.status = status
        self.retry_after = retry_after

    @classmethod
    def from_reply(cls, reply: Reply, now: float = 0.0) -> ServerError:
        text = reply.body[:200].decode("utf-8", "replace")
        return cls(reply.status, text, retry_after(reply, now))


class UrlRefused(ServerError):
    """A signed download URL was refused (expired, altered): poll again for a fresh one."""


def retry_after(reply: Reply, now: float = 0.0) -> Optional[float]:
    """``Retry-After`` in seconds (delta-seconds, or an HTTP date read against ``now``)."""
    value = reply.header("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class DeviceProtocol:
    """Base class: holds the transport and the group's settings; subclasses speak the vendor."""

    dialect = ""
    #: True when ``report`` is itself a poll (fl33t's check-in carries the installed build).
    reports_by_polling = False

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def register(self, device: Any) -> None:
        raise NotImplementedError

    def poll(self, device: Any) -> PollReply:
        raise NotImplementedError

    def report(self, device: Any, outcome: Outcome) -> Optional[PollReply]:
        raise NotImplementedError

    def download(self, device: Any, offer: Offer, start: int = 0) -> Reply:
        """GET the offer's URL (from byte ``start`` with ``Range``); 200 or 206, else raise."""
        headers = {"Accept": "*/*"}
        if start:
            headers["Range"] = f"bytes={start}-"
        reply = self.transport.request("GET", offer.url, headers)
        if reply.status in (200, 206):
            return reply
        if reply.status in (401, 403, 404, 410):
            raise UrlRefused(reply.status, reply.body[:200].decode("utf-8", "replace"))
        raise ServerError.from_reply(reply, device.now)

    def describe_group(self) -> dict[str, Any]:
        """The group's settings, for reports (no secrets)."""
        return {}
