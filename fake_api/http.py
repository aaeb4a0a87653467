"""Small Flask helpers that every dialect's routes share (the only Flask in fake_api besides
``app.py``, ``control/`` and the dialects' ``routes.py``/``errors.py``)."""

from __future__ import annotations

import json
from typing import Any, Optional

from flask import Response, request

from .core.errors import FleetsimError


def json_response(data: Any, status: int = 200, headers: Optional[dict[str, str]] = None) -> Response:
    """JSON with the field order the model gave and ``", "``/``": "`` separators (Python's default,
    which is what vendor shell scripts that grep responses expect)."""
    return Response(json.dumps(data), status=status, headers=headers, mimetype="application/json")


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
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FleetsimError(f"the request body is not valid JSON: {exc}", 400) from None
    if expect is not None and not isinstance(data, expect):
        names = expect.__name__ if isinstance(expect, type) else "/".join(t.__name__ for t in expect)
        raise FleetsimError(
            f"the request body must be a JSON {_json_kind(names)}, not {_json_kind(type(data).__name__)}",
            400,
        )
    return data


def _json_kind(python_name: str) -> str:
    return {"dict": "object", "list": "array", "str": "string", "int": "number",
            "float": "number", "bool": "boolean", "NoneType": "null"}.get(python_name, python_name)


def base_url() -> str:
    """The URL the client used to reach us (``http://127.0.0.1:PORT`` or ``https://api.vendor``)."""
    return request.host_url.rstrip("/")


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
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if etag:
        response.set_etag(etag)
    response.headers["Accept-Ranges"] = "bytes"
    return response.make_conditional(request, accept_ranges=True, complete_length=len(data))
