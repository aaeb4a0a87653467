"""Intercept mode: HTTP calls to the vendors' real hosts are answered by the app in process.

While at least one interceptor is active, the common Python HTTP clients are patched at their
transport: ``requests`` (``HTTPAdapter.send``), ``urllib.request`` (the HTTP and HTTPS handlers)
and, when it is installed, ``httpx`` (``HTTPTransport`` and ``AsyncHTTPTransport``). A request
whose host matches an interceptor's host patterns becomes a WSGI call on the app (no socket);
any other request goes to the original transport untouched. Interceptors nest.

:func:`block_hosts` is the safety net the fixtures install: a name lookup of a vendor host
(by any client) fails with :class:`VendorHostBlocked`, whose message says to use ``intercept``.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import io
import socket
import threading
import urllib.error
import urllib.request
import urllib.response
from datetime import timedelta
from fnmatch import fnmatchcase
from functools import lru_cache
from time import perf_counter
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Optional
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from fake_api.app import DROP
from fake_api.wsgi import call_wsgi, wsgi_environ

_lock = threading.RLock()
_active: list[Interceptor] = []
_undo: list[Callable[[], None]] = []

DROPPED = "fleetsim fault: connection dropped"


class Answer(NamedTuple):
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    dropped: bool


class Interceptor:
    """Route requests for ``hosts`` (``*`` globs allowed) into the WSGI ``app``."""

    def __init__(self, app: Any, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = tuple(h.lower() for h in hosts)
        self.calls = 0
        self._known: dict[str, bool] = {}  # host -> handled (fnmatch once per host, not per call)

    def handles(self, host: str) -> bool:
        known = self._known.get(host)
        if known is None:
            lowered = host.lower().rstrip(".")
            known = any(fnmatchcase(lowered, pattern) for pattern in self.hosts)
            if len(self._known) < 1024:
                self._known[host] = known
        return known

    def __enter__(self) -> Interceptor:
        with _lock:
            if not _active:
                _install()
            _active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        with _lock:
            if self in _active:
                _active.remove(self)
            if not _active:
                while _undo:
                    _undo.pop()()

    def call(self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes) -> Answer:
        """Run one request through the app; any client's adapter dresses the answer."""
        environ = wsgi_environ(method, url, headers, body)
        status, out_headers, out_body = call_wsgi(self.app, environ)
        self.calls += 1
        code, _, reason = status.partition(" ")
        return Answer(int(code), reason, out_headers, out_body, bool(environ.get(DROP)))

    def dispatch(self, adapter: HTTPAdapter, request: requests.PreparedRequest) -> requests.Response:
        """Run ``request`` through the app and dress the answer as a ``requests.Response``."""
        started = perf_counter()
        answer = self.call(request.method or "GET", request.url or "", request.headers.items(),
                           _body_bytes(request.body))
        if answer.dropped:
            raise requests.exceptions.ConnectionError(DROPPED, request=request)
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = CaseInsensitiveDict(answer.headers)
        response.raw = io.BytesIO(answer.body)
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url
        response.request = request
        response.connection = adapter
        response.cookies = RequestsCookieJar()
        response.elapsed = timedelta(seconds=perf_counter() - started)
        return response


def _interceptor_for(url: str) -> Optional[Interceptor]:
    host = _host(url)
    for interceptor in reversed(_active):
        if interceptor.handles(host):
            return interceptor
    return None


@lru_cache(maxsize=512)
def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = owner.__dict__[name]
    setattr(owner, name, make(original))
    _undo.append(lambda: setattr(owner, name, original))


def _install() -> None:
    """Patch every known client's transport (undone when the last interceptor exits)."""
    _patch(HTTPAdapter, "send", _requests_send)
    _patch(requests.Session, "merge_environment_settings", _requests_merge)
    _patch(urllib.request.HTTPHandler, "http_open", _urllib_open)
    _patch(urllib.request.HTTPSHandler, "https_open", _urllib_open)
    if importlib.util.find_spec("httpx") is not None:
        import httpx

        _patch(httpx.HTTPTransport, "handle_request", _httpx_sync)
        _patch(httpx.AsyncHTTPTransport, "handle_async_request", _httpx_async)


# -- requests ---------------------------------------------------------------------------------

def _requests_send(original: Any) -> Any:
    def send(self: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        interceptor = _interceptor_for(request.url or "")
        if interceptor is not None:
            return interceptor.dispatch(self, request)
        return original(self, request, *args, **kwargs)
    return send


def _requests_merge(original: Any) -> Any:
    def merge(self: requests.Session, url: str, proxies: Any, stream: Any, verify: Any,
               cert: Any) -> dict[str, Any]:
        """``Session.merge_environment_settings`` without the environment for intercepted hosts.

        requests reads proxy and CA-bundle variables from the environment on every call (a scan of
        ``os.environ``, about a quarter of an SDK call); an intercepted request uses no proxy, no
        socket and no certificate, so that work is skipped for it. Other hosts get the original.
        """
        host = _host(url)
        if any(interceptor.handles(host) for interceptor in _active):
            return {"proxies": merge_setting(proxies, self.proxies),
                    "stream": merge_setting(stream, self.stream),
                    "verify": merge_setting(verify, self.verify),
                    "cert": merge_setting(cert, self.cert)}
        return original(self, url, proxies, stream, verify, cert)
    return merge


# -- urllib.request ---------------------------------------------------------------------------

def _urllib_open(original: Any) -> Any:
    def open_(self: Any, req: urllib.request.Request) -> Any:
        url = req.full_url
        interceptor = _interceptor_for(url)
        if interceptor is None:
            return original(self, req)
        answer = interceptor.call(req.get_method(), url, req.header_items(), _body_bytes(req.data))
        if answer.dropped:
            raise urllib.error.URLError(DROPPED)
        head = "".join(f"{k}: {v}\r\n" for k, v in answer.headers) + "\r\n"
        message = http.client.parse_headers(io.BytesIO(head.encode("latin-1")))
        response = urllib.response.addinfourl(io.BytesIO(answer.body), message, url, answer.status)
        response.msg = response.reason = answer.reason  # type: ignore[attr-defined]
        return response
    return open_


# -- httpx ------------------------------------------------------------------------------------

def _httpx_response(request: Any, answer: Answer) -> Any:
    import httpx

    if answer.dropped:
        raise httpx.ConnectError(DROPPED, request=request)
    return httpx.Response(answer.status, headers=answer.headers, content=answer.body,
                          request=request, extensions={"reason_phrase": answer.reason.encode()})


def _httpx_sync(original: Any) -> Any:
    def handle_request(self: Any, request: Any) -> Any:
        interceptor = _interceptor_for(str(request.url))
        if interceptor is None:
            return original(self, request)
        answer = interceptor.call(request.method, str(request.url), request.headers.multi_items(),
                                  request.read())
        return _httpx_response(request, answer)
    return handle_request


def _httpx_async(original: Any) -> Any:
    async def handle_async_request(self: Any, request: Any) -> Any:
        interceptor = _interceptor_for(str(request.url))
        if interceptor is None:
            return await original(self, request)
        body = await request.aread()
        answer = interceptor.call(request.method, str(request.url), request.headers.multi_items(), body)
        return _httpx_response(request, answer)
    return handle_async_request


# -- the safety net: no real vendor host from a test ------------------------------------------

class VendorHostBlocked(socket.gaierror):
    """A test tried to reach a real vendor host outside intercept mode."""


_blocked: list[tuple[str, ...]] = []
_real_getaddrinfo: Optional[Callable[..., Any]] = None


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host or "")
    name = name.lower().rstrip(".")
    for patterns in list(_blocked):
        if any(fnmatchcase(name, p) for p in patterns):
            raise VendorHostBlocked(
                socket.EAI_NONAME,
                f"fleetsim blocked a request to the real vendor host {name}: wrap the call in "
                "`with fleetsim.intercept():`, mark the test @pytest.mark.fleetsim(intercept=True), "
                "or point the client at fleetsim.url (to allow real hosts: "
                "@pytest.mark.fleetsim(block_vendor_hosts=False) or --fleetsim-allow-vendor-hosts)",
            )
    assert _real_getaddrinfo is not None
    return _real_getaddrinfo(host, *args, **kwargs)


@contextlib.contextmanager
def block_hosts(patterns: Iterable[str]) -> Iterator[None]:
    """While active, looking up any host matching ``patterns`` raises :class:`VendorHostBlocked`.

    It works at name resolution, so it covers every client (requests, urllib, httpx, sockets);
    a client sending everything through an HTTP proxy never looks the host up and is not
    covered. Intercepted hosts are answered before any lookup, so intercept mode is unaffected.
    """
    global _real_getaddrinfo
    entry = tuple(p.lower() for p in patterns)
    with _lock:
        if not _blocked:
            _real_getaddrinfo = socket.getaddrinfo
            socket.getaddrinfo = _guarded_getaddrinfo
        _blocked.append(entry)
    try:
        yield
    finally:
        with _lock:
            _blocked.remove(entry)
            if not _blocked and _real_getaddrinfo is not None:
                if socket.getaddrinfo is _guarded_getaddrinfo:
                    socket.getaddrinfo = _real_getaddrinfo
                _real_getaddrinfo = None
