"""Small Flask helpers that every dialect's routes share (the only Flask in fake_api besides
``app.py``, ``control/`` and the dialects' ``routes.py``/``errors.py``)."""

from __future__ import annotations

import contextlib
import socket
from typing import Any, Optional
from urllib.parse import quote

from flask import Response, request
from werkzeug.exceptions import ClientDisconnected

from .core import jsontext
from .core.errors import FleetsimError

#: Seconds a client may leave the connection silent while it sends a body
#: (``app.config["FLEETSIM_BODY_TIMEOUT"]`` overrides it).
BODY_TIMEOUT = 10.0
_CHUNK = 64 * 1024


def json_response(data: Any, status: int = 200, headers: Optional[dict[str, str]] = None) -> Response:
    """JSON with the field order the model gave and ``", "``/``": "`` separators (Python's default,
    which is what vendor shell scripts that grep responses expect)."""
    return Response(jsontext.dumps(data), status=status, headers=headers, mimetype="application/json")


def empty(status: int = 204, headers: Optional[dict[str, str]] = None) -> Response:
    """An answer without a body, and so without a ``Content-Type`` (Flask's default would
    claim ``text/html``)."""
    response = Response(b"", status=status, headers=headers)
    response.headers.pop("Content-Type", None)
    return response


def read_json(default: Any = ..., *, expect: type | tuple[type, ...] | None = dict) -> Any:
    """The request body as JSON, or a 400 ``FleetsimError`` that says what is wrong with it.

    An empty body gives ``default`` when one is given. ``expect`` checks the top-level type.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if default is not ...:
            return default
        raise FleetsimError("the request body is empty; a JSON body is required", 400)
    try:
        data = jsontext.loads(raw)
    except jsontext.JSONError as exc:
        raise FleetsimError(f"the request body is not valid JSON: {exc}", 400) from None
    if expect is not None and not isinstance(data, expect):
        names = expect.__name__ if isinstance(expect, type) else "/".join(t.__name__ for t in expect)
        raise FleetsimError(
            f"the request body must be a JSON {_json_kind(names)}, not {_json_kind(type(data).__name__)}",
            400,
        )
    return data


def read_body(timeout: float = BODY_TIMEOUT) -> bytes:
    """Read the whole request body now, bounded in time and size, and cache it for the routes.

    The app calls this before it takes the store's lock, so a client that sends its body slowly
    (or never) holds only its own connection. Routes keep using :func:`read_json` and
    ``request.get_data()``, which then return the cached bytes. A body that stalls for ``timeout``
    seconds is a 408; one shorter than its ``Content-Length`` (the client closed) is a 400; one
    over the app's ``MAX_CONTENT_LENGTH`` is a 413 (raised by werkzeug).
    """
    cached = getattr(request, "_cached_data", None)
    if cached is not None:
        return cached
    stream = request.stream  # 413 here when Content-Length is over the limit
    sock = request.environ.get("werkzeug.socket")
    previous = sock.gettimeout() if isinstance(sock, socket.socket) else None
    if isinstance(sock, socket.socket):
        sock.settimeout(timeout)
    chunks: list[bytes] = []
    try:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
    except ClientDisconnected as exc:
        if isinstance(exc.__context__, (TimeoutError, socket.timeout)):
            raise FleetsimError(f"the request body stalled for {timeout:g} s", 408) from None
        raise FleetsimError(
            "the request body ended before its Content-Length "
            f"({request.content_length} bytes)", 400) from None
    finally:
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.settimeout(previous)
    body = b"".join(chunks)
    # werkzeug's own cache for get_data(): the routes read these bytes, not the socket again.
    request._cached_data = body  # type: ignore[attr-defined]
    return body


def _json_kind(python_name: str) -> str:
    return {"dict": "object", "list": "array", "str": "string", "int": "number",
            "float": "number", "bool": "boolean", "NoneType": "null"}.get(python_name, python_name)


def base_url() -> str:
    """The URL the client used to reach us (``http://127.0.0.1:PORT`` or ``https://api.vendor``)."""
    return request.host_url.rstrip("/")


def content_disposition(filename: str) -> str:
    """``attachment`` with ``filename`` as RFC 6266 says: a quoted ASCII fallback, plus
    ``filename*=UTF-8''<percent-encoded>`` (RFC 5987) when the name is not plain ASCII.

    Any name gives a valid Latin-1 header: non-ASCII and control characters never reach the
    socket raw (a raw one made the live server hang or answer 500).
    """
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in filename)
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        encoded = quote(filename.encode("utf-8", "replace"), safe="!#$&+-.^_`|~")
        header += f"; filename*=UTF-8''{encoded}"
    return header


def send_bytes(
    data: bytes,
    *,
    filename: Optional[str] = None,
    content_type: str = "application/octet-stream",
    etag: Optional[str] = None,
) -> Response:
    """A download with ``Range`` and ``If-None-Match`` support, as a CDN would serve it."""
    response = Response(data, mimetype=content_type)
    if filename:
        response.headers["Content-Disposition"] = content_disposition(filename)
    if etag:
        response.set_etag(etag)
    response.headers["Accept-Ranges"] = "bytes"
    return response.make_conditional(request, accept_ranges=True, complete_length=len(data))
