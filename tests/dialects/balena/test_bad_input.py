"""Junk sent to the non-OData endpoints: balena's error format (a JSON string), the right
status, never a 500, and no state change."""

from __future__ import annotations

import json
from typing import Any

import pytest

BODIES = [b"", b"not json", b"[1, 2]", b'"text"', b"null", b'{"username": 1, "password": []}',
          b'{"code": ["1"], "password": {"a": 1}, "name": 5, "expiryDate": [], "actorType": "device",'
          b' "actorTypeId": "1", "application": true, "uuid": 7, "device_type": 3}']
ENDPOINTS = [("POST", "/login_"), ("POST", "/api-key/user/full"), ("POST", "/api-key/v1/"),
             ("POST", "/api-key/device/1/device-key"), ("POST", "/device/register"),
             ("POST", "/auth/totp/verify"), ("POST", "/auth/totp/disable"),
             ("POST", "/user/register"), ("POST", "/supervisor/v1/reboot"),
             ("POST", "/user/v1/invitation/nope"), ("POST", "/org/v1/invitation/nope"),
             ("POST", "/api-key/application/99/provisioning")]


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_junk_bodies(fleetsim: Any, raw: Any, state: Any, method: str, path: str) -> None:
    before = state()["tables"]
    for body in BODIES:
        r = raw(method, path, data=body, headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
        assert isinstance(json.loads(r.text), str)
    after = state()["tables"]
    assert {k: v for k, v in after.items() if k != "_core.counters"} == \
        {k: v for k, v in before.items() if k != "_core.counters"}


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic abc", "bearer a.b", "Bearer a.b.c.d",
                                    "Bearer eyJhbGciOiJub25lIn0.eyJpZCI6MX0."])
def test_bad_authorization_headers(raw: Any, header: str) -> None:
    for path in ("/actor/v1/whoami", "/v7/application", "/whoami"):
        r = raw("GET", path, token=None, headers={"Authorization": header})
        assert r.status_code == 401 and r.json().startswith("Unauthorized"), (path, r.text)


def test_anonymous_rest_calls_are_401(raw: Any) -> None:
    for method, path in [("GET", "/actor/v1/whoami"), ("GET", "/user/v1/whoami"),
                         ("GET", "/auth/totp/setup"), ("POST", "/api-key/user/full"),
                         ("POST", "/device/register"), ("GET", "/whoami")]:
        assert raw(method, path, token=None, json={}).status_code == 401, path


def test_config_and_unknown_paths(raw: Any) -> None:
    assert raw("GET", "/config", token=None).json()["deviceUrlsBase"] == "balena-devices.com"
    r = raw("GET", "/device-types/v1/nope/images/latest/download-size")
    assert r.status_code == 404 and isinstance(r.json(), str)
    r = raw("GET", "/v7/no_such_resource")
    assert 400 <= r.status_code < 500 and isinstance(r.json(), str)
