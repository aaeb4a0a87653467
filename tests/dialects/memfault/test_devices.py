"""Devices exactly as Memfault's Devices reference describes them: CRUD, filters, sort, paging,
the ``{"data": ...}`` envelope, attributes, validation and duplicates; plus cohorts."""

from __future__ import annotations

import pytest

from .memfault_helpers import assert_error

SEED_FIELDS = {"id", "created_date", "updated_date", "device_serial", "owner_ref",
               "hardware_version", "last_seen", "last_seen_release", "cohort"}


def _create(api, serial, hw="evt", owner="user1234", **extra):
    return api.post("/devices", json={"device_serial": serial, "owner_ref": owner,
                                      "hardware_version": hw, **extra})


def test_create_retrieve_update_delete(api, fleetsim):
    created = _create(api, "ABCD1234", owner="awesome_employee_1234")
    assert created.status_code == 200
    data = created.json()["data"]
    assert set(data) == SEED_FIELDS
    assert data["device_serial"] == "ABCD1234" and data["hardware_version"] == "evt"
    assert data["owner_ref"] == "awesome_employee_1234"
    assert data["created_date"] == "2026-01-01T00:00:00.000000+00:00"
    assert data["last_seen"] is None and data["last_seen_release"] is None
    assert data["cohort"]["slug"] == "default"

    assert api.get("/devices/ABCD1234").json() == {"data": data}
    fleetsim.clock.advance(seconds=30)
    fleetsim.memfault.hardware_version(api.project, "dvt")
    patched = api.patch("/devices/ABCD1234", json={"owner_ref": "u2", "hardware_version": "dvt"})
    assert patched.status_code == 200
    assert patched.json()["data"]["owner_ref"] == "u2"
    assert patched.json()["data"]["hardware_version"] == "dvt"
    assert patched.json()["data"]["updated_date"] == fleetsim.clock.isoformat()

    deleted = api.delete("/devices/ABCD1234")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(api.get("/devices/ABCD1234"), 404, "NotFoundError")


def test_duplicate_serial_is_409(api):
    assert _create(api, "DUP-1").status_code == 200
    assert_error(_create(api, "DUP-1"), 409)
    assert api.get("/devices").json()["paging"]["total_count"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"owner_ref": "u", "hardware_version": "evt"}, "device_serial"),
    ({"device_serial": "S1", "owner_ref": 7, "hardware_version": "evt"}, "owner_ref"),
    ({"device_serial": "S1", "owner_ref": "u"}, "hardware_version"),
    ({"device_serial": "bad serial", "owner_ref": "u", "hardware_version": "evt"}, "device_serial"),
    ({"device_serial": "S/1", "owner_ref": "u", "hardware_version": "evt"}, "device_serial"),
    ({"device_serial": "S" * 129, "owner_ref": "u", "hardware_version": "evt"}, "device_serial"),
    ({"device_serial": 42, "owner_ref": "u", "hardware_version": "evt"}, "device_serial"),
    ({"device_serial": "S1", "owner_ref": "u", "hardware_version": "bad{hw}"}, "hardware_version"),
    ({"device_serial": "S1", "owner_ref": "u", "hardware_version": ""}, "hardware_version"),
    ({"device_serial": "S1", "owner_ref": "u", "hardware_version": "evt", "colour": "red"},
     "colour"),
])
def test_create_validation(api, body, field):
    error = assert_error(api.post("/devices", json=body), 400, "InvalidUsageError")
    assert field in error["message"] and error["code"] == 1000
    assert api.get("/devices").json()["data"] == []


def test_hardware_version_charset_and_unknown(api, fleetsim):
    fleetsim.memfault.hardware_version(api.project, "Rev A (2024) 1.0+b:x/y\\z [p]_-")
    assert _create(api, "S1", hw="Rev A (2024) 1.0+b:x/y\\z [p]_-").status_code == 200
    # creating a device creates its hardware version (the tutorial's "proto" on a new project)
    assert _create(api, "S2", hw="proto").json()["data"]["hardware_version"] == "proto"
    assert api.get("/hardware_versions/proto").status_code == 200
    # ... but moving a device to an unknown one is Memfault's 404, which Nordic's client matches
    error = assert_error(api.patch("/devices/S1", json={"hardware_version": "nrf9160dk_nrf9160-v42"}),
                         404, "NotFoundError")
    assert error["code"] == 1003
    assert error["message"] == "HardwareVersion with name `nrf9160dk_nrf9160-v42` not found"
    assert api.get("/devices/S1").json()["data"]["hardware_version"].startswith("Rev A")


@pytest.fixture
def fleet(fleetsim, mf, device):
    """Five devices across two hardware versions, owners and releases, seen at different times."""
    seed = fleetsim.memfault
    seed.hardware_version(mf, "dvt")
    layout = [("D1", "evt", "alice", "1.0.0"), ("D2", "evt", "bob", "1.1.0"),
              ("D3", "dvt", "alice", "1.1.0"), ("D4", "dvt", "carol", None),
              ("D5", "evt", "bob", "1.2.0")]
    for serial, hw, owner, _ in layout:
        seed.device(mf, serial, hardware_version=hw, owner_ref=owner)
    for serial, hw, _, version in layout:
        if version:
            fleetsim.clock.advance(hours=1)
            assert device(serial, hardware_version=hw).check(version).status_code in (200, 204)
    return mf  # D1 seen 01:00, D2 02:00, D3 03:00, D5 04:00, D4 never


def _serials(api, **params):
    response = api.get("/devices", params=params)
    assert response.status_code == 200, response.text
    return [d["device_serial"] for d in response.json()["data"]]


def test_filters(api, fleet):
    assert _serials(api, release=["1.1.0", "1.2.0"]) == ["D2", "D3", "D5"]
    assert _serials(api, **{"release[]": "1.0.0"}) == ["D1"]
    assert _serials(api, owner_ref=["alice", "carol"]) == ["D1", "D3", "D4"]
    assert _serials(api, hardware_version="dvt") == ["D3", "D4"]
    assert _serials(api, last_seen_since="2026-01-01T02:30:00.000000+00:00") == ["D3", "D5"]
    assert _serials(api, last_seen_until="2026-01-01T02:30:00Z") == ["D1", "D2"]
    assert _serials(api, last_seen_since="2026-01-01T01:30:00Z",
                    last_seen_until="2026-01-01T03:30:00Z") == ["D2", "D3"]
    assert _serials(api, owner_ref="bob", hardware_version="evt", release="1.2.0") == ["D5"]
    assert _serials(api, owner_ref="nobody") == []


def test_sort_and_paging(api, fleet):
    assert _serials(api, sort="last_seen") == ["D1", "D2", "D3", "D5", "D4"]
    assert _serials(api, sort="-last_seen") == ["D5", "D3", "D2", "D1", "D4"]
    page = api.get("/devices", params={"sort": "-last_seen", "per_page": 2, "page": 2}).json()
    assert [d["device_serial"] for d in page["data"]] == ["D2", "D1"]
    assert page["paging"] == {"item_count": 2, "page": 2, "page_count": 3, "per_page": 2,
                              "total_count": 5}
    assert api.get("/devices", params={"page": 9}).json()["data"] == []
    # per_page is honoured however large (a Nordic mock echoes 5000; the docs' max is 100)
    big = api.get("/devices", params={"per_page": 5000}).json()
    assert big["paging"]["per_page"] == 5000 and big["paging"]["item_count"] == 5


@pytest.mark.parametrize("params", [
    {"sort": "colour"}, {"page": "x"}, {"page": "0"}, {"per_page": "-1"},
    {"last_seen_since": "yesterday"}, {"last_seen_until": "2026-13-45"},
])
def test_bad_query_parameters(api, fleet, params):
    assert_error(api.get("/devices", params=params), 400, "InvalidUsageError")


def test_attributes(api, fleetsim):
    _create(api, "A1")
    assert api.post("/custom-metrics", json={"string_key": "battery", "data_type": "INT"}
                    ).status_code == 200
    [empty] = api.get("/devices/A1/attributes").json()["data"]
    assert empty["state"] is None and empty["custom_metric"]["data_type"] == "INT"
    fleetsim.clock.advance(seconds=5)
    written = api.patch("/devices/A1/attributes", json=[
        {"string_key": "battery", "value": 87}, {"string_key": "beta_user", "value": True},
        {"string_key": "region", "value": "eu-west"}])
    assert written.status_code == 204
    attrs = {a["custom_metric"]["string_key"]: a for a in
             api.get("/devices/A1/attributes").json()["data"]}
    assert attrs["battery"]["state"]["value"] == 87
    assert attrs["battery"]["state"]["updated_date"] == fleetsim.clock.isoformat()
    assert attrs["beta_user"]["custom_metric"]["data_type"] == "BOOL"
    only = api.get("/devices/A1/attributes", params={"q": "bat*"}).json()["data"]
    assert [a["custom_metric"]["string_key"] for a in only] == ["battery"]

    # a wrong type anywhere in the list changes nothing
    bad = api.patch("/devices/A1/attributes", json=[{"string_key": "region", "value": "us"},
                                                    {"string_key": "battery", "value": "full"}])
    assert_error(bad, 400, "InvalidUsageError")
    assert_error(api.patch("/devices/A1/attributes", json={"battery": 1}), 400)
    assert_error(api.patch("/devices/A1/attributes", json=[{"value": 1}]), 400)
    assert_error(api.patch("/devices/NOPE/attributes", json=[]), 404)
    attrs = {a["custom_metric"]["string_key"]: a["state"]["value"] for a in
             api.get("/devices/A1/attributes").json()["data"]}
    assert attrs == {"battery": 87, "beta_user": True, "region": "eu-west"}


def test_cohorts(api, fleetsim):
    created = api.post("/cohorts", json={"name": "Beta Channel", "slug": "beta"})
    assert created.status_code == 200
    assert created.json()["data"]["count_devices"] == 0
    assert_error(api.post("/cohorts", json={"name": "Beta Channel", "slug": "beta"}), 409)
    assert api.post("/cohorts", json={"name": "QA Team"}).json()["data"]["slug"] == "qa-team"
    for serial in ("C1", "C2", "C3"):
        _create(api, serial)
    moved = api.patch("/devices/C1", json={"cohort": "beta"}).json()["data"]
    assert moved["cohort"] == {"id": created.json()["data"]["id"], "name": "Beta Channel",
                               "slug": "beta"}
    assert api.patch("/cohorts/beta/devices", json={"devices": [{"device_serial": "C2"}]}
                     ).status_code == 202
    beta = api.get("/cohorts/beta/devices").json()
    assert [d["device_serial"] for d in beta["data"]] == ["C1", "C2"]
    counts = {c["slug"]: c["count_devices"] for c in api.get("/cohorts").json()["data"]}
    assert counts == {"default": 1, "beta": 2, "qa-team": 0}
    assert_error(api.patch("/devices/C3", json={"cohort": "nope"}), 404)
    assert_error(api.patch("/devices/C3", json={"cohort": ["beta"]}), 400)
    # deleting a cohort sends its devices back to default; default itself stays
    assert api.delete("/cohorts/beta").status_code == 204
    assert api.get("/devices/C1").json()["data"]["cohort"]["slug"] == "default"
    assert_error(api.delete("/cohorts/default"), 400)


def test_hardware_versions_and_software_types(api):
    created = api.post("/hardware_versions", json={"name": "pvt", "primary_software_type": "fw"})
    assert created.status_code == 200
    data = created.json()["data"]
    assert data["name"] == "pvt" and data["primary_software_type"]["name"] == "fw"
    assert_error(api.post("/hardware_versions", json={"name": "pvt"}), 409)
    assert_error(api.post("/hardware_versions", json={"name": "bad{}"}), 400)
    names = [h["name"] for h in api.get("/hardware_versions").json()["data"]]
    assert names == ["evt", "pvt"]
    types = {t["name"] for t in api.get("/software_types").json()["data"]}
    assert types == {"main", "fw"}
    assert_error(api.get("/software_types/main/software_versions/9.9.9"), 404)


def test_a_loop_that_stops_at_a_short_page_gets_every_device(api, fleetsim, mf):
    fleetsim.memfault.devices(mf, [f"P-{n:03d}" for n in range(150)])
    seen, page = [], 1
    while True:
        rows = api.get("/devices", params={"per_page": 120, "page": page}).json()["data"]
        seen += [d["device_serial"] for d in rows]
        if len(rows) < 120:
            break
        page += 1
    assert len(seen) == 150 and len(set(seen)) == 150
