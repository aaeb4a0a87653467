"""API keys (user, named, provisioning, device; expiry on the fake's clock) and SSH keys."""

from __future__ import annotations

from typing import Any

import pytest
from balena import exceptions


def test_named_user_keys(fleetsim: Any, models: Any, user: Any) -> None:
    key = models.api_key.create("ci", "for CI", "2026-01-02T00:00:00Z")
    assert len(key) == 32
    named = models.api_key.get_all_named_user_api_keys()
    by_name = {k["name"]: k for k in named}
    assert set(by_name) == {"ci", "fleetsim"}
    assert by_name["ci"]["description"] == "for CI"
    assert by_name["ci"]["expiry_date"] == "2026-01-02T00:00:00.000Z"
    assert all("key" not in k for k in named)  # the key itself is never readable
    client = fleetsim.balena.sdk()
    client.auth.login_with_token(key)
    assert client.auth.is_logged_in()
    fleetsim.clock.advance(days=2)  # past its expiry date
    assert client.auth.is_logged_in() is False
    # update() always sends expiry_date (None unless given): the key no longer expires
    models.api_key.update(by_name["ci"]["id"], {"name": "ci2", "description": None})
    got = models.api_key.get_all({"$filter": {"id": by_name["ci"]["id"]}})[0]
    assert (got["name"], got["description"], got["expiry_date"]) == ("ci2", None, None)
    assert client.auth.is_logged_in() is True

    models.api_key.revoke(by_name["fleetsim"]["id"])
    revoked = fleetsim.balena.sdk()
    revoked.auth.login_with_token(user.api_key)
    assert revoked.auth.is_logged_in() is False


def test_key_create_refusals(fleetsim: Any, models: Any, raw: Any, user: Any) -> None:
    past = raw("POST", "/api-key/user/full", json={"name": "old", "expiryDate": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400
    assert raw("POST", "/api-key/user/full", json={"name": ""}).status_code == 400
    assert raw("POST", "/api-key/user/full", json={"name": "x", "expiryDate": "soon"}).status_code \
        == 400
    assert raw("POST", "/api-key/user/full", token=None, json={"name": "x"}).status_code == 401
    device = fleetsim.balena.device(fleetsim.balena.application(user, "keyfleet"))
    assert raw("POST", "/api-key/user/full", token=device["api_key"],
               json={"name": "x"}).status_code == 403


def test_provisioning_and_device_keys_by_parent(fleetsim: Any, models: Any, fleet: dict) -> None:
    models.application.generate_provisioning_key(fleet["id"], "prov", "d", "2030-01-01T00:00:00Z")
    keys = models.api_key.get_provisioning_api_keys_by_application(fleet["slug"])
    assert [(k["name"], k["expiry_date"]) for k in keys] == [("prov", "2030-01-01T00:00:00.000Z")]
    device = fleetsim.balena.device(fleet)
    models.device.generate_device_key(device["uuid"], "dk")
    by_device = models.api_key.get_device_api_keys_by_device(device["uuid"])
    assert sorted(str(k["name"]) for k in by_device) == ["None", "dk"]


def test_other_user_cannot_list_or_make_keys(fleetsim: Any, models: Any, fleet: dict,
                                             other: Any) -> None:
    device = fleetsim.balena.device(fleet)
    assert "not found" in other.models.device.generate_device_key(device["id"], "steal")
    assert other.pine.get({"resource": "api_key", "options": {
        "$filter": {"is_of__actor": fleet["actor"]}}}) == []


def test_ssh_keys(models: Any) -> None:
    made = models.key.create("laptop", "ssh-ed25519 AAAAC3Nza laptop")
    assert made["title"] == "laptop"
    assert [k["title"] for k in models.key.get_all({"$select": "title"})] == ["laptop"]
    assert models.key.get(made["id"])["public_key"] == "ssh-ed25519 AAAAC3Nza laptop"
    models.key.remove(made["id"])
    with pytest.raises(exceptions.KeyNotFound):
        models.key.get(made["id"])
    with pytest.raises(exceptions.RequestError):  # an out-of-range integer id is a non-2xx
        models.key.get(99999999999)


def test_ssh_keys_are_private(models: Any, other: Any) -> None:
    made = models.key.create("laptop", "ssh-ed25519 AAAA laptop")
    assert other.models.key.get_all() == []
    with pytest.raises(exceptions.KeyNotFound):
        other.models.key.get(made["id"])
