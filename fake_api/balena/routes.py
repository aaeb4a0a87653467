"""balena HTTP routes: the non-OData endpoints (auth, API keys, 2FA, registration, config) and
the OData mount from :mod:`.routes_pine`. Parse, call the backend, serialize; nothing else.

Text answers matter: ``/login_``, ``/whoami`` and ``/auth/totp/*`` answer the bare token as
text (the SDK stores the body verbatim), ``/api-key/*`` a JSON string (the SDK strips quotes).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from ..http import base_url, json_response, read_json
from . import routes_device
from .auth import actor_from_request
from .errors import not_found
from .models import BalenaBackend


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _body() -> Any:
    return read_json({}, expect=None)


def make_blueprint(backend: BalenaBackend) -> Blueprint:
    bp = Blueprint("balena", __name__)

    def actor(**kwargs: Any) -> Any:
        return actor_from_request(backend, request, **kwargs)

    # -- auth -------------------------------------------------------------------------------------

    @bp.post("/login_")
    def login() -> Response:
        return _text(backend.login(_body()))

    @bp.get("/whoami")
    def refresh() -> Response:
        return _text(backend.refresh(actor(allow_two_factor=True)))

    @bp.get("/user/v1/refresh-token")
    def refresh_token() -> Response:
        return _text(backend.refresh(actor(allow_two_factor=True)))

    @bp.get("/actor/v1/whoami")
    def actor_whoami() -> Response:
        return json_response(backend.actor_whoami(actor()))

    @bp.get("/user/v1/whoami")
    def user_whoami() -> Response:
        return json_response(backend.user_whoami(actor()))

    @bp.post("/user/register")
    def register_user() -> Response:
        return _text(backend.register_user(_body()), 201)

    # -- two-factor authentication ----------------------------------------------------------------

    @bp.get("/auth/totp/setup")
    def totp_setup() -> Response:
        return _text(backend.totp_setup(actor()))

    @bp.post("/auth/totp/verify")
    def totp_verify() -> Response:
        return _text(backend.totp_verify(actor(allow_two_factor=True), _body()))

    @bp.post("/auth/totp/disable")
    def totp_disable() -> Response:
        return _text(backend.totp_disable(actor(), _body()))

    # -- API keys ---------------------------------------------------------------------------------

    @bp.post("/api-key/user/full")
    def user_key() -> Response:
        return json_response(backend.create_user_key(actor(), _body()))

    @bp.post("/api-key/v1")
    def key_v1() -> Response:
        return json_response(backend.create_key_v1(actor(), _body()))

    @bp.post("/api-key/device/<int:device_id>/device-key")
    def device_key(device_id: int) -> Response:
        return json_response(backend.create_device_key(actor(), device_id, _body()))

    @bp.post("/api-key/application/<int:app_id>/provisioning")
    def provisioning_key(app_id: int) -> Response:
        return json_response(backend.create_provisioning_key(actor(), app_id, _body()))

    # -- devices and misc -------------------------------------------------------------------------

    @bp.post("/device/register")
    def register_device() -> Response:
        return json_response(backend.register_device(actor(), _body()), 201)

    @bp.post("/user/v1/invitation/<token>")
    def accept_app_invite(token: str) -> Response:
        backend.accept_invite(actor(), "application", token)
        return _text("OK")

    @bp.post("/org/v1/invitation/<token>")
    def accept_org_invite(token: str) -> Response:
        backend.accept_invite(actor(), "organization", token)
        return _text("OK")

    @bp.post("/download-config")
    def download_config() -> Response:
        return json_response(backend.download_config(actor(), _body(), base_url()))

    @bp.get("/config")
    def config() -> Response:
        return json_response(backend.config())

    @bp.get("/config/vars")
    def config_vars() -> Response:
        return json_response(backend.config_vars())

    @bp.get("/device-types/v1/<slug>/images/<version>/download-size")
    def download_size(slug: str, version: str) -> Response:
        if backend.device_type_by_alias(slug) is None:
            raise not_found(f"No such device type: {slug}")
        return json_response({"size": 512 * 1024 * 1024})

    try:
        from . import routes_pine
    except ImportError:  # pragma: no cover - the OData half lands separately
        routes_pine = None  # type: ignore[assignment]
    if routes_pine is not None:
        routes_pine.register(bp, backend)
    routes_device.register(bp, backend)  # device side, supervisor proxy, logs (part 2)
    return bp
