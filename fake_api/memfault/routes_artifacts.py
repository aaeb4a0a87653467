"""Routes of the non-OTA uploads (see :mod:`.artifacts`): the commits memfault-cli makes with an
org token or user key under ``P/``, the project-key ones under ``/api/v0/upload``, the lists, and
the symbol lookup by GNU build id.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, request

from ..http import base_url, empty, json_response, read_json
from .artifacts import DEVICE_PATHS, KINDS
from .errors import NotFoundError

P = "/api/v0/organizations/<org>/projects/<project>"


def add_routes(bp: Blueprint, b: Any, proj: Callable[[str, str], dict]) -> None:
    """Attach the upload-kind routes; ``proj`` resolves ``(org, project)`` for the caller."""

    def device_project() -> dict:
        return b.project_by_key(request.headers.get("Memfault-Project-Key"))

    def page(rows_paging: tuple) -> Response:
        rows, paging = rows_paging
        return json_response({"data": [b.render_file(r) for r in rows], "paging": paging})

    for path in KINDS:
        endpoint = path.replace("/", "_").replace("-", "_")

        def commit(org: str, project: str, _path: str = path) -> Response:
            p = proj(org, project)
            record = b.commit_file(p, _path, read_json(), via="management")
            return json_response({"data": b.render_file(record)})

        def listing(org: str, project: str, _path: str = path) -> Response:
            return page(b.list_files(proj(org, project), _path, request.args.to_dict(flat=False)))

        def one(org: str, project: str, file_id: int, _path: str = path) -> Response:
            record = b.get_file(proj(org, project), _path, str(file_id))
            return json_response({"data": b.render_file(record)})

        bp.add_url_rule(f"{P}/{path}", f"commit_{endpoint}", commit, methods=["POST"])
        bp.add_url_rule(f"{P}/{path}", f"list_{endpoint}", listing, methods=["GET"])
        bp.add_url_rule(f"{P}/{path}/<int:file_id>", f"get_{endpoint}", one, methods=["GET"])

    @bp.route(P + "/symbols-by-gnu-build-id/<build_id>", methods=["GET", "HEAD"])
    def symbols_by_build_id(org: str, project: str, build_id: str) -> Response:
        record = b.symbol_file_by_build_id(proj(org, project), build_id)
        return json_response({"data": b.render_file(record)})

    @bp.post("/api/v0/upload")
    def device_upload_prepare() -> Response:
        project = device_project()
        body = read_json(default={})
        return json_response({"data": b.prepare_upload(project, body, base_url(),
                                                       device_side=True)})

    @bp.post("/api/v0/upload/<path:name>")
    def device_upload_commit(name: str) -> Response:
        project = device_project()
        path = DEVICE_PATHS.get(name)
        if path is None:
            raise NotFoundError(f"Unknown upload kind `{name}`")
        content_type = (request.headers.get("Content-Type") or "").lower()
        if path == "coredumps" and not content_type.startswith("application/json"):
            # the firmware SDK's gdb script posts the coredump bytes themselves
            b.store_raw_coredump(project, request.get_data(), request.args.get("device_serial"))
            return empty(202)
        record = b.commit_file(project, path, read_json(), via="project_key")
        return json_response({"data": b.render_file(record)})
