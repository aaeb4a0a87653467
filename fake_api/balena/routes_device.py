"""balena's device-side HTTP routes (what a supervisor calls) and the supervisor proxy, mounted
on the balena blueprint by ``register(bp, backend)``. Parse, call the model, serialize.

- ``GET /device/v2/<uuid>/state``, ``GET /device/v3/<uuid>/state``,
  ``GET /device/v3/fleet/<appUuid>/state/`` (target state)
- ``PATCH /device/v2/<uuid>/state``, ``PATCH /device/v3/state`` (current state)
- ``GET|POST /device/v2/<uuid>/logs`` (history, ``?stream=1`` NDJSON, device writes)
- ``POST /supervisor/...`` (the proxy; ``/supervisor//ping`` too), ``POST /applcation/<id>/restart``
  (sic), ``POST /device/<id>/restart``
- ``POST /v3/buildFromUrl`` (the builder, on ``builder_url``)
- ``POST|GET /v1|v2/<uuid>/resinhup`` (the actions host ``actions.balena-devices.com``: host OS
  updates; reached in intercept mode)
- ``GET /device/v2/<uuid>/fleetsim/actions`` (fleetsim's own: a device takes its queued actions)
"""

from __future__ import annotations

import os
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

import requests
from flask import Blueprint, Response, current_app, request, stream_with_context

from ..http import empty, json_response, read_json
from .auth import actor_from_request
from .builder import MAX_TARBALL, Builder
from .device_state import DeviceState
from .hostos import HostOsUpdates
from .logs import DeviceLogs
from .supervisor import Supervisor


def attach(backend: Any) -> Any:
    """The backend's device-side models, made once per backend (``backend.device_side``)."""
    side = backend.__dict__.get("device_side")
    if side is None:
        side = DeviceSide(backend)
        backend.device_side = side
    return side


class DeviceSide:
    """The three device-side models of one backend."""

    def __init__(self, backend: Any) -> None:
        self.state = DeviceState(backend)
        self.supervisor = Supervisor(backend, self.state)
        self.logs = DeviceLogs(backend, self.state)
        self.hostos = HostOsUpdates(backend, self.state, self.supervisor)
        self.builder = Builder(backend)


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _answer(status: int, body: Any) -> Response:
    if status == 204:
        return Response(status=204)
    if isinstance(body, (dict, list)):
        return json_response(body, status)
    return _text(str(body), status)


def fetch_tarball(url: str) -> Optional[bytes]:
    """The builder's download: ``file://`` paths, the fake's own URLs (served in process: the
    store lock is held, a socket request to ourselves would wait forever), else the network."""
    parts = urlsplit(url)
    try:
        if parts.scheme == "file":
            path = unquote(parts.path)
            if not os.path.isfile(path) or os.path.getsize(path) > MAX_TARBALL:
                return None
            with open(path, "rb") as handle:
                return handle.read()
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        app: Any = current_app
        own = parts.netloc == request.host or any(
            d.owns_host(parts.netloc) for d in getattr(app, "dialects", ()))
        if own:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            answer = app.test_client().get(target, base_url=f"{parts.scheme}://{parts.netloc}")
            return answer.data if answer.status_code == 200 else None
        with requests.get(url, timeout=10, stream=True) as answer:
            if answer.status_code != 200:
                return None
            data = answer.raw.read(MAX_TARBALL + 1, decode_content=True)
            return data if len(data) <= MAX_TARBALL else None
    except (OSError, requests.RequestException, ValueError):
        return None


def register(bp: Blueprint, backend: Any) -> None:
    side = attach(backend)
    state, supervisor, logs = side.state, side.supervisor, side.logs

    def actor() -> Any:
        return actor_from_request(backend, request)

    @bp.before_request
    def _sweep() -> None:
        """Devices that went quiet turn offline before anyone reads them."""
        state.sweep()

    # -- target and current state -----------------------------------------------------------------

    @bp.get("/device/v2/<uuid>/state")
    def target_v2(uuid: str) -> Response:
        return json_response(state.state_v2(actor(), uuid))

    @bp.get("/device/v3/<uuid>/state")
    def target_v3(uuid: str) -> Response:
        return json_response(state.state_v3(actor(), uuid))

    @bp.get("/device/v3/fleet/<app_uuid>/state/")
    @bp.get("/device/v3/fleet/<app_uuid>/state")
    def fleet_target_v3(app_uuid: str) -> Response:
        return json_response(state.fleet_state_v3(actor(), app_uuid,
                                                  request.args.get("releaseUuid")))

    @bp.patch("/device/v2/<uuid>/state")
    def report_v2(uuid: str) -> Response:
        state.report_v2(actor(), uuid, read_json({}, expect=None))
        return empty(200)  # open-balena: 200 with no body

    @bp.patch("/device/v3/state")
    def report_v3() -> Response:
        state.report_v3(actor(), read_json({}, expect=None))
        return empty(200)

    # -- logs -------------------------------------------------------------------------------------

    @bp.get("/device/v2/<uuid>/logs")
    def read_logs(uuid: str) -> Response:
        who = actor()
        if request.args.get("stream") == "1":
            lines = logs.stream(who, uuid, request.args.get("count"))
            return Response(stream_with_context(lines), mimetype="application/x-ndjson",
                            headers={"Cache-Control": "no-cache"})
        return json_response(logs.history(who, uuid, request.args.get("count")))

    @bp.post("/device/v2/<uuid>/logs")
    def write_logs(uuid: str) -> Response:
        logs.write(actor(), uuid, read_json([], expect=None))
        return Response(status=201)

    # -- supervisor proxy -------------------------------------------------------------------------

    def proxy(action: str) -> Response:
        return _answer(*supervisor.proxy(actor(), action, read_json({}, expect=None)))

    bp.add_url_rule("/supervisor/<path:action>", "supervisor_proxy", proxy, methods=["POST"])
    # device.ping posts to /supervisor//ping (an SDK bug): served as is, no 308 redirect
    bp.add_url_rule("/supervisor//<path:action>", "supervisor_proxy_double_slash", proxy,
                    methods=["POST"], merge_slashes=False)

    @bp.get("/device-types/v1")
    def device_types() -> Response:
        """The device type manifests older SDKs list (balena-sdk 9.x's ``create`` maps a display
        name to a slug with them): slug, name, architecture, state."""
        with backend.lock:
            rows = sorted(backend.db.tables["device_type"].values(), key=lambda r: r["name"])
            arch = backend.db.tables["cpu_architecture"]
            return json_response([{
                "slug": r["slug"], "name": r["name"], "arch": arch[r["is_of__cpu_architecture"]]["slug"],
                "state": "RELEASED", "aliases": [a["is_referenced_by__alias"] for a in
                                                 backend.db.children("device_type_alias",
                                                                     "device_type", r["id"])],
            } for r in rows])

    @bp.post("/blink")
    def blink() -> Response:
        """balena-sdk 9.x's ``device.identify``: ``POST /blink {"uuid"}``."""
        return _answer(*supervisor.proxy(actor(), "v1/blink", read_json({}, expect=None)))

    @bp.post("/applcation/<int:app_id>/restart")
    @bp.post("/application/<int:app_id>/restart")
    def app_restart(app_id: int) -> Response:
        return _text(supervisor.app_restart(actor(), app_id))

    @bp.post("/device/<int:device_id>/restart")
    def device_restart(device_id: int) -> Response:
        return _text(supervisor.device_restart(actor(), device_id))

    # -- host OS updates (actions.<deviceUrlsBase>) -------------------------------------------------

    @bp.post("/v1/<uuid>/resinhup")
    @bp.post("/v2/<uuid>/resinhup")
    def start_os_update(uuid: str) -> Response:
        return json_response(side.hostos.start(actor(), uuid, read_json({}, expect=None)), 202)

    @bp.get("/v1/<uuid>/resinhup")
    @bp.get("/v2/<uuid>/resinhup")
    def os_update_status(uuid: str) -> Response:
        return json_response(side.hostos.status(actor(), uuid))

    # -- builder (the SDK's builder_url points here) ----------------------------------------------

    @bp.post("/v3/buildFromUrl")
    def build_from_url() -> Response:
        status, answer = side.builder.build_from_url(
            actor(), request.args.get("owner"), request.args.get("app"),
            read_json({}, expect=None), fetch_tarball)
        return json_response(answer, status)

    @bp.get("/device/v2/<uuid>/fleetsim/actions")
    def take_actions(uuid: str) -> Response:
        peek = request.args.get("peek") in ("1", "true")
        return json_response({"actions": supervisor.take(actor(), uuid, peek=peek)})
