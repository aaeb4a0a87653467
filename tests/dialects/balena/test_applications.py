"""Applications (fleets) with balena-sdk 17.3 unchanged."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from balena import exceptions


def test_create_get_has_and_slug_rules(models: Any, user: Any) -> None:
    app = models.application.create("MyFleet", "raspberrypi4-64", user.username)
    assert app["slug"] == f"{user.username}/myfleet" and len(app["uuid"]) == 32
    assert app["is_of__class"] == "fleet" and app["organization"] == {"__id": user.org["id"]}
    assert app["actor"]["__id"] > 0
    assert models.application.get(app["slug"])["id"] == app["id"]
    assert models.application.get(app["uuid"])["id"] == app["id"]
    assert models.application.get(app["id"])["app_name"] == "MyFleet"
    assert models.application.get(f"{user.username}/MYFLEET")["id"] == app["id"]
    assert models.application.has(app["slug"]) and not models.application.has("nobody/none")
    assert models.application.has_any()
    assert [a["id"] for a in models.application.get_all()] == [app["id"]]
    by_org = models.application.get_all_by_organization(user.username)
    assert [a["id"] for a in by_org] == [app["id"]]
    assert models.application.get_directly_accessible(app["slug"])["id"] == app["id"]
    block = models.application.create("myblock", "raspberry-pi2", user.org["id"], "block")
    assert block["is_of__class"] == "block"


def test_get_all_excludes_public_host_fleets(models: Any) -> None:
    assert models.application.get_all() == []
    assert models.application.has_any() is False
    # but the public host OS fleet is readable by slug
    assert models.application.get("balena_os/raspberrypi4-64")["is_host"] is True


def test_create_refusals(models: Any, user: Any) -> None:
    with pytest.raises(exceptions.InvalidDeviceType):
        models.application.create("myfleet", "not-a-device-type", user.username)
    with pytest.raises(exceptions.RequestError) as err:
        models.application.create("abc", "raspberrypi4-64", user.username)
    assert err.value.status_code == 400
    assert err.value.body == ('"It is necessary that each application has an app name that has a '
                              'Length (Type) that is greater than or equal to 4 and is less than '
                              'or equal to 100"')
    with pytest.raises(exceptions.OrganizationNotFound):
        models.application.create("myfleet", "raspberrypi4-64", "nobody_org")
    models.application.create("myfleet", "raspberrypi4-64", user.username)
    with pytest.raises(exceptions.RequestError) as err:
        models.application.create("myfleet", "raspberrypi4-64", user.username)
    assert err.value.status_code == 409 and "unique" in err.value.message


def test_rename_remove_and_not_found(models: Any, fleet: dict, user: Any) -> None:
    models.application.rename(fleet["id"], "renamed-fleet")
    renamed = models.application.get(fleet["id"])
    assert renamed["app_name"] == "renamed-fleet" and renamed["slug"] == f"{user.username}/renamed-fleet"
    models.application.remove(renamed["slug"])
    with pytest.raises(exceptions.ApplicationNotFound):
        models.application.get(fleet["id"])
    with pytest.raises(exceptions.ApplicationNotFound):
        models.application.get("nobody/nothing")
    models.application.remove(999999)  # pinejs: a DELETE that matches no row is a 200


def test_remove_cascades(fleetsim: Any, models: Any, fleet: dict) -> None:
    device = fleetsim.balena.device(fleet)
    release = fleetsim.balena.release(fleet)
    models.device.tags.set(device["uuid"], "k", "v")
    models.application.env_var.set(fleet["id"], "A", "1")
    models.application.remove(fleet["id"])
    assert models.device.has(device["uuid"]) is False
    with pytest.raises(exceptions.ReleaseNotFound):
        models.release.get(release["id"])
    assert models.device.tags.get_all() == []


def test_device_urls_and_support_access(fleetsim: Any, models: Any, fleet: dict) -> None:
    d1 = fleetsim.balena.device(fleet)
    models.application.enable_device_urls(fleet["id"])
    assert models.device.has_device_url(d1["uuid"]) is True
    models.application.disable_device_urls(fleet["id"])
    assert models.device.has_device_url(d1["uuid"]) is False

    until = int(datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp() * 1000)
    models.application.grant_support_access(fleet["id"], until)
    got = models.application.get(fleet["id"], {"$select": "is_accessible_by_support_until__date"})
    parsed = datetime.strptime(got["is_accessible_by_support_until__date"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert parsed.replace(tzinfo=timezone.utc).timestamp() * 1000 == until
    models.application.revoke_support_access(fleet["id"])
    got = models.application.get(fleet["id"], {"$select": "is_accessible_by_support_until__date"})
    assert got["is_accessible_by_support_until__date"] is None


def test_tracking_and_pinning(fleetsim: Any, models: Any, fleet: dict) -> None:
    r1 = fleetsim.balena.release(fleet, semver="1.0.0")
    fleetsim.clock.advance(60)
    r2 = fleetsim.balena.release(fleet, semver="1.1.0")
    assert models.application.will_track_new_releases(fleet["id"]) is True
    assert models.application.is_tracking_latest_release(fleet["id"]) is True
    assert models.application.get_target_release_hash(fleet["id"]) == r2["commit"]
    models.application.pin_to_release(fleet["id"], r1["commit"])
    assert models.application.get_target_release_hash(fleet["id"]) == r1["commit"]
    assert models.application.will_track_new_releases(fleet["id"]) is False
    assert models.application.is_tracking_latest_release(fleet["id"]) is False
    models.application.track_latest_release(fleet["id"])
    assert models.application.is_tracking_latest_release(fleet["id"]) is True
    assert models.application.get_target_release_hash(fleet["id"]) == r2["commit"]


def test_new_final_release_moves_a_tracking_fleet(fleetsim: Any, models: Any, fleet: dict) -> None:
    fleetsim.balena.release(fleet, semver="1.0.0")
    fleetsim.clock.advance(60)
    draft = fleetsim.balena.release(fleet, semver="2.0.0", final=False)
    assert models.application.get_target_release_hash(fleet["id"]) != draft["commit"]
    models.release.finalize(draft["id"])
    assert models.application.get_target_release_hash(fleet["id"]) == draft["commit"]


def test_other_users_cannot_see_or_touch(other: Any, models: Any, fleet: dict) -> None:
    om = other.models
    with pytest.raises(exceptions.ApplicationNotFound):
        om.application.get(fleet["id"])
    assert om.application.get_all() == []
    with pytest.raises(exceptions.ApplicationNotFound):
        om.application.rename(fleet["slug"], "stolen-fleet")
    # by id the SDK skips the lookup: the invisible row is simply not matched (pinejs)
    om.application.rename(fleet["id"], "stolen-fleet")
    om.application.remove(fleet["id"])
    assert models.application.get(fleet["id"])["app_name"] == "myfleet"
    with pytest.raises(exceptions.OrganizationNotFound):
        om.application.create("myfleet", "raspberrypi4-64", fleet["slug"].split("/")[0])


def test_provisioning_key_refused_for_foreign_fleet(other: Any, fleet: dict) -> None:
    body = other.models.application.generate_provisioning_key(fleet["id"])
    assert "not found" in body  # REST errors come back as text, never raised (reference §5)
