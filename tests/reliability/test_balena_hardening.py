"""balena escalations the reliability suites found, reproduced as found (docs/reliability.md)."""

from __future__ import annotations

import pytest

from .endpoints import SUITES, Env

BALENA = next(suite for suite in SUITES if suite.name == "balena")


@pytest.fixture(scope="module")
def env():
    return Env(BALENA)


def _fleet(env: Env, name: str) -> int:
    rows = env.cloud.backends["balena"].db.tables["application"].values()
    return next(row["id"] for row in rows if row["app_name"] == name)


@pytest.mark.parametrize("change", [
    {"belongs_to__application": "theirs"},  # into another organization's fleet
    {"belongs_to__user": "stranger"},
    {"actor": 1},  # whose keys speak for the device
])
def test_a_device_key_may_not_rewire_its_own_device(env, change):
    """The device key PATCHed its own row out of its fleet (200): it then read another
    organization's fleet, its releases and variables."""
    world = env.fresh()
    db = env.cloud.backends["balena"].db
    values = {"theirs": _fleet(env, "theirs"),
              "stranger": db.find("user", username="stranger")[0]["id"]}
    body = {k: values.get(v, v) for k, v in change.items()}
    before = env.cloud.snapshot()
    answer = env.client.patch(f"/v7/device({world.values['device']})", json=body,
                              headers=world.credentials["device"])
    assert answer.status_code == 401, answer.get_data(as_text=True)
    BALENA.check_error(401, answer.get_data())
    assert env.cloud.snapshot() == before
    # its own reported fields it still changes
    ok = env.client.patch(f"/v7/device({world.values['device']})", json={"note": "fine"},
                          headers=world.credentials["device"])
    assert ok.status_code == 200


def test_a_user_may_not_move_a_device_out_of_reach(env):
    """A change is checked on the row as it would be left, not only as it is stored."""
    world = env.fresh()
    before = env.cloud.snapshot()
    answer = env.client.patch(f"/v7/device({world.values['device']})",
                              json={"belongs_to__application": _fleet(env, "theirs")},
                              headers=world.credentials["user"])
    assert answer.status_code == 401
    assert env.cloud.snapshot() == before


def test_nobody_creates_a_row_with_a_chosen_actor(env):
    world = env.fresh()
    before = env.cloud.snapshot()
    answer = env.client.post("/v7/device", headers=world.credentials["user"], json={
        "belongs_to__application": world.values["app_int"], "uuid": "9" * 32,
        "is_of__device_type": 1, "actor": 1})
    assert answer.status_code == 401, answer.get_data(as_text=True)
    assert env.cloud.snapshot() == before


def test_a_device_key_deletes_nothing_not_even_itself(env):
    """``DELETE /v7/device(<own id>)`` with the device's key answered 200 and removed it."""
    world = env.fresh()
    before = env.cloud.snapshot()
    answer = env.client.delete(f"/v7/device({world.values['spare_device']})",
                               headers=world.credentials["device_other"])  # the spare's own key
    assert answer.status_code == 401
    assert env.cloud.snapshot() == before


@pytest.mark.parametrize("path", ["/v7/²", "/v7/device(²)", "/v6/device(1)/x²"])
def test_unicode_digits_in_odata_paths_are_a_400(env, path):
    """``str.isdigit()`` is true for "²" but the number pattern is ASCII: the tokenizer's
    assertion failed and the answer was a 500."""
    world = env.fresh()
    answer = env.client.get(path, headers=world.credentials["user"])
    assert answer.status_code == 400, answer.get_data(as_text=True)
    BALENA.check_error(400, answer.get_data())


def test_other_scripts_digits_are_not_numbers(env):
    """"١" (Arabic-Indic one) matched ``\\d`` and read as the key 1."""
    world = env.fresh()
    answer = env.client.get(f"/v7/device({chr(0x661)})", headers=world.credentials["user"])
    assert answer.status_code == 400, answer.get_data(as_text=True)


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_a_refused_state_report_is_no_contact(env, version):
    """A report whose field the device row refuses (``status: []``) answered 400 but had
    already counted as the device's heartbeat."""
    world = env.fresh()
    uuid = world.values["uuid"]
    local = {"status": [], "ip_address": "10.0.0.2"}
    path, body = ((f"/device/v2/{uuid}/state", {"local": local}) if version == "v2"
                  else ("/device/v3/state", {uuid: local}))
    before = env.cloud.snapshot()
    answer = env.client.patch(path, json=body, headers=world.credentials["device"])
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert env.cloud.snapshot() == before


@pytest.mark.parametrize("junk", [[], {}, [1], {"a": 1}])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_junk_in_a_link_is_refused_not_a_500(env, junk, method):
    """A list or object as a link's id reached the permission check's row lookup untyped
    (``TypeError: unhashable type``, a 500). It points at no row the caller may write: 401,
    before the write's own type check would say 400."""
    world = env.fresh()
    path = "/v7/application_tag" if method == "POST" else f"/v7/device({world.values['device']})"
    field = "application" if method == "POST" else "belongs_to__application"
    before = env.cloud.snapshot()
    answer = env.client.open(path, method=method, headers=world.credentials["user"],
                             json={field: junk, "tag_key": "k2", "value": "v"}
                             if method == "POST" else {field: junk})
    assert answer.status_code in (400, 401), answer.get_data(as_text=True)
    BALENA.check_error(answer.status_code, answer.get_data())
    assert env.cloud.snapshot() == before


@pytest.mark.parametrize("uuid", ["%0A", "a%2Fb", ""])
def test_any_actions_host_path_answers_in_balenas_format(env, uuid):
    """``/v2/<uuid>/resinhup`` with a newline in the uuid reached balena's view, which refused
    it in the core's envelope: the dialect's path pattern did not claim it."""
    world = env.fresh()
    answer = env.client.post(f"/v2/{uuid}/resinhup", headers=world.credentials["user"],
                             json={"parameters": {"target_version": "1"}})
    assert answer.status_code in (401, 404), answer.get_data(as_text=True)
    BALENA.check_error(answer.status_code, answer.get_data())


def test_a_refused_insert_takes_no_id(env):
    """A duplicate tag (409) or a missing required field (400) still advanced the table's id
    counter, so a refusal changed the state and the next row's id."""
    world = env.fresh()
    body = {"application": world.values["app_int"], "tag_key": "k2", "value": "v"}
    headers = world.credentials["user"]
    assert env.client.post("/v7/application_tag", json=body, headers=headers).status_code == 201
    before = env.cloud.snapshot()
    again = env.client.post("/v7/application_tag", json=body, headers=headers)
    assert again.status_code == 409 and "unique" in again.get_data(as_text=True)
    missing = env.client.post("/v7/application_tag", json={**body, "tag_key": None},
                              headers=headers)
    assert missing.status_code == 400
    assert env.cloud.snapshot() == before


@pytest.mark.parametrize("junk", [{"__bytes__": "AAAA"}, ["raspberrypi4-64"]])
def test_junk_device_type_in_download_config_is_refused(env, junk):
    """An object as ``deviceType`` reached a unique-index lookup (a 500)."""
    world = env.fresh()
    before = env.cloud.snapshot()
    answer = env.client.post("/download-config", headers=world.credentials["user"], json={
        "appId": world.values["app_int"], "deviceType": junk, "version": "v2.0.0"})
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    BALENA.check_error(answer.status_code, answer.get_data())
    assert env.cloud.snapshot() == before
