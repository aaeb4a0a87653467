"""The HTTP server under ``fleetsim serve`` and the plugin's live server.

werkzeug's development server closes the connection after every answer (it cannot drain a
request body without eating the next request line), writes each response in several system
calls, and answers malformed requests with HTML. This handler keeps werkzeug's parsing and WSGI
environment but:

* speaks HTTP/1.1 with keep-alive: every answer carries an exact ``Content-Length`` (the body is
  buffered; fleetsim's answers are small and firmware files are already in memory), and the unread
  rest of a request body is drained (up to :data:`DRAIN_LIMIT`, else the connection is closed);
* writes the status line, headers and body in one ``sendall``;
* puts a read timeout on every connection, so a slow or silent client frees its thread;
* answers errors of the HTTP layer itself (request line or headers too long, malformed request)
  in JSON, in the error format of the dialect that owns the path when it is known.
"""

from __future__ import annotations

import contextlib
import json
import socket
from http import HTTPStatus
from typing import Any, Optional

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wsgi import LimitedStream

#: Seconds a connection may stay silent (idle between requests, or mid-request) before it is
#: closed and its thread freed.
READ_TIMEOUT = 30.0
#: The most unread request-body bytes drained to keep a connection open (more: it is closed).
DRAIN_LIMIT = 1024 * 1024

_NO_BODY = {204, 304}


class FleetsimRequestHandler(WSGIRequestHandler):
    """HTTP/1.1 keep-alive WSGI handler; see the module docstring."""

    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT
    quiet = False

    def setup(self) -> None:
        self.timeout = getattr(self.server, "read_timeout", READ_TIMEOUT)
        super().setup()
        with contextlib.suppress(OSError):  # not TCP (a test's socket pair)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        self.path = ""  # an error before the request line is parsed must not use the last path
        super().handle_one_request()

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        body_stream: Optional[LimitedStream] = None
        if "wsgi.input_terminated" in environ:
            self.close_connection = True  # chunked request body: no exact end to drain to
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
            else:
                body_stream = LimitedStream(self.rfile, length)
                environ["wsgi.input"] = body_stream

        started: list[Any] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        chunks: list[bytes] = []
        try:
            app_iter = self.server.app(environ, start_response)
            try:
                if self._is_stream(app_iter, started[1] if started else []):
                    self._send_chunked(started[0], started[1], app_iter)
                    return
                chunks.extend(app_iter)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        except (ConnectionError, socket.timeout) as exc:
            self.close_connection = True
            self.connection_dropped(exc, environ)
            return
        except Exception:  # the app handles its own errors; this is a last resort, never HTML
            self.close_connection = True
            self._send_json_error(500, "internal error in the fake's HTTP layer")
            return
        self._send(started[0], started[1], b"".join(chunks), environ["REQUEST_METHOD"])
        if body_stream is not None and not self.close_connection:
            self._drain(body_stream)

    @staticmethod
    def _is_stream(app_iter: Any, headers: list) -> bool:
        """A response whose length is unknown (a generator, e.g. balena's ``logs?stream=1``):
        sent as it is produced, chunked, instead of buffered until it ends (it may never)."""
        if isinstance(app_iter, (list, tuple)):
            return False
        return not any(name.lower() == "content-length" for name, _ in headers)

    def _send_chunked(self, status: str, headers: list, app_iter: Any) -> None:
        code = int(status.split(None, 1)[0])
        if code in _NO_BODY or code < 200 or self.command == "HEAD":
            self._send(status, headers, b"", self.command)
            return
        lines = [f"HTTP/1.1 {status}"]
        lines += [f"{name}: {value}" for name, value in headers
                  if name.lower() not in ("connection", "transfer-encoding", "content-length")]
        lines += ["Transfer-Encoding: chunked", f"Date: {self.date_time_string()}"]
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.wfile.flush()
        sent = 0
        for chunk in app_iter:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                sent += len(chunk)
        self.wfile.write(b"0\r\n\r\n")
        self.log_request(code, sent)

    def _send(self, status: str, headers: list, body: bytes, method: str) -> None:
        code = int(status.split(None, 1)[0])
        lines = [f"HTTP/1.1 {status}"]
        no_body = code in _NO_BODY or code < 200
        length_given = None
        for name, value in headers:
            lower = name.lower()
            if lower == "content-length":
                length_given = value
                continue
            if lower in ("connection", "transfer-encoding"):
                continue
            lines.append(f"{name}: {value}")
        if method == "HEAD":
            if length_given is not None:
                lines.append(f"Content-Length: {length_given}")
            body = b""
        elif no_body:
            body = b""
        else:
            lines.append(f"Content-Length: {len(body)}")
        lines.append(f"Date: {self.date_time_string()}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self.wfile.write(body)
        self.log_request(code, len(body))

    def _drain(self, stream: LimitedStream) -> None:
        """Read what the app left of the request body, so the next request line is next."""
        left = stream.limit - stream._pos
        if left <= 0:
            return
        if left > DRAIN_LIMIT:
            self.close_connection = True
            return
        try:
            stream.exhaust()
        except Exception:  # a timeout, a reset, werkzeug's ClientDisconnected: the body is lost
            self.close_connection = True

    # -- errors of the HTTP layer --------------------------------------------------------------

    def send_error(self, code: int, message: Optional[str] = None,
                   explain: Optional[str] = None) -> None:
        """http.server's errors (414, 431, 400, 501, ...), as JSON instead of an HTML page."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        text = f"{phrase}: {message}" if message and message != phrase else phrase
        self.close_connection = True
        self._send_json_error(code, text)

    def _send_json_error(self, code: int, message: str) -> None:
        body, headers = _render_error(self.server.app, self.path or "", code, message)
        data = json.dumps(body).encode("utf-8")
        lines = [f"HTTP/1.1 {code} {_phrase(code)}", "Content-Type: application/json",
                 f"Content-Length: {len(data)}", f"Date: {self.date_time_string()}",
                 "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        with contextlib.suppress(OSError):
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
        self.log_request(code, len(data))

    # -- logging -----------------------------------------------------------------------------

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        if not self.quiet:
            super().log_request(*args, **kwargs)

    def log(self, type: str, message: str, *args: Any) -> None:
        if message.startswith("Request timed out"):
            return  # an idle keep-alive connection reaching READ_TIMEOUT is not news
        if not self.quiet or type == "error":
            super().log(type, message, *args)


class QuietRequestHandler(FleetsimRequestHandler):
    """No access log: a downstream suite must not hear the fake (errors still show)."""

    quiet = True


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _render_error(app: Any, path: str, status: int, message: str) -> tuple[Any, dict[str, str]]:
    """The error body of the dialect that owns ``path`` (the control plane's when unknown)."""
    dialect_for = getattr(app, "dialect_for", None)
    if dialect_for is not None:
        try:
            dialect = dialect_for(path.split("?", 1)[0] or "/")
            body, headers = dialect.render_error(status, message, None)
            if isinstance(body, (dict, list)):
                return body, dict(headers)
        except Exception:  # a broken renderer must not take the error path down with it
            pass
    return {"error": {"status": status, "message": message}}, {}


def make_fleetsim_server(host: str, port: int, app: Any, *, quiet: bool = False,
                         read_timeout: float = READ_TIMEOUT) -> BaseWSGIServer:
    """A threaded server for ``app`` with :class:`FleetsimRequestHandler` (keep-alive, JSON
    errors, ``read_timeout`` seconds of silence per connection). ``quiet`` drops the access log."""
    handler = QuietRequestHandler if quiet else FleetsimRequestHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    server.read_timeout = read_timeout  # type: ignore[attr-defined]
    return server
