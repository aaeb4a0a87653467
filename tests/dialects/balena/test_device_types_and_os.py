"""Device types, host OS versions and supervisor releases (reference data loaded at reset)."""

from __future__ import annotations

from typing import Any

import pytest
from balena import exceptions


def test_device_types(models: Any) -> None:
    pi4 = models.device_type.get("raspberrypi4-64")
    assert pi4["slug"] == "raspberrypi4-64" and pi4["contract"]["data"]["arch"] == "aarch64"
    assert models.device_type.get(pi4["id"])["slug"] == "raspberrypi4-64"
    assert models.device_type.get("raspberrypi2")["slug"] == "raspberry-pi2"  # legacy alias
    with pytest.raises(exceptions.InvalidDeviceType):
        models.device_type.get("no-such-board")
    assert models.device_type.get_by_slug_or_name("Raspberry Pi 3")["slug"] == "raspberrypi3"
    assert models.device_type.get_name("raspberry-pi") == "Raspberry Pi (v1 / Zero / Zero W)"
    assert models.device_type.get_slug_by_name("Raspberry Pi (v1 / Zero / Zero W)") == "raspberry-pi"
    names = [dt["name"] for dt in models.device_type.get_all()]
    assert names == sorted(names) and len(names) >= 10
    supported = {dt["slug"] for dt in models.device_type.get_all_supported()}
    assert {"raspberrypi4-64", "raspberrypi3", "intel-nuc", "raspberry-pi"} <= supported


def test_every_device_type_has_an_alias_equal_to_its_slug(sdk: Any) -> None:
    dts = sdk.pine.get({"resource": "device_type", "options": {
        "$select": "slug", "$expand": {"device_type_alias": {"$select": "is_referenced_by__alias"}}}})
    for dt in dts:
        assert dt["slug"] in [a["is_referenced_by__alias"] for a in dt["device_type_alias"]]


def test_device_types_readable_anonymously(fleetsim: Any) -> None:
    anon = fleetsim.balena.sdk()
    assert anon.pine.get({"resource": "device_type", "options": {"$select": "slug",
                                                                 "$filter": {"slug": "intel-nuc"}}})
    with pytest.raises(exceptions.RequestError) as err:
        anon.pine.post({"resource": "device_type", "body": {"slug": "x", "name": "x"}})
    assert err.value.status_code == 401


def test_reference_data_is_read_only(sdk: Any) -> None:
    with pytest.raises(exceptions.RequestError) as err:
        sdk.pine.patch({"resource": "device_type", "options": {"$filter": {"slug": "intel-nuc"}},
                        "body": {"name": "Hacked"}})
    assert err.value.status_code == 401
    assert sdk.models.device_type.get("intel-nuc")["name"] == "Intel NUC"


def test_os_versions(models: Any) -> None:
    versions = models.os.get_available_os_versions("raspberrypi3")
    raw = [v["raw_version"] for v in versions]
    assert "2.15.1+rev2.prod" in raw and "2.83.21+rev1.dev" in raw and "6.0.10" in raw
    assert sum(1 for v in versions if v.get("is_recommended")) == 1
    everything = models.os.get_all_os_versions(["raspberrypi3", "raspberrypi4-64"])
    assert set(everything) == {"raspberrypi3", "raspberrypi4-64"}
    assert models.os.get_max_satisfying_version("raspberrypi4-64", "latest") == "6.0.10"
    assert models.os.get_download_size("raspberrypi4-64") > 0


def test_supervisor_releases(models: Any) -> None:
    releases = models.os.get_supervisor_releases_for_cpu_architecture("aarch64")
    assert [r["raw_version"] for r in releases] == ["16.1.0", "14.11.0", "12.11.0"]


def test_pin_to_os_release(fleetsim: Any, models: Any, fleet: dict) -> None:
    d = fleetsim.balena.device(fleet, os_version="balenaOS 2.83.21+rev1", os_variant="prod")
    models.device.pin_to_os_release(d["uuid"], "5.3.21")
    got = models.device.get(d["uuid"], {"$expand": {"should_be_operated_by__release": {
        "$select": "raw_version"}}})
    assert got["should_be_operated_by__release"][0]["raw_version"] == "5.3.21"


def test_config(models: Any) -> None:
    config = models.config.get_all()
    assert config["deviceUrlsBase"] == "balena-devices.com"
