"""Every variable level and every tag level with balena-sdk 17.3 unchanged: set (upsert through
409 "unique"), get, get_all, update, remove, by id, slug and uuid; the tag key rules."""

from __future__ import annotations

from typing import Any

import pytest
from balena import exceptions


@pytest.fixture
def installed(fleetsim: Any, sdk: Any, fleet: dict) -> dict:
    """A device running a release of service ``main``, with its service_install row."""
    rel = fleetsim.balena.release(fleet)
    device = fleetsim.balena.device(fleet, release=rel["id"])
    service = sdk.models.service.get_all_by_application(fleet["id"])[0]
    sdk.pine.post({"resource": "service_install",
                   "body": {"device": device["id"], "installs__service": service["id"]}})
    return {"device": device, "service": service}


@pytest.mark.parametrize("level", ["env_var", "config_var", "build_var"])
def test_application_variables(models: Any, fleet: dict, level: str) -> None:
    api = getattr(models.application, level)
    name = "BALENA_FLAG" if level == "config_var" else "FLAG"
    for ref in (fleet["id"], fleet["slug"], fleet["uuid"]):
        api.set(ref, name, "1")
        api.set(ref, name, "2")
        assert api.get(ref, name) == "2"
    assert [v["name"] for v in api.get_all_by_application(fleet["slug"])] == [name]
    assert api.get(fleet["id"], "MISSING") is None
    api.remove(fleet["uuid"], name)
    assert api.get_all_by_application(fleet["id"]) == []


@pytest.mark.parametrize("level", ["env_var", "config_var"])
def test_device_variables(fleetsim: Any, models: Any, fleet: dict, level: str) -> None:
    api = getattr(models.device, level)
    d = fleetsim.balena.device(fleet)
    name = "BALENA_X" if level == "config_var" else "FOO"
    api.set(d["uuid"], name, "bar")
    api.set(d["id"], name, "baz")
    assert api.get(d["uuid"], name) == "baz"
    assert [v["value"] for v in api.get_all_by_device(d["uuid"])] == ["baz"]
    assert [v["name"] for v in api.get_all_by_application(fleet["id"])] == [name]
    api.remove(d["uuid"], name)
    assert api.get(d["id"], name) is None


def test_service_variables(models: Any, fleet: dict, installed: dict) -> None:
    service = installed["service"]
    key = {"application": fleet["id"], "service_name": "main"}
    models.service.var.set(service["id"], "K", "V")
    models.service.var.set(key, "K", "V2")
    assert models.service.var.get(key, "K") == "V2"
    assert [v["name"] for v in models.service.var.get_all_by_service(service["id"])] == ["K"]
    assert len(models.service.var.get_all_by_application(fleet["id"])) == 1
    models.service.var.remove(service["id"], "K")
    assert models.service.var.get(service["id"], "K") is None


def test_device_service_variables(models: Any, fleet: dict, installed: dict) -> None:
    d, service = installed["device"], installed["service"]
    models.device.service_var.set(d["uuid"], "main", "K", "V")
    models.device.service_var.set(d["id"], service["id"], "K", "V2")
    assert models.device.service_var.get(d["uuid"], "main", "K") == "V2"
    assert [v["value"] for v in models.device.service_var.get_all_by_device(d["uuid"])] == ["V2"]
    assert len(models.device.service_var.get_all_by_application(fleet["id"])) == 1
    with pytest.raises(exceptions.ServiceNotFound):
        models.device.service_var.set(d["uuid"], "nope", "K", "V")
    models.device.service_var.remove(d["uuid"], "main", "K")
    assert models.device.service_var.get(d["uuid"], "main", "K") is None


def test_variable_name_and_duplicate_rules(sdk: Any, fleet: dict) -> None:
    body = {"application": fleet["id"], "name": "DUP", "value": "1"}
    sdk.pine.post({"resource": "application_environment_variable", "body": body})
    with pytest.raises(exceptions.RequestError) as err:
        sdk.pine.post({"resource": "application_environment_variable", "body": body})
    assert err.value.status_code == 409 and "unique" in err.value.message.lower()
    with pytest.raises(exceptions.RequestError) as err:
        sdk.pine.post({"resource": "application_environment_variable",
                       "body": {**body, "name": "1 bad"}})
    assert err.value.status_code == 400
    with pytest.raises(exceptions.RequestError) as err:
        sdk.pine.post({"resource": "application_environment_variable",
                       "body": {**body, "application": 999999}})
    assert err.value.status_code in (400, 401) and "unique" not in err.value.message.lower()


@pytest.mark.parametrize("level", ["application", "device", "release"])
def test_tags_every_level(fleetsim: Any, models: Any, fleet: dict, level: str) -> None:
    if level == "application":
        api, ref = models.application.tags, fleet["slug"]
    elif level == "device":
        api, ref = models.device.tags, fleetsim.balena.device(fleet)["uuid"]
    else:
        api, ref = models.release.tags, fleetsim.balena.release(fleet)["id"]
    api.set(ref, "rollout", "canary")
    api.set(ref, "rollout", "wave-2")
    api.set(ref, "owner", "ops")
    by_parent = getattr(api, f"get_all_by_{level}")(ref)
    assert [(t["tag_key"], t["value"]) for t in by_parent] == [("owner", "ops"),
                                                               ("rollout", "wave-2")]
    if level != "application":  # 17.3 has no application.tags.get nor get_all
        assert api.get(ref, "rollout") == "wave-2"
        assert len(api.get_all_by_application(fleet["id"])) == 2
        assert len(api.get_all()) == 2
    api.remove(ref, "owner")
    assert [t["tag_key"] for t in getattr(api, f"get_all_by_{level}")(ref)] == ["rollout"]


@pytest.mark.parametrize("level", ["application", "device", "release"])
@pytest.mark.parametrize("key, status, message", [
    ("io.balena.x", 400, "Tag keys beginning with io.balena. are reserved."),
    ("io.resin.x", 400, "Tag keys beginning with io.resin. are reserved."),
    ("has space", 400, "Tag keys cannot contain whitespace."),
    ("tab\tkey", 400, "Tag keys cannot contain whitespace."),
    (None, 400, "cannot be null"),
    ("", 400, "tag has a tag key that has a Length (Type) that is greater than 0"),
])
def test_tag_key_rules(fleetsim: Any, models: Any, fleet: dict, level: str, key: Any, status: int,
                       message: str, state: Any) -> None:
    if level == "application":
        api, ref = models.application.tags, fleet["id"]
    elif level == "device":
        api, ref = models.device.tags, fleetsim.balena.device(fleet)["id"]
    else:
        api, ref = models.release.tags, fleetsim.balena.release(fleet)["id"]
    before = state()
    with pytest.raises(exceptions.RequestError) as err:
        api.set(ref, key, "v")
    assert err.value.status_code == status and message in err.value.message
    if not key:
        assert f"each {level} tag" in err.value.message
    assert state()["tables"] == before["tables"]


def test_tag_upsert_needs_409_unique(sdk: Any, fleet: dict) -> None:
    body = {"application": fleet["id"], "tag_key": "k", "value": "1"}
    sdk.pine.post({"resource": "application_tag", "body": body})
    with pytest.raises(exceptions.RequestError) as err:
        sdk.pine.post({"resource": "application_tag", "body": body})
    assert err.value.status_code == 409 and "unique" in err.value.message


def test_organization_membership_tags(models: Any, user: Any) -> None:
    membership = models.organization.membership.get_all_by_organization(user.username)[0]
    models.organization.membership.tags.set(membership["id"], "team", "blue")
    models.organization.membership.tags.set(membership["id"], "team", "red")
    assert models.organization.membership.tags.get(membership["id"], "team") == "red"
    all_tags = models.organization.membership.tags.get_all_by_organization(user.username)
    assert [t["value"] for t in all_tags] == ["red"]
    models.organization.membership.tags.remove(membership["id"], "team")
    assert models.organization.membership.tags.get_all_by_organization_membership(
        membership["id"]) == []


def test_other_user_cannot_read_or_write_vars(other: Any, fleet: dict, models: Any) -> None:
    models.application.env_var.set(fleet["id"], "SECRET", "s")
    with pytest.raises(exceptions.RequestError) as err:
        other.models.application.env_var.set(fleet["id"], "SECRET", "mine")
    assert err.value.status_code == 401
    assert other.models.application.env_var.get(fleet["id"], "SECRET") is None
    assert models.application.env_var.get(fleet["id"], "SECRET") == "s"
