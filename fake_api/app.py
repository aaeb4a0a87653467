"""``create_app(cloud)``: one Flask app, every dialect at the root, the control plane beside them.

Every request goes through :meth:`FakeCloudApp.full_dispatch_request`: it finds the dialect that
owns the path, applies any matching fault rule, reads the whole body (bounded, *before* the lock,
so a slow client holds only its own connection), runs the view under the store's lock and commits
durable state before the answer leaves, renders any error in that dialect's format and records
the request in the journal.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import time
from typing import Any, Optional

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .core import Cloud, Dialect, FleetsimError
from .dialects import CONTROL, DIALECTS
from .http import BODY_DEADLINE, BODY_TIMEOUT, empty, json_response, read_body

log = logging.getLogger("fleetsim")

#: The largest request body the fake accepts (a firmware image is rarely larger).
MAX_CONTENT_LENGTH = 256 * 1024 * 1024

DROP = "fleetsim.drop"
_SLASHES = re.compile(r"/{2,}")


class FakeCloudApp(Flask):
    cloud: Cloud
    dialects: tuple[Dialect, ...]

    def dialect_for(self, path: str, host: str = "") -> Dialect:
        """The dialect that owns ``path``; else the one whose vendor host was called; else control."""
        if CONTROL.owns_path(path):
            return CONTROL
        for dialect in self.dialects:
            if dialect.owns_path(path):
                return dialect
        if host:
            for dialect in self.dialects:
                if dialect.owns_host(host):
                    return dialect
        return CONTROL

    def full_dispatch_request(self) -> Response:  # type: ignore[override]
        started = time.perf_counter()
        dialect = self.dialect_for(request.path, request.host)
        request.environ["fleetsim.dialect"] = dialect
        fault = None
        response: Optional[Response] = None
        if dialect is not CONTROL:
            fault = self.cloud.faults.match(dialect.name, request.method, request.path)
            if fault is not None:
                response = self._apply_fault(fault, dialect)
        if response is None:
            response = super().full_dispatch_request()
        if _empty_html(response):
            del response.headers["Content-Type"]  # an empty answer is not an HTML page
        self.cloud.journal.record_request(
            dialect=dialect.name,
            method=request.method,
            path=request.path,
            query=request.query_string.decode("latin-1"),
            status=0 if request.environ.get(DROP) else response.status_code,
            duration_ms=(time.perf_counter() - started) * 1000,
            time=self.cloud.clock.isoformat(),
            fault=fault.describe() if fault is not None else None,
        )
        return response

    def preprocess_request(self) -> Any:
        """Read the body now, outside the lock (errors here render in the dialect's format)."""
        read_body(self.config.get("FLEETSIM_BODY_TIMEOUT", BODY_TIMEOUT),
                  self.config.get("FLEETSIM_BODY_DEADLINE", BODY_DEADLINE))
        return super().preprocess_request()

    def dispatch_request(self) -> Any:  # type: ignore[override]
        """The view, alone on the store; durable state is committed before the answer leaves."""
        with self.cloud.store.lock:
            try:
                return super().dispatch_request()
            finally:
                if self.cloud.durable is not None:
                    self.cloud.commit(self._untouched_tables())

    def _untouched_tables(self) -> tuple[str, ...]:
        """Table prefixes of the *other* dialects: a dialect's models never write them."""
        dialect = request.environ.get("fleetsim.dialect")
        if dialect is None or dialect is CONTROL:
            return ()
        return tuple(f"{d.name}." for d in self.dialects if d is not dialect)

    def _apply_fault(self, fault: Any, dialect: Dialect) -> Optional[Response]:
        if fault.latency:
            if fault.virtual:
                with self.cloud.store.lock:
                    self.cloud.clock.advance(fault.latency)
                    self.cloud.commit()
            else:
                time.sleep(fault.latency)
        if fault.drop:
            request.environ[DROP] = True
            return Response(b"", status=500)
        if fault.status is None:
            return None  # latency only: answer normally, later
        headers = dict(fault.headers)
        if fault.retry_after is not None:
            headers.setdefault("Retry-After", str(fault.retry_after))
        if fault.body is not None:
            body = fault.body
        else:
            message = fault.message or f"fault injected by fleetsim (rule {fault.id})"
            body, extra = dialect.render_error(fault.status, message, None)
            for key, value in extra.items():
                headers.setdefault(key, value)
        return make_body_response(body, fault.status, headers)

    def wsgi_app(self, environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if "//" in path and self.dialect_for(path, environ.get("HTTP_HOST", "")).merge_slashes:
            environ["PATH_INFO"] = _SLASHES.sub("/", path)  # this vendor treats // as /
        result = super().wsgi_app(environ, start_response)
        if environ.get(DROP):
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                # A real server: cut the connection; werkzeug treats this as a dropped client.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                raise ConnectionResetError("fleetsim fault: connection dropped")
        return result


def _empty_html(response: Response) -> bool:
    return (not response.direct_passthrough and response.mimetype == "text/html"
            and not response.get_data())


def make_body_response(body: Any, status: int, headers: dict[str, str]) -> Response:
    if isinstance(body, (dict, list)):
        return json_response(body, status, headers)
    if body is None or (isinstance(body, (bytes, str)) and not body):
        return empty(status, headers)
    mimetype = headers.pop("Content-Type", None) or "text/plain"
    return Response(body, status=status, headers=headers, mimetype=mimetype)


def _render(dialect: Dialect, status: int, message: str, exc: Optional[BaseException]) -> Response:
    body, headers = dialect.render_error(status, message, exc)
    return make_body_response(body, status, dict(headers))


def _current_dialect(app: FakeCloudApp) -> Dialect:
    dialect = request.environ.get("fleetsim.dialect")
    return dialect if dialect is not None else app.dialect_for(request.path, request.host)


def create_app(cloud: Optional[Cloud] = None, *, seed: int = 0) -> FakeCloudApp:
    """A Flask app serving every dialect on ``cloud`` (a fresh virtual-clock cloud by default)."""
    if cloud is None:
        cloud = Cloud(seed=seed)
    app = FakeCloudApp("fake_api")
    app.cloud = cloud
    app.dialects = DIALECTS
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.url_map.strict_slashes = False
    # A doubled slash is never a 308 HTML redirect: it is a 404 in the dialect's format, unless
    # the dialect says its vendor merges slashes (Dialect.merge_slashes), then it is the route.
    app.url_map.merge_slashes = False
    app.extensions["fleetsim"] = cloud

    for dialect in DIALECTS:
        if dialect.name not in cloud.backends:
            cloud.attach(dialect.name, dialect.make_backend(cloud))
        app.register_blueprint(dialect.make_blueprint(cloud.backends[dialect.name]))
    app.register_blueprint(CONTROL.make_blueprint(app))

    @app.errorhandler(FleetsimError)
    def _fleetsim_error(exc: FleetsimError) -> Response:
        return _render(_current_dialect(app), exc.status, exc.message, exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 404:
            message = f"no such endpoint: {request.method} {request.path}"
        elif status == 405:
            message = f"method {request.method} is not allowed on {request.path}"
        else:
            message = exc.description or exc.name
        response = _render(_current_dialect(app), status, message, exc)
        if status == 405 and exc.get_headers():
            allow = dict(exc.get_headers()).get("Allow")
            if allow:
                response.headers["Allow"] = allow
        return response

    @app.errorhandler(Exception)
    def _uncaught(exc: Exception) -> Response:
        log.exception("fleetsim: unhandled error on %s %s", request.method, request.path)
        message = f"internal error in the fake: {type(exc).__name__}: {exc}"
        return _render(_current_dialect(app), 500, message, exc)

    return app
