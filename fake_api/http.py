"""Small Flask helpers that every dialect's routes share (the only Flask in fake_api besides
``app.py``, ``control/`` and the dialects' ``routes.py``/``errors.py``)."""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from typing import Any, Optional
from urllib.parse import quote

from flask import Response, request
from werkzeug.exceptions import ClientDisconnected

from .core import jsontext
from .core.errors import FleetsimError

#: Seconds a client may leave the connection silent while it sends a body, and the most one body
#: may take in all (``app.config["FLEETSIM_BODY_TIMEOUT"]`` and ``["FLEETSIM_BODY_DEADLINE"]``).
BODY_TIMEOUT = 10.0
BODY_DEADLINE = 120.0
_CHUNK = 64 * 1024


class _Overdue:
    """One daemon thread that cuts the read side of connections whose body is overdue, so that
    a client trickling a byte now and then cannot hold a thread forever (the blocked read then
    ends, and the answer, a 408, can still be written)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[int, tuple[float, socket.socket]] = {}
        self._fired: set[int] = set()
        self._tickets = itertools.count()
        self._thread: Optional[threading.Thread] = None

    def watch(self, sock: socket.socket, seconds: float) -> int:
        with self._cond:
            ticket = next(self._tickets)
            self._pending[ticket] = (time.monotonic() + seconds, sock)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fleetsim-body-deadline",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
            return ticket

    def done(self, ticket: int) -> bool:
        """Stop watching; ``True`` when the deadline had already cut the connection."""
        with self._cond:
            self._pending.pop(ticket, None)
            fired = ticket in self._fired
            self._fired.discard(ticket)
            return fired

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                for ticket, (due, sock) in list(self._pending.items()):
                    if due <= now:
                        del self._pending[ticket]
                        self._fired.add(ticket)
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RD)
                due = min((d for d, _ in self._pending.values()), default=None)
                self._cond.wait(None if due is None else max(0.0, due - now))


_OVERDUE = _Overdue()


def json_response(data: Any, status: int = 200, headers: Optional[dict[str, str]] = None) -> Response:
    """JSON with the field order the model gave and ``", "``/``": "`` separators (Python's default,
    which is what vendor shell scripts that grep responses expect)."""
    return Response(jsontext.dumps(data), status=status, headers=headers, mimetype="application/json")


class _Bodiless(Response):
    """A response without a body has no media type (Flask's default would be ``text/html``)."""

    default_mimetype = None


def empty(status: int = 204, headers: Optional[dict[str, str]] = None) -> Response:
    return _Bodiless(b"", status=status, headers=headers)


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


def read_body(timeout: float = BODY_TIMEOUT, deadline: float = BODY_DEADLINE) -> bytes:
    """Read the whole request body now, bounded in time and size, and cache it for the routes.

    The app calls this before it takes the store's lock, so a client that sends its body slowly
    (or never) holds only its own connection. Routes keep using :func:`read_json` and
    ``request.get_data()``, which then return the cached bytes. A body that stalls for ``timeout``
    seconds, or is still arriving after ``deadline`` seconds, is a 408; one shorter than its
    ``Content-Length`` (the client closed) is a 400; one over the app's ``MAX_CONTENT_LENGTH`` is
    a 413 (raised by werkzeug).
    """
    cached = getattr(request, "_cached_data", None)
    if cached is not None:
        return cached
    stream = request.stream  # 413 here when Content-Length is over the limit
    sock = request.environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket) or request.content_length == 0:
        sock = None  # in-process (intercept, test client): the body is already in memory
    ticket = None
    if sock is not None:
        previous = sock.gettimeout()
        sock.settimeout(timeout)
        ticket = _OVERDUE.watch(sock, deadline)
    chunks: list[bytes] = []
    failure: Optional[FleetsimError] = None
    try:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
    except ClientDisconnected as exc:
        if isinstance(exc.__context__, (TimeoutError, socket.timeout)):
            failure = FleetsimError(f"the request body stalled for {timeout:g} s", 408)
        else:
            failure = FleetsimError("the request body ended before its Content-Length "
                                    f"({request.content_length} bytes)", 400)
    finally:
        if sock is not None and ticket is not None:
            if _OVERDUE.done(ticket):  # whatever the read saw, the deadline cut it short
                failure = FleetsimError(f"the request body took longer than {deadline:g} s", 408)
            with contextlib.suppress(OSError):
                sock.settimeout(previous)
    if failure is not None:
        raise failure
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
