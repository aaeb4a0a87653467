"""balena's entry in the reliability table (see :mod:`.endpoints`): a representative set of
OData resources (GET, POST, PATCH and DELETE by key and by ``$filter``, on ``/v6`` and ``/v7``)
and every non-OData route, against balena's credential kinds.

The expected statuses are written from docs/balena.md ("Permission model", "Guesses"): a token
that is forged or expired is 401 everywhere it is read; OData hides what the caller may not see
(a read or a write by filter answers 200 and touches nothing), and a write by key to a row the
caller cannot change is 401 (pinejs answers 401 for permission failures); non-OData routes that
need a user answer a provisioning or device key with 403; device-side routes answer 401 to anyone
but the device (open-balena's wording).
"""

from __future__ import annotations

import json
from typing import Any

from fake_api.balena.auth import encode_jwt
from fake_api.core import Cloud

from .endpoints import Endpoint, World, _seeder

V7, V6 = "/v7", "/v6"
BAD = ("none", "forged", "expired")
USERS = ("user", "user_key")  # the fleet owner, by JWT and by named API key
BALENA_CREDENTIALS = ("none", "forged", "expired", "other_org", "user", "user_key",
                      "provisioning", "device", "device_other")

#: every credential but a bad token: 200 (what changes depends on who the caller is)
_QUIET_OK = {c: "ok" for c in BALENA_CREDENTIALS} | {"forged": 401, "expired": 401}
#: needs -> credential -> status (``"ok"``: the endpoint's own success status), from the docs
_OK = "ok"
RULES: dict[str, dict[str, Any]] = {
    # no token needed, a token is not even read
    "open": {c: _OK for c in BALENA_CREDENTIALS},
    # anyone; a token that is sent must be valid
    "any": {**{c: _OK for c in BALENA_CREDENTIALS}, "forged": 401, "expired": 401},
    # anyone; a token that is sent must be valid. OData hides the rows (200, nothing to see)
    "odata.read": {**{c: _OK for c in BALENA_CREDENTIALS}, "forged": 401, "expired": 401},
    # a user, any user (their own account); keys of fleets and devices are 403
    "user": {"none": 401, "forged": 401, "expired": 401, "other_org": _OK, "user": _OK,
             "user_key": _OK, "provisioning": 403, "device": 403, "device_other": 403},
    # the fleet's users (and its provisioning key where the docs say so)
    "fleet.user": {"none": 401, "forged": 401, "expired": 401, "other_org": 404, "user": _OK,
                   "user_key": _OK, "provisioning": 404, "device": 403, "device_other": 403},
    "fleet.provision": {"none": 401, "forged": 401, "expired": 401, "other_org": 404,
                        "user": _OK, "user_key": _OK, "provisioning": _OK, "device": 403,
                        "device_other": 403},
    # OData writes: pinejs applies the read permission as a filter first, so a row the caller
    # cannot see is not matched (200, nothing changes); a row it sees but may not change is 401
    "odata.create": {c: 401 for c in BALENA_CREDENTIALS} | {"user": _OK, "user_key": _OK},
    "odata.write": {**_QUIET_OK, "provisioning": 401, "device": 401, "device_other": 401},
    "odata.device_write": dict(_QUIET_OK),  # the device changes its own row
    "odata.device_only": {**_QUIET_OK, "device": 401},  # the device sees it, may not change it
    "odata.fleet_only": {**_QUIET_OK, "device": 401, "device_other": 401},
    # the owner's devices: a device key may not delete itself (nor any other row)
    "odata.device_delete": {**_QUIET_OK, "device_other": 401},
    # the device's own state and logs: the device and the fleet's users read, others 401
    "device.read": {c: 401 for c in BALENA_CREDENTIALS} | {"user": _OK, "user_key": _OK,
                                                            "device": _OK},
    # what only the device itself writes
    "device.write": {c: 401 for c in BALENA_CREDENTIALS} | {"device": _OK},
    # the supervisor proxy: users only (a key of a fleet or device is 403)
    "supervisor": {"none": 401, "forged": 401, "expired": 401, "other_org": 404, "user": _OK,
                   "user_key": _OK, "provisioning": 403, "device": 403, "device_other": 403},
}

#: needs -> the credentials whose allowed request changes the state (default: all allowed)
CHANGERS: dict[str, set[str]] = {
    "odata.write": set(USERS), "odata.device_write": {*USERS, "device"},
    "odata.device_only": set(USERS), "odata.fleet_only": set(USERS),
    "odata.device_delete": set(USERS),
}


def _ep(method: str, path: str, ok: int = 200, body: Any = None, *, needs: str,
        mutating: bool = True, **kw: Any) -> Endpoint:
    return Endpoint(method, path, ok, body, needs=needs, mutating=mutating, **kw)


BALENA_ENDPOINTS = [
    # -- OData, a representative set ----------------------------------------------------------
    _ep("GET", V7 + "/application({app})", needs="odata.read", mutating=False),
    _ep("GET", V7 + "/device", needs="odata.read", mutating=False,
        query={"$filter": "belongs_to__application eq {app}", "$select": "id,uuid"}),
    _ep("GET", V7 + "/device({device})", needs="odata.read", mutating=False,
        query={"$expand": "device_tag"}),
    _ep("GET", V6 + "/release", needs="odata.read", mutating=False,
        query={"$filter": "belongs_to__application eq {app}", "$orderby": "id desc"}),
    _ep("GET", V7 + "/device_type", needs="odata.read", mutating=False,
        query={"$top": "2"}),
    _ep("POST", V7 + "/application_tag", 201, {"application": "{app_int}", "tag_key": "k2",
                                               "value": "v"}, needs="odata.create"),
    _ep("POST", V6 + "/device_tag", 201, {"device": "{device_int}", "tag_key": "k2",
                                          "value": "v"}, needs="odata.create"),
    _ep("PATCH", V7 + "/device({device})", 200, {"note": "changed"}, needs="odata.device_write"),
    _ep("PATCH", V7 + "/application({app})", 200, {"app_name": "renamed"}, needs="odata.write"),
    _ep("PATCH", V7 + "/device_tag", 200, {"value": "changed"}, needs="odata.device_only",
        query={"$filter": "device eq {device}"}),
    _ep("PATCH", V6 + "/device", 200, {"note": "by filter"}, needs="odata.device_write",
        query={"$filter": "uuid eq '{uuid}'"}),
    _ep("DELETE", V7 + "/device_tag({tag})", 200, needs="odata.device_only"),
    _ep("DELETE", V6 + "/application_tag", 200, needs="odata.fleet_only",
        query={"$filter": "application eq {app}"}),
    _ep("DELETE", V7 + "/device({spare_device})", 200, needs="odata.device_delete"),
    # -- auth ----------------------------------------------------------------------------------
    _ep("POST", "/login_", 200, {"username": "{username}", "password": "{password}"},
        needs="open", mutating=False),
    _ep("GET", "/whoami", needs="user.jwt", mutating=False),
    _ep("GET", "/user/v1/refresh-token", needs="user.jwt", mutating=False),
    _ep("GET", "/actor/v1/whoami", needs="actor", mutating=False),
    _ep("GET", "/user/v1/whoami", needs="user.any", mutating=False),
    _ep("POST", "/user/register", 201, {"email": "new@example.com", "password": "pw-12345678",
                                        "username": "newcomer"}, needs="open"),
    _ep("GET", "/auth/totp/setup", needs="user"),
    _ep("POST", "/auth/totp/verify", 400, {"code": "000000"}, needs="user.jwt_2fa", mutating=False),
    _ep("POST", "/auth/totp/disable", 200, {"password": "{password}", "code": "000000"},
        needs="user.password", mutating=False),  # 2FA is off: nothing to disable,
    # -- API keys ------------------------------------------------------------------------------
    _ep("POST", "/api-key/user/full", 200, {"name": "ci"}, needs="user"),
    _ep("POST", "/api-key/v1", 200, {"actorType": "application", "actorTypeId": "{app_int}",
                                     "name": "prov"}, needs="fleet.user"),
    _ep("POST", "/api-key/device/{device}/device-key", 200, {}, needs="fleet.provision"),
    _ep("POST", "/api-key/application/{app}/provisioning", 200, {}, needs="fleet.user"),
    # -- devices, config, invitations ----------------------------------------------------------
    _ep("POST", "/device/register", 201, {"application": "{app_int}", "uuid": "f" * 32,
                                          "device_type": "raspberrypi4-64"},
        needs="fleet.provision"),
    _ep("POST", "/user/v1/invitation/{invite}", 404, needs="user", mutating=False),
    _ep("POST", "/org/v1/invitation/{invite}", 404, needs="user", mutating=False),
    _ep("POST", "/download-config", 200, {"appId": "{app_int}", "deviceType": "raspberrypi4-64",
                                          "version": "v2.0.0"}, needs="fleet.user"),
    _ep("GET", "/config", needs="open", mutating=False),
    _ep("GET", "/config/vars", needs="open", mutating=False),
    _ep("GET", "/device-types/v1/{device_type}/images/{os_version}/download-size", needs="open",
        mutating=False),
    _ep("GET", "/device-types/v1", needs="open", mutating=False),
    # -- device side ---------------------------------------------------------------------------
    _ep("GET", "/device/v2/{uuid}/state", needs="device.read"),
    _ep("GET", "/device/v3/{uuid}/state", needs="device.read"),
    _ep("GET", "/device/v3/fleet/{app_uuid}/state", needs="fleet.state", mutating=False),
    _ep("GET", "/device/v3/fleet/{app_uuid}/state/", needs="fleet.state", mutating=False),
    _ep("PATCH", "/device/v2/{uuid}/state", 200, {"local": {"status": "Idle", "ip_address":
                                                            "10.0.0.2"}}, needs="device.read"),
    _ep("PATCH", "/device/v3/state", 200, {"{uuid}": {"status": "Idle",
                                                      "ip_address": "10.0.0.3"}},
        needs="device.read"),
    _ep("GET", "/device/v2/{uuid}/logs", needs="logs.read", mutating=False),
    _ep("POST", "/device/v2/{uuid}/logs", 201, [{"message": "hi", "timestamp": 1}],
        needs="logs.write"),
    _ep("GET", "/device/v2/{uuid}/fleetsim/actions", needs="device.write"),  # contact
    # -- supervisor proxy and restarts (the device is online) ----------------------------------
    _ep("POST", "/supervisor/{blink}", 200, {"uuid": "{uuid}"}, needs="supervisor"),
    _ep("POST", "/supervisor//{ping}", 200, {"uuid": "{uuid}"}, needs="supervisor",
        mutating=False),  # the SDK's doubled slash, served as is; a ping is not queued
    _ep("POST", "/blink", 200, {"uuid": "{uuid}"}, needs="supervisor"),
    _ep("POST", "/application/{app}/restart", 200, needs="supervisor"),
    _ep("POST", "/applcation/{app}/restart", 200, needs="supervisor"),
    _ep("POST", "/device/{device}/restart", 200, needs="supervisor"),
    # -- host OS updates (actions host) and the builder ----------------------------------------
    _ep("POST", "/v2/{uuid}/resinhup", 400, {"parameters": {"target_version": "no-such"}},
        needs="hostos", mutating=False),
    _ep("GET", "/v1/{uuid}/resinhup", needs="hostos", mutating=False),
    _ep("POST", "/v1/{uuid}/resinhup", 400, {"parameters": {"target_version": "0.0"}}, needs="hostos",
        mutating=False),
    _ep("GET", "/v2/{uuid}/resinhup", needs="hostos", mutating=False),
    _ep("POST", "/v3/buildFromUrl", 400, {"url": "file:///nonexistent/fleetsim.tar"},
        needs="hostos", mutating=False, query={"owner": "{username}", "app": "myfleet"}),
]
RULES["actor"] = {**{c: _OK for c in BALENA_CREDENTIALS}, "none": 401, "forged": 401,
                  "expired": 401}
# the fleet's target state: its users, its provisioning key and its devices
RULES["fleet.state"] = dict(RULES["device.read"]) | {"device_other": _OK, "provisioning": _OK}
# a user's session (JWT only: an API key has no session to refresh); anything else is 401
RULES["user.jwt"] = {c: 401 for c in BALENA_CREDENTIALS} | {"user": _OK, "other_org": _OK}
RULES["user.any"] = RULES["user.jwt"] | {"user_key": _OK}
RULES["user.jwt_2fa"] = RULES["user"] | {"user_key": 403}  # the 2FA challenge is a JWT's
RULES["user.password"] = RULES["user"] | {"other_org": 401}  # the body has the owner's password
# logs (docs/balena.md "Logs"): the device and its users read; only the device writes (a user
# 401, another device or someone who cannot see it 404)
RULES["logs.read"] = {**RULES["device.read"], "other_org": 404, "provisioning": 404,
                      "device_other": 404}
RULES["logs.write"] = {**RULES["logs.read"], "user": 401, "user_key": 401, "device": _OK}
# the actions host and the builder: users who may change the device or fleet, else 401
RULES["hostos"] = {c: 401 for c in BALENA_CREDENTIALS} | {"user": _OK, "user_key": _OK}


def seed_balena(cloud: Cloud) -> World:
    s = _seeder(cloud, "balena")
    backend = cloud.backends["balena"]
    owner = s.user("owner")
    other = s.user("stranger")
    app = s.application(owner, "myfleet")
    s.release(app, commit="a" * 32)
    device = s.device(app, "d" * 32, name="dev-1", online=True)
    spare = s.device(app, "e" * 32, name="dev-2", online=True)
    s.application(other, "theirs")
    provisioning = s.provisioning_key(app)
    with backend.lock:
        tag = backend.db.insert("device_tag", {"device": device["id"], "tag_key": "k",
                                               "value": "v"})
        backend.db.insert("application_tag", {"application": app["id"], "tag_key": "k",
                                              "value": "v"})
        claims = _claims(owner.token)
        claims.update(iat=claims["iat"] - 10 * 86400, exp=claims["iat"] - 86400)
        expired = encode_jwt(claims, backend.secret)
    forged = encode_jwt(dict(_claims(owner.token), id=other.id), b"not-the-secret")

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    credentials = {
        "none": {}, "forged": bearer(forged), "expired": bearer(expired),
        "other_org": bearer(other.token), "user": bearer(owner.token),
        "user_key": bearer(owner.api_key), "provisioning": bearer(provisioning),
        "device": bearer(device["api_key"]), "device_other": bearer(spare["api_key"]),
    }
    values = {"app": str(app["id"]), "app_int": app["id"], "app_uuid": app["uuid"],
              "device": str(device["id"]), "device_int": device["id"], "uuid": device["uuid"],
              "spare_device": str(spare["id"]), "tag": str(tag["id"]),
              "username": owner.username, "password": owner.password, "invite": "no-such-invite",
              "device_type": "raspberrypi4-64", "os_version": "latest", "blink": "v1/blink",
              "ping": "ping"}
    return World(values, credentials)


def _claims(token: str) -> dict:
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def balena_expected(endpoint: Endpoint, credential: str) -> int:
    status = RULES[endpoint.needs][credential]
    return endpoint.ok if status == _OK else status


def balena_writes(endpoint: Endpoint, credential: str) -> bool:
    """Whether an allowed request changes the state (a filtered write by a caller who may not
    change those rows matches nothing)."""
    if not endpoint.mutating or endpoint.ok >= 400:
        return False
    return credential in CHANGERS.get(endpoint.needs, BALENA_CREDENTIALS)


def balena_secrets(world: World, credential: str) -> list[str]:
    """Keys are shown only to their holders: no answer shows a device's or the fleet's key to
    anyone else."""
    keys = {kind: headers["Authorization"][7:] for kind, headers in world.credentials.items()
            if kind in ("provisioning", "device", "device_other", "user_key")}
    return [key for kind, key in keys.items() if kind != credential]


def balena_error(status: int, body: bytes) -> None:
    """balena's error format: a JSON string body, not empty. The builder (``/v3/buildFromUrl``,
    another service of balena's) answers its own ``{"started": false, "message"}``."""
    data = json.loads(body)
    if isinstance(data, dict):
        assert set(data) == {"started", "message"} and data["started"] is False, data
        assert isinstance(data["message"], str) and data["message"], data
        return
    assert isinstance(data, str) and data, data
