"""Intercept mode: ``requests`` calls to the vendors' real hosts are answered by the app in process.

``requests.adapters.HTTPAdapter.send`` is patched while at least one interceptor is active. A
request whose host matches an interceptor's host patterns is turned into a WSGI call on the app
(no socket); any other request goes to the original ``send`` untouched. Interceptors nest.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from fnmatch import fnmatchcase
from time import perf_counter
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder

from fake_api.app import DROP

_lock = threading.Lock()
_active: list[Interceptor] = []
_original_send: Optional[Any] = None


class Interceptor:
    """Route requests for ``hosts`` (``*`` globs allowed) into the WSGI ``app``."""

    def __init__(self, app: Any, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = tuple(h.lower() for h in hosts)
        self.calls = 0

    def handles(self, host: str) -> bool:
        host = host.lower()
        return any(fnmatchcase(host, pattern) for pattern in self.hosts)

    def __enter__(self) -> Interceptor:
        global _original_send
        with _lock:
            if not _active:
                _original_send = HTTPAdapter.send
                HTTPAdapter.send = _send  # type: ignore[method-assign]
            _active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        global _original_send
        with _lock:
            if self in _active:
                _active.remove(self)
            if not _active and _original_send is not None:
                HTTPAdapter.send = _original_send  # type: ignore[method-assign]
                _original_send = None

    def dispatch(self, adapter: HTTPAdapter, request: requests.PreparedRequest) -> requests.Response:
        """Run ``request`` through the app and dress the answer as a ``requests.Response``."""
        started = perf_counter()
        parts = urlsplit(request.url)
        builder = EnvironBuilder(
            path=parts.path or "/",
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=request.method,
            headers=list(request.headers.items()),
            data=_body_bytes(request.body),
        )
        environ = builder.get_environ()
        builder.close()
        status, headers, body = _call_wsgi(self.app, environ)
        self.calls += 1
        if environ.get(DROP):
            raise requests.exceptions.ConnectionError(
                "fleetsim fault: connection dropped", request=request
            )
        response = requests.Response()
        code, _, reason = status.partition(" ")
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(body)
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url
        response.request = request
        response.connection = adapter
        response.cookies = RequestsCookieJar()
        response.elapsed = timedelta(seconds=perf_counter() - started)
        return response


def _call_wsgi(app: Any, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call the app on ``environ`` itself (not a copy: the app leaves notes in it)."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return chunks.append

    app_iter = app(environ, start_response)
    try:
        chunks.extend(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return started[0], started[1], b"".join(chunks)


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    return b"".join(c.encode("utf-8") if isinstance(c, str) else c for c in body)


def _send(self: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
    host = urlsplit(request.url).hostname or ""
    for interceptor in reversed(_active):
        if interceptor.handles(host):
            return interceptor.dispatch(self, request)
    assert _original_send is not None
    return _original_send(self, request, *args, **kwargs)
