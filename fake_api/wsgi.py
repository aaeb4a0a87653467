"""Calling the app as a WSGI callable in-process, with no sockets: shared by intercept mode
(``pytest_fleetsim.intercept``) and the simulated devices' in-process transport."""

from __future__ import annotations

import io
import sys
from typing import Any, Iterable
from urllib.parse import unquote, urlsplit


def call_wsgi(app: Any, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run ``app`` on ``environ`` itself (not a copy: the app leaves notes in it, such as a
    dropped-connection fault) and collect the whole answer."""
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


def wsgi_environ(method: str, url: str, headers: Iterable[tuple[str, str]],
             body: bytes) -> dict[str, Any]:
    """The WSGI environ of a request, as werkzeug's ``EnvironBuilder`` would build it (same keys
    and encodings) without its generality: this runs on every intercepted call and every
    simulated device's request."""
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
