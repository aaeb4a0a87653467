"""Calling the app as a WSGI callable in-process, with no sockets: shared by intercept mode
(``pytest_fleetsim.intercept``) and the simulated devices' in-process transport."""

from __future__ import annotations

from typing import Any


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
