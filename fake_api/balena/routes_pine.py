"""The OData mount: ``/v6/<path>`` and ``/v7/<path>`` (GET, POST, PATCH, DELETE) on the balena
blueprint. Reads the body and the actor, hands everything to :class:`.pine.Pine`, writes the
answer: JSON for 2xx with a body, an empty 200 for PATCH/DELETE, a JSON string for errors."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, request

from ..http import empty, json_response, read_json
from . import auth
from .errors import BalenaError
from .pine import Pine
from .versions import VERSIONS

_METHODS = ["GET", "POST", "PATCH", "DELETE"]


def _multipart_body() -> dict[str, Any]:
    """``organization.create`` with a logo posts multipart: form fields plus the file's facts."""
    body: dict[str, Any] = dict(request.form.items())
    for name, upload in request.files.items():
        data = upload.read()
        body[name] = {"filename": upload.filename, "content_type": upload.mimetype,
                      "size": len(data)}
    return body


def register(bp: Blueprint, backend: Any) -> None:
    pine = Pine(backend.db)

    def answer(version: str, rest: str) -> Response:
        body = None
        if request.method in ("POST", "PATCH"):
            multipart = request.mimetype == "multipart/form-data"
            body = _multipart_body() if multipart else read_json()
        actor = auth.actor_from_request(backend, request)
        try:
            query = request.query_string.decode("utf-8")
        except UnicodeDecodeError:
            raise BalenaError(400, "Malformed query string") from None
        status, out = pine.handle(version, request.method, rest, query, body, actor)
        if status == 404:  # no such resource: the app's usual "no such endpoint" answer
            abort(404)
        if status >= 400:
            return Response(json.dumps(out), status=status, mimetype="application/json")
        if out is None:
            return empty(status)
        return json_response(out, status)

    for name, version in VERSIONS.items():
        bp.add_url_rule(f"/{version.prefix}/<path:rest>", f"pine_{version.prefix}",
                        (lambda v: lambda rest: answer(v, rest))(name), methods=_METHODS)
