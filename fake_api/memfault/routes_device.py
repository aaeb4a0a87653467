"""Device-facing routes (``Memfault-Project-Key``) and the signed storage URLs (no auth).

* ``GET /api/v0/releases/latest[/url]``: the OTA check.
* ``POST /api/v0/chunks/{serial}``: one chunk (octet-stream) or several (multipart/mixed); 202.
* ``PATCH /api/v0/attributes?device_serial=``: device-written attributes; 204.
* ``/api/v0/storage/...``: upload targets and artifact downloads, signed and expiring.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, Response, request

from ..http import base_url, empty, json_response, read_json, send_bytes
from .errors import (
    InvalidUsageError,
    LengthRequiredError,
    UnsupportedMediaTypeError,
)
from .wire import boundary_of, split_multipart

LATEST_HEADERS = {"memfault-reason": "latest"}


def add_routes(bp: Blueprint, b: Any) -> None:
    """Attach the device and storage routes to the Memfault blueprint."""

    def device_project() -> dict:
        return b.project_by_key(request.headers.get("Memfault-Project-Key"))

    def latest() -> tuple[Any, dict]:
        project = device_project()
        return b.latest_release(project, request.args.to_dict(flat=False))

    @bp.get("/api/v0/releases/latest")
    def releases_latest() -> Response:
        release, context = latest()
        if release is None:
            return empty(204, LATEST_HEADERS)
        return json_response(b.render_latest(release, context, base_url()))

    @bp.get("/api/v0/releases/latest/url")
    def releases_latest_url() -> Response:
        release, context = latest()
        if release is None:
            return empty(204, LATEST_HEADERS)
        body = b.render_latest(release, context, base_url())
        return Response(body["artifacts"][0]["url"], status=200,
                        content_type="text/plain; charset=utf-8")

    @bp.post("/api/v0/chunks/<path:serial>")
    def chunks_post(serial: str) -> Response:
        project = device_project()
        if request.content_length is None:
            raise LengthRequiredError("Content-Length is required")
        content_type = (request.headers.get("Content-Type") or "").lower()
        raw = request.get_data(cache=True)
        if content_type.startswith("multipart/mixed"):
            boundary = boundary_of(request.headers.get("Content-Type", ""))
            if not boundary:
                raise InvalidUsageError("multipart/mixed needs a boundary")
            chunks = split_multipart(raw, boundary)
        elif content_type.startswith("application/octet-stream"):
            if (request.headers.get("Content-Encoding") or "").lower() == "base64":
                try:
                    raw = base64.b64decode(raw, validate=True)
                except (binascii.Error, ValueError):
                    raise InvalidUsageError("The body is not valid base64") from None
            chunks = [raw]
        else:
            raise UnsupportedMediaTypeError(
                "Chunks must be sent as application/octet-stream or multipart/mixed")
        b.post_chunks(project, serial, chunks)
        return empty(202)

    @bp.patch("/api/v0/attributes")
    def attributes_patch() -> Response:
        project = device_project()
        b.device_writes_attributes(project, request.args.get("device_serial"),
                                   read_json(expect=list))
        return empty(204)

    # -- signed storage --------------------------------------------------------------------------

    @bp.put("/api/v0/storage/uploads/<token>")
    def storage_put(token: str) -> Response:
        b.check_signature(request.path, request.args, "PUT")
        meta = b.store_upload(token, request.get_data(), request.content_type or "")
        return empty(200, {"ETag": f'"{meta["md5"]}"'})

    @bp.put("/api/v0/storage/uploads/<token>/parts/<int:number>")
    def storage_put_part(token: str, number: int) -> Response:
        b.check_signature(request.path, request.args, "PUT")
        etag = b.store_part(token, number, request.get_data())
        return empty(200, {"ETag": etag})

    @bp.post("/api/v0/storage/uploads/<token>/complete")
    def storage_complete(token: str) -> Response:
        b.check_signature(request.path, request.args, "POST")
        meta = b.complete_multipart(token, request.get_data())
        return json_response({"ETag": f'"{meta["md5"]}"', "size": meta["size"]})

    @bp.get("/api/v0/storage/artifacts/<int:artifact_id>/<path:filename>")
    def storage_artifact(artifact_id: int, filename: str) -> Response:
        data, artifact = b.artifact_download(str(artifact_id), filename, request.path,
                                             request.args)
        return send_bytes(data, filename=artifact["filename"], etag=artifact["md5"])
