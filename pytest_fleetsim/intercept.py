"""Intercept mode: ``requests`` calls to the vendors' real hosts are answered by the app in process.

``requests.adapters.HTTPAdapter.send`` is patched while at least one interceptor is active. A
request whose host matches an interceptor's host patterns is turned into a WSGI call on the app
(no socket); any other request goes to the original ``send`` untouched. Interceptors nest.
"""

from __future__ import annotations

import io
import sys
import threading
from datetime import timedelta
from fnmatch import fnmatchcase
from functools import lru_cache
from time import perf_counter
from typing import Any, Iterable, Optional
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from fake_api.app import DROP

_lock = threading.Lock()
_active: list[Interceptor] = []
_original_send: Optional[Any] = None
_original_merge: Optional[Any] = None


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
            lowered = host.lower()
            known = any(fnmatchcase(lowered, pattern) for pattern in self.hosts)
            if len(self._known) < 1024:
                self._known[host] = known
        return known

    def __enter__(self) -> Interceptor:
        global _original_send, _original_merge
        with _lock:
            if not _active:
                _original_send = HTTPAdapter.send
                _original_merge = requests.Session.merge_environment_settings
                HTTPAdapter.send = _send  # type: ignore[method-assign]
                requests.Session.merge_environment_settings = _merge  # type: ignore[method-assign]
            _active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        global _original_send, _original_merge
        with _lock:
            if self in _active:
                _active.remove(self)
            if not _active and _original_send is not None:
                HTTPAdapter.send = _original_send  # type: ignore[method-assign]
                requests.Session.merge_environment_settings = _original_merge  # type: ignore
                _original_send = _original_merge = None

    def dispatch(self, adapter: HTTPAdapter, request: requests.PreparedRequest) -> requests.Response:
        """Run ``request`` through the app and dress the answer as a ``requests.Response``."""
        started = perf_counter()
        environ = _environ(request.method or "GET", request.url or "", request.headers.items(),
                           _body_bytes(request.body))
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


def _environ(method: str, url: str, headers: Iterable[tuple[str, str]],
             body: bytes) -> dict[str, Any]:
    """The WSGI environ of a request, as werkzeug's ``EnvironBuilder`` would build it (same keys
    and encodings) without its generality: this runs on every intercepted call."""
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    raw_path = _wsgi_str(path)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi_str(unquote(path)),
        "QUERY_STRING": _wsgi_str(parts.query),
        "REQUEST_URI": raw_path,
        "RAW_URI": raw_path,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "HTTP_HOST": parts.netloc,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ


def _wsgi_str(text: str) -> str:
    """WSGI's "bytes as latin-1" form of a URL part (the same string when it is ASCII)."""
    return text if text.isascii() else text.encode("utf-8").decode("latin-1")


@lru_cache(maxsize=512)
def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


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
    host = _host(request.url)
    for interceptor in reversed(_active):
        if interceptor.handles(host):
            return interceptor.dispatch(self, request)
    assert _original_send is not None
    return _original_send(self, request, *args, **kwargs)


def _merge(self: requests.Session, url: str, proxies: Any, stream: Any, verify: Any,
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
    assert _original_merge is not None
    return _original_merge(self, url, proxies, stream, verify, cert)
