"""How simulated devices reach the fake: straight into the WSGI app (default) or over HTTP.

Both transports take absolute URLs, because the fake hands devices absolute URLs (fl33t's
``download_url``, Memfault's artifact ``url``) and a device follows them as given. In process,
the scheme and host only choose what the app believes its own address is; every request goes to
the app, with no socket and no thread. Over HTTP (``HttpTransport``), requests reach any
``fleetsim serve``.

A dropped connection (a ``drop`` fault rule, a refused socket) raises :class:`TransportError`;
every HTTP answer, error statuses included, comes back as a :class:`Reply`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from ..wsgi import call_wsgi, wsgi_environ

DEFAULT_BASE_URL = "http://localhost"


class TransportError(Exception):
    """The exchange did not complete (connection dropped, refused, timed out)."""


@dataclass
class Reply:
    """An HTTP answer: status, headers (lower-case names) and the whole body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())


class Transport:
    """One method: ``request(method, url, headers, body) -> Reply``."""

    base_url: str = DEFAULT_BASE_URL

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def request(self, method: str, url: str, headers: Optional[Mapping[str, str]] = None,
                body: bytes = b"") -> Reply:  # pragma: no cover - interface
        raise NotImplementedError

    def set_time(self, timestamp: float) -> None:
        """Move the fake's clock (only a remote fake needs telling; see :class:`HttpTransport`)."""

    def close(self) -> None:
        """Release connections (nothing to do in process)."""


class InProcessTransport(Transport):
    """Calls the Flask app as a WSGI callable: the fastest path, and the default."""

    def __init__(self, app: Any, base_url: str = DEFAULT_BASE_URL) -> None:
        from ..app import DROP

        self.app = app
        self.base_url = base_url.rstrip("/")
        self._drop_key = DROP
        self.requests = 0

    def request(self, method: str, url: str, headers: Optional[Mapping[str, str]] = None,
                body: bytes = b"") -> Reply:
        environ = wsgi_environ(method, url, (headers or {}).items(), body)
        status, response_headers, data = call_wsgi(self.app, environ)
        self.requests += 1
        if environ.get(self._drop_key):
            raise TransportError("connection dropped (fleetsim fault)")
        return Reply(int(status[:3]), {k.lower(): v for k, v in response_headers}, data)


class HttpTransport(Transport):
    """Real HTTP with ``requests`` to a fake on another port (``fleetsim serve``).

    ``set_time`` moves the remote clock through ``POST /__fleetsim__/clock`` so the devices'
    virtual time and the server's agree (start the server with ``--virtual-clock``).
    """

    def __init__(self, base_url: str, timeout: float = 30.0, sync_clock: bool = True) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.sync_clock = sync_clock
        self._session = requests.Session()
        self._session.trust_env = False  # a local fake: never through a proxy
        self._last_time: Optional[float] = None
        self.requests = 0

    def request(self, method: str, url: str, headers: Optional[Mapping[str, str]] = None,
                body: bytes = b"") -> Reply:
        import requests

        try:
            answer = self._session.request(method, url, headers=dict(headers or {}),
                                           data=body or None, timeout=self.timeout,
                                           allow_redirects=False)
        except requests.RequestException as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from None
        self.requests += 1
        return Reply(answer.status_code, {k.lower(): v for k, v in answer.headers.items()},
                     answer.content)

    def set_time(self, timestamp: float) -> None:
        if not self.sync_clock or timestamp == self._last_time:
            return
        from datetime import datetime

        from ..core.clock import UTC

        moment = datetime.fromtimestamp(timestamp, tz=UTC).isoformat()
        reply = self.request("POST", self.url("/__fleetsim__/clock"),
                             {"Content-Type": "application/json"},
                             json.dumps({"set": moment}).encode())
        if reply.status != 200:
            raise TransportError(f"cannot set the remote clock: {reply.status} {reply.body[:200]!r}")
        self._last_time = timestamp

    def close(self) -> None:
        self._session.close()


