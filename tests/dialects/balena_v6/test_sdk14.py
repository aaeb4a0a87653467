"""balena-sdk 14.5 (the seed document's version, API v6) driven unchanged: the same kinds of
calls as the 17.3 suite, on /v6 with v6 field names (``should_be_running__release`` pin)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from balena import exceptions


def test_auth(fleetsim: Any, sdk: Any, user: Any) -> None:
    assert sdk.auth.whoami()["username"] == user.username  # 14.5 whoami: from /actor/v1/whoami
    assert sdk.auth.is_logged_in()
    fleetsim.journal.assert_called("GET", "/whoami")  # the iat refresh, which 14.5 needs to be 2xx
    key = sdk.models.api_key.create("ci")
    other = fleetsim.balena.sdk()
    other.auth.login_with_token(key)
    assert other.auth.is_logged_in()
    with pytest.raises(exceptions.LoginFailed):
        fleetsim.balena.sdk().auth.login(username=user.username, password="wrong")


def test_applications(fleetsim: Any, models: Any, user: Any) -> None:
    app = models.application.create("MyFleet", "raspberrypi4-64", user.username)
    assert models.application.get(app["slug"])["id"] == app["id"]
    assert models.application.get_by_owner("MyFleet", user.username)["id"] == app["id"]
    assert models.application.has(app["id"]) and [a["id"] for a in models.application.get_all()] \
        == [app["id"]]
    with pytest.raises(exceptions.RequestError):
        models.application.create("abc", "raspberrypi4-64", user.username)
    models.application.rename(app["id"], "renamed")
    r1 = fleetsim.balena.release(app)
    fleetsim.clock.advance(60)
    r2 = fleetsim.balena.release(app)
    assert models.application.get_target_release_hash(app["id"]) == r2["commit"]
    models.application.pin_to_release(app["id"], r1["commit"])
    assert models.application.is_tracking_latest_release(app["id"]) is False
    models.application.track_latest_release(app["id"])
    assert models.application.get_target_release_hash(app["id"]) == r2["commit"]
    models.application.remove(app["id"])
    assert models.application.has(app["id"]) is False


def test_devices_and_v6_pin(fleetsim: Any, models: Any, fleet: dict) -> None:
    made = models.device.register(fleet["id"], models.device.generate_uuid())
    uuid = made["uuid"]
    assert models.device.get_status(uuid) == "inactive"
    models.device.rename(uuid, "kitchen")
    models.device.set_note(uuid, "a note")
    models.device.set_custom_location(uuid, {"latitude": 1, "longitude": 2})
    got = models.device.get(uuid)
    assert (got["device_name"], got["note"], got["custom_latitude"]) == ("kitchen", "a note", "1")
    assert "should_be_running__release" in got and "is_pinned_on__release" not in got
    rel = fleetsim.balena.release(fleet)
    models.device.pin_to_release(uuid, rel["commit"])
    assert models.device.get(uuid)["should_be_running__release"] == {"__id": rel["id"]}
    assert models.device.is_tracking_application_release(uuid) is False
    models.device.track_application_release(uuid)  # a PATCH by alternate key in 14.5
    assert models.device.is_tracking_application_release(uuid) is True
    since = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert len(models.device.history.get_all_by_device(uuid, from_date=since)) == 3
    models.device.enable_lock_override(uuid)
    assert models.device.has_lock_override(uuid) is True


def test_releases_vars_and_tags(fleetsim: Any, models: Any, fleet: dict) -> None:
    rel = fleetsim.balena.release(fleet, semver="1.2.3", final=False)
    models.release.finalize(rel["id"])
    assert models.release.get(rel["id"])["raw_version"] == "1.2.3"
    models.release.set_note(rel["id"], "n")
    models.release.tags.set(rel["id"], "qa", "ok")
    models.release.tags.set(rel["id"], "qa", "done")
    assert models.release.tags.get(rel["id"], "qa") == "done"
    assert models.release.get_latest_by_application(fleet["id"])["id"] == rel["id"]
    device = fleetsim.balena.device(fleet)
    models.application.env_var.set(fleet["id"], "A", "1")
    models.application.env_var.set(fleet["id"], "A", "2")
    assert models.application.env_var.get(fleet["id"], "A") == "2"
    models.device.env_var.set(device["uuid"], "B", "1")
    models.device.config_var.set(device["uuid"], "BALENA_C", "1")
    assert models.device.env_var.get(device["uuid"], "B") == "1"
    models.device.tags.set(device["uuid"], "k", "v")
    assert models.device.tags.get(device["uuid"], "k") == "v"
    with pytest.raises(exceptions.RequestError) as err:
        models.device.tags.set(device["uuid"], "io.balena.x", "v")
    assert "reserved" in err.value.message


def test_organizations_and_refusals(fleetsim: Any, models: Any, user: Any, fleet: dict) -> None:
    org = models.organization.create("My Org", "my_org")
    assert models.organization.get("my_org")["id"] == org["id"]
    other = fleetsim.balena.user("other_user").sdk()
    with pytest.raises(exceptions.ApplicationNotFound):
        other.models.application.get(fleet["id"])
    with pytest.raises(exceptions.OrganizationNotFound):
        other.models.organization.get("my_org")
    assert [dt["slug"] for dt in [models.device_type.get("raspberrypi2")]] == ["raspberry-pi2"]
