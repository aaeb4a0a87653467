"""fl33t HTTP routes: parse the request, call the backend, serialize. Nothing else.

Every API route is ``/team/<team_id>/...`` with ``Authorization: Bearer <session_token>``. The
upload and download routes carry a signature instead of a token (they are what ``upload_url``
and ``download_url`` point at). For routes with a body, the privilege check runs before the body
is read, so a token without the privilege gets 403 whatever it sends.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from flask import Blueprint, Response, request
from werkzeug.http import parse_options_header

from ..http import base_url, empty, json_response, read_json, send_bytes
from . import routes_legacy
from .models import Fl33tBackend

#: model -> (privilege for reads, privilege for create, privilege for update/delete)
_ACTIONS = {
    "train": ("train.read", "train.create", "train.write"),
    "build": ("build.read", "build.create", "build.write"),
    "fleet": ("fleet.read", "fleet.write", "fleet.write"),
    "device": ("device.read", "device.create", "device.write"),
    "session": ("session.read", "session.write", "session.write"),
}


def _body(actor: dict, backend: Fl33tBackend, action: Optional[str], **require: Any) -> Any:
    """The JSON body, read only once the actor is known to be allowed to send it."""
    if action is not None:
        backend.require(actor, action, **require)
    return read_json()


def _upload_filename() -> Optional[str]:
    """The file name from ``Content-Disposition: attachment; filename="fw.bin"``."""
    header = request.headers.get("Content-Disposition")
    if not header:
        return None
    _, options = parse_options_header(header)
    name = options.get("filename")
    return name.replace("\\", "/").rsplit("/", 1)[-1] or None if name else None


def make_blueprint(backend: Fl33tBackend) -> Blueprint:
    bp = Blueprint("fl33t", __name__, url_prefix="/team/<team_id>")

    def actor(team_id: str) -> dict:
        return backend.authenticate(team_id, request.headers.get("Authorization"))

    def crud(model: str, list_fn: Callable, get_fn: Callable, create_fn: Callable,
             update_fn: Callable, delete_fn: Callable, with_url: bool = False) -> None:
        """Register ``/<model>s``, ``/<model>`` and ``/<model>/<id>`` for one model."""
        read, create, write = _ACTIONS[model]
        extra: Callable[[], tuple] = (lambda: (base_url(),)) if with_url else (lambda: ())

        def list_(team_id: str) -> Response:
            return json_response(list_fn(actor(team_id), team_id, request.args, *extra()))

        def get(team_id: str, obj_id: str) -> Response:
            return json_response(get_fn(actor(team_id), team_id, obj_id, *extra()))

        def post(team_id: str) -> Response:
            who = actor(team_id)
            body = _body(who, backend, create)
            return json_response(create_fn(who, team_id, body, *extra()), 201)

        def put(team_id: str, obj_id: str) -> Response:
            who = actor(team_id)
            update_fn(who, team_id, obj_id, _body(who, backend, write))
            return empty(204)

        def delete(team_id: str, obj_id: str) -> Response:
            delete_fn(actor(team_id), team_id, obj_id)
            return empty(204)

        bp.add_url_rule(f"/{model}s", f"list_{model}s", list_, methods=["GET"])
        bp.add_url_rule(f"/{model}", f"create_{model}", post, methods=["POST"])
        bp.add_url_rule(f"/{model}/<obj_id>", f"get_{model}", get, methods=["GET"])
        bp.add_url_rule(f"/{model}/<obj_id>", f"update_{model}", put, methods=["PUT"])
        bp.add_url_rule(f"/{model}/<obj_id>", f"delete_{model}", delete, methods=["DELETE"])

    b = backend
    crud("session", b.list_sessions, b.get_session, b.create_session, b.update_session,
         b.delete_session)
    crud("train", b.list_trains, b.get_train, b.create_train, b.update_train, b.delete_train)
    crud("build", b.list_builds, b.get_build, b.create_build, b.update_build, b.delete_build,
         with_url=True)
    crud("fleet", b.list_fleets, b.get_fleet, b.create_fleet, b.update_fleet, b.delete_fleet)
    crud("device", b.list_devices, b.get_device, b.create_device, b.update_device,
         b.delete_device)

    @bp.post("/devices")
    def provision(team_id: str) -> Response:
        who = actor(team_id)
        return json_response(backend.create_devices(who, team_id,
                                                    _body(who, backend, "device.create")), 201)

    @bp.post("/device/<device_id>/checkin")
    def checkin(team_id: str, device_id: str) -> Response:
        who = actor(team_id)
        backend.require(who, "device.checkin", device_id=device_id)
        answer = backend.checkin(who, team_id, device_id, read_json(default={}), base_url())
        return empty(204) if answer is None else json_response(answer)

    @bp.put("/build/<build_id>/upload")
    def upload(team_id: str, build_id: str) -> Response:
        backend.receive_upload(team_id, build_id, request.args, request.get_data(),
                               _upload_filename())
        return empty(200)

    @bp.get("/build/<build_id>/download")
    def download(team_id: str, build_id: str) -> Response:
        found = backend.download(team_id, build_id, request.args)
        return send_bytes(found["data"], filename=found["filename"], etag=found["md5"])

    routes_legacy.add_routes(bp, backend, actor)
    return bp
