"""Credentials (each kind allowed only what it should be) and bad input: always Memfault's
error envelope with the right status, never a 500 or HTML, and never a change of state."""

from __future__ import annotations

import base64

import pytest
import requests

from .memfault_helpers import Api, assert_error


def _basic(user, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def test_every_credential_kind_on_the_management_api(fleetsim, mf):
    good = [{"Authorization": f"Bearer {mf.org_token}"}, _basic("", mf.org_token),
            _basic(mf.user_email, mf.user_api_key)]
    for auth in good:
        assert Api(fleetsim.url, mf, auth).get("/devices").status_code == 200, auth
    bad = [{}, {"Authorization": "Bearer oat_nope"}, _basic(mf.user_email, "wrong"),
           _basic("nobody@example.com", mf.user_api_key), {"Authorization": "Basic !!!"},
           {"Authorization": "Token abc"}, {"Memfault-Project-Key": mf.project_key}]
    for auth in bad:
        assert_error(Api(fleetsim.url, mf, auth).get("/devices"), 401, "AuthenticationError")


def test_tokens_stay_inside_their_organization(fleetsim, mf):
    other = fleetsim.memfault.project("globex", "toaster")
    theirs = Api(fleetsim.url, mf, {"Authorization": f"Bearer {other.org_token}"})
    assert_error(theirs.get("/devices"), 403, "ForbiddenError")
    assert_error(theirs.post("/devices", json={"device_serial": "X", "owner_ref": "o",
                                               "hardware_version": "evt"}), 403)
    mine = Api(fleetsim.url, mf)
    assert mine.get("/devices").json()["data"] == []
    missing = Api(fleetsim.url, type(mf)(**{**mf.summary(), "project": "nope"}))
    assert_error(missing.get("/devices"), 404, "NotFoundError")
    # the project key of one project opens no device endpoint of another
    url = f"{fleetsim.url}/api/v0/chunks/X1"
    response = requests.post(url, data=b"x", headers={
        "Memfault-Project-Key": other.project_key, "Content-Type": "application/octet-stream"})
    assert response.status_code == 202
    assert fleetsim.memfault.chunks(other, "X1") == [b"x"] and fleetsim.memfault.chunks(mf, "X1") == []


def test_project_and_project_key_endpoints(api, fleetsim):
    project = api.get("").json()["data"]
    assert (project["slug"], project["max_ota_upload_size"]) == ("smart-sink", 0)
    assert api.get("/api_key").json()["data"]["api_key"] == api.project.project_key
    fresh = api.post("/api_key").json()["data"]["api_key"]
    assert fresh != api.project.project_key and len(fresh) == 32


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("post", "/devices", b"{not json", 400),
    ("post", "/devices", b"[1, 2]", 400),
    ("post", "/devices", b"", 400),
    ("patch", "/devices/D1", b'{"owner_ref": 7}', 400),
    ("post", "/cohorts", b'{"name": null}', 400),
    ("post", "/releases", b'{"version": "bad version!"}', 400),
    ("post", "/releases", b'{"version": "1.0.0", "notes": 5}', 400),
    ("post", "/deployments", b'{"type": "yolo", "release": "1.0.0", "cohort": "default"}', 400),
    ("post", "/deployments", b'{"release": "1.0.0"}', 400),
    ("post", "/deployments", b'{"type": "staged_rollout", "release": "1.0.0", '
                             b'"cohort": "default", "rollout_percent": 0}', 400),
    ("post", "/deployments", b'{"type": "staged_rollout", "release": "1.0.0", '
                             b'"cohort": "default", "rollout_percent": "50"}', 400),
    ("post", "/deployments", b'{"release": ["1.0.0"], "cohort": "default"}', 400),
    ("post", "/deployments", b'{"release": "1.0.0", "cohort": "nope"}', 404),
    ("post", "/deployments", b'{"release": "7.0.0", "cohort": "default"}', 404),
    ("post", "/upload", b'{"kind": "SPAM", "size": 3}', 400),
    ("post", "/upload", b'{"kind": "OTA_PAYLOAD", "size": "big"}', 400),
    ("post", "/releases/ota_payload", b'{"file": {"token": "nope"}}', 400),
    ("get", "/deployments/999", None, 404),
    ("delete", "/devices", None, 405),
    ("get", "/no-such-thing", None, 404),
])
def test_bad_input_gets_the_envelope_and_changes_nothing(api, fleetsim, method, path, body,
                                                         status):
    fleetsim.memfault.release(api.project, "1.0.0")
    fleetsim.memfault.device(api.project, "D1")
    before = fleetsim.cloud.snapshot()["tables"]
    response = getattr(api, method)(path, data=body,
                                    headers={"Content-Type": "application/json"})
    assert_error(response, status)
    after = fleetsim.cloud.snapshot()["tables"]
    assert {k: v for k, v in after.items() if k.startswith("memfault.")} == \
           {k: v for k, v in before.items() if k.startswith("memfault.")}


def test_unknown_api_path_outside_projects(fleetsim):
    assert_error(requests.get(f"{fleetsim.url}/api/v0/nothing/here"), 404, "NotFoundError")


def test_oversize_body_is_413_in_the_envelope(app):
    from fake_api.memfault.seed import MemfaultSeeder

    app.config["MAX_CONTENT_LENGTH"] = 64
    project = MemfaultSeeder(app.cloud.backends["memfault"], "http://localhost").project()
    response = app.test_client().post(
        "/api/v0/chunks/BIG", data=b"x" * 65,
        headers={"Memfault-Project-Key": project.project_key,
                 "Content-Type": "application/octet-stream"})
    assert response.status_code == 413
    assert response.json["error"]["http_code"] == 413


# -- the upload flow, by hand ------------------------------------------------------------------


def _prepare(api, size=5):
    response = api.post("/upload", json={"kind": "OTA_PAYLOAD", "size": size})
    assert response.status_code == 200
    return response.json()["data"]


def _commit(api, token, md5=None, version="1.0.0"):
    file = {"token": token, "name": "fw.bin", **({"md5": md5} if md5 else {})}
    return api.post("/releases/ota_payload", json={
        "file": file, "software_version": {"version": version, "software_type": "main"},
        "hardware_version": "evt", "must_pass_through": False, "notes": ""})


def test_upload_refusals(api, fleetsim):
    upload = _prepare(api)
    assert_error(_commit(api, upload["token"]), 400)              # nothing PUT yet
    forged = upload["upload_url"].replace("signature=", "signature=00")
    assert_error(requests.put(forged, data=b"hello"), 403, "ForbiddenError")
    put = requests.put(upload["upload_url"], data=b"hello")
    assert put.status_code == 200 and put.headers["ETag"]
    assert_error(_commit(api, upload["token"], md5="0" * 32), 400)  # wrong md5
    assert api.get("/releases").json()["data"] == []
    assert _commit(api, upload["token"], md5="5d41402abc4b2a76b9719d911017c592").status_code == 200
    assert_error(_commit(api, upload["token"]), 409)             # committed twice

    late = _prepare(api)
    fleetsim.clock.advance(hours=1, seconds=1)
    assert_error(requests.put(late["upload_url"], data=b"x"), 403)

    multi = api.post("/upload_multipart", json={"kind": "OTA_PAYLOAD", "size": 5}).json()["data"]
    [part] = multi["part_urls"]
    assert requests.put(part, data=b"hello").headers["ETag"]
    bad_xml = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"nope\"</ETag>"
               "</Part></CompleteMultipartUpload>")
    assert_error(requests.post(multi["complete_upload_url"], data=bad_xml), 400)
    assert_error(requests.post(multi["complete_upload_url"], data="garbage"), 400)


def test_release_lifecycle(api, fleetsim):
    created = api.post("/releases", json={"version": "3.0.0", "revision": "abc", "notes": "n"})
    assert created.status_code == 200
    data = created.json()["data"]
    assert data["artifacts"] == [] and data["count_devices"] == 0 and data["version"] == "3.0.0"
    assert_error(api.post("/releases", json={"version": "3.0.0"}), 409)
    assert api.patch("/releases/3.0.0", json={"notes": "better"}).json()["data"]["notes"] == "better"
    fleetsim.memfault.deploy(api.project, "3.0.0")
    assert_error(api.delete("/releases/3.0.0"), 400)  # still active in a cohort
    [deployment] = api.get("/deployments", params={"release": "3.0.0"}).json()["data"]
    assert api.delete(f"/deployments/{deployment['id']}").status_code == 204
    assert api.get(f"/deployments/{deployment['id']}").json()["data"]["status"] == "cancelled"
    assert api.delete("/releases/3.0.0").status_code == 204
    assert_error(api.get("/releases/3.0.0"), 404)


def test_deployment_list_filters(api, fleetsim):
    seed = fleetsim.memfault
    seed.cohort(api.project, "Beta", "beta")
    seed.release(api.project, "1.0.0")
    seed.release(api.project, "1.1.0")
    seed.release(api.project, "1.1.0", delta_from="1.0.0")
    seed.deploy(api.project, "1.0.0")
    fleetsim.clock.advance(hours=1)
    seed.deploy(api.project, "1.1.0", cohort="beta", rollout_percent=10)
    seed.deploy(api.project, ["1.0.0", "1.1.0"], cohort="beta")

    def ids(**params):
        return [d["id"] for d in api.get("/deployments", params=params).json()["data"]]

    assert ids() == [3, 2, 1]                      # newest first
    assert ids(cohort="beta") == [3, 2]
    assert ids(release="1.1.0") == [2]             # full releases only
    assert ids(delta_from="1.0.0", delta_to="1.1.0") == [3]
    assert ids(type="staged_rollout") == [2]
    assert ids(since="2026-01-01T00:30:00Z") == [3, 2]
    assert ids(sort="deployed_date") == [1, 2, 3]
    delta = api.get("/deployments/3").json()["data"]["release"]
    assert (delta["delta_from"], delta["delta_to"]) == ("1.0.0", "1.1.0")
