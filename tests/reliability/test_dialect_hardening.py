"""Issue 7, the dialects' part: each item reproduced as found, then shown fixed.

Escalation through fl33t's signed upload URL, downloads of non-Latin-1 and control-character
file names, lone surrogates, trailing newlines in validated fields, unbounded multipart uploads
and uploads that were never freed.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

from fake_api.http import content_disposition

fl33t = pytest.importorskip("fl33t")

TIMEOUT = 10  # a hang is a failure, not a stuck test run


def _fl33t_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str)
    return body


def _memfault_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "http_code", "message", "type"} and error["http_code"] == status
    return error


# -- fl33t: the upload URL is a credential --------------------------------------------------


@pytest.fixture
def team(fleetsim):
    return fleetsim.fl33t.team()


@pytest.fixture
def pending(fleetsim, team):
    """A build waiting for its file (status ``created``)."""
    train = fleetsim.fl33t.train(team)
    return fleetsim.fl33t.build(team, train, "2.0.0", upload=False)


@pytest.mark.parametrize("privilege", ["readonly", "provisioning"])
def test_tokens_that_may_not_upload_do_not_see_upload_urls(fleetsim, team, pending, privilege):
    client = team.client(privilege, base_uri=fleetsim.url)
    assert client.get_build(pending["build_id"]).upload_url is None
    assert [b.upload_url for b in client.list_builds()] == [None]
    raw = requests.get(f"{fleetsim.url}/team/{team.team_id}/builds", timeout=TIMEOUT,
                       headers={"Authorization": f"Bearer {team.tokens[privilege]}"})
    assert raw.status_code == 200
    assert "upload" not in json.dumps(raw.json()["builds"][0]["upload_url"] or "")
    # and nothing else in the answer is a signed upload URL
    assert "/upload?" not in raw.text


@pytest.mark.parametrize("privilege", ["admin", "upload"])
def test_tokens_that_may_upload_still_get_the_url(fleetsim, team, pending, privilege):
    client = team.client(privilege, base_uri=fleetsim.url)
    url = client.get_build(pending["build_id"]).upload_url
    assert url and "/upload?" in url
    assert requests.put(url, data=b"fw", timeout=TIMEOUT).status_code == 200
    assert fleetsim.fl33t.backend.builds[f"{team.team_id}/{pending['build_id']}"][
        "status"] == "available"


def test_readonly_cannot_upload_without_the_url(fleetsim, team, pending):
    """The signature cannot be guessed: a readonly token's best try is refused, nothing stored."""
    before = fleetsim.snapshot()
    url = f"{fleetsim.url}/team/{team.team_id}/build/{pending['build_id']}/upload"
    for query in ("", "?expires=9999999999&signature=" + "0" * 64):
        answer = requests.put(url + query, data=b"evil", timeout=TIMEOUT,
                              headers={"Authorization": f"Bearer {team.tokens['readonly']}"})
        _fl33t_error(answer, 403)
    assert fleetsim.snapshot() == before


# -- downloads with any file name -----------------------------------------------------------


def test_content_disposition_is_rfc6266_for_any_name():
    assert content_disposition("fw.bin") == 'attachment; filename="fw.bin"'
    header = content_disposition("固件.bin")
    assert header == ("attachment; filename=\"__.bin\"; "
                      "filename*=UTF-8''%E5%9B%BA%E4%BB%B6.bin")
    header.encode("latin-1")
    for name in ("a\nb.bin", 'q"uote\\.bin', "\ud800.bin", "tab\there"):
        header = content_disposition(name)
        header.encode("ascii")
        assert "\n" not in header and "\r" not in header and "filename*=UTF-8''" in header


def test_fl33t_download_of_a_non_latin1_file_name(fleetsim, team, pending):
    """The official client cannot send such a name in its upload header (``http.client`` wants
    Latin-1), but the create body carries it as JSON, and then the download used to hang."""
    headers = {"Authorization": f"Bearer {team.tokens['admin']}"}
    body = {"build": {"train_id": pending["train_id"], "version": "3", "filename": "固件.bin"}}
    made = requests.post(f"{fleetsim.url}/team/{team.team_id}/build", json=body,
                         headers=headers, timeout=TIMEOUT).json()["build"]
    assert requests.put(made["upload_url"], data=b"firmware", timeout=TIMEOUT).status_code == 200
    stored = team.client(base_uri=fleetsim.url).get_build(made["build_id"])
    assert stored.status == "available" and stored.filename == "固件.bin"
    answer = requests.get(stored.download_url, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.content == b"firmware"
    assert "filename*=UTF-8''%E5%9B%BA%E4%BB%B6.bin" in answer.headers["Content-Disposition"]


def test_fl33t_control_characters_in_file_names_are_400(fleetsim, team, pending):
    headers = {"Authorization": f"Bearer {team.tokens['admin']}"}
    body = {"build": {"train_id": pending["train_id"], "version": "3", "filename": "a\nb.bin"}}
    before = fleetsim.snapshot()
    _fl33t_error(requests.post(f"{fleetsim.url}/team/{team.team_id}/build", json=body,
                               headers=headers, timeout=TIMEOUT), 400)
    # the upload's own name, RFC 5987-encoded in Content-Disposition
    url = team.client(base_uri=fleetsim.url).get_build(pending["build_id"]).upload_url
    answer = requests.put(url, data=b"fw", timeout=TIMEOUT, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''a%0Ab.bin"})
    _fl33t_error(answer, 400)
    assert fleetsim.snapshot() == before
    assert requests.put(url, data=b"fw", timeout=TIMEOUT).status_code == 200


# -- Memfault: file names, surrogates, trailing newlines ------------------------------------


@pytest.fixture
def mf(fleetsim):
    project = fleetsim.memfault.project()
    fleetsim.memfault.hardware_version(project, "evt")
    return project


@pytest.fixture
def api(fleetsim, mf):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {mf.org_token}"
    prefix = f"{fleetsim.url}/api/v0/organizations/{mf.org}/projects/{mf.project}"

    def call(method: str, path: str, **kw) -> requests.Response:
        return session.request(method, prefix + path, timeout=TIMEOUT, **kw)

    return call


def _uploaded(api, data: bytes = b"payload") -> str:
    prepared = api("POST", "/upload", json={"kind": "OTA_PAYLOAD", "size": len(data)})
    upload = prepared.json()["data"]
    assert requests.put(upload["upload_url"], data=data, timeout=TIMEOUT).status_code == 200
    return upload["token"]


def _commit_body(token: str, name: str, version: str = "1.0.0") -> str:
    """Raw JSON text, so a lone surrogate can be written as its escape."""
    body = json.dumps({"file": {"token": token, "name": "NAME"}, "hardware_version": "evt",
                       "software_version": {"version": version, "software_type": "main"}})
    return body.replace('"NAME"', f'"{name}"')


@pytest.mark.parametrize("name", [r"fw\nname.bin", r"\ud800.bin", r"tab\t.bin"])
def test_memfault_bad_file_names_are_400_and_store_nothing(fleetsim, api, name):
    token = _uploaded(api)
    before = fleetsim.snapshot()
    answer = api("POST", "/releases/ota_payload", data=_commit_body(token, name),
                 headers={"Content-Type": "application/json"})
    _memfault_error(answer, 400)
    assert fleetsim.snapshot() == before
    listed = api("GET", "/releases")
    assert listed.status_code == 200 and listed.json()["data"] == []


@pytest.mark.parametrize("name", ["固件.bin", "a\nb.bin", "\ud800.bin", "sp ace#?.bin", "../x", ".."])
def test_memfault_artifact_urls_work_for_any_stored_name(fleetsim, mf, name):
    """Seeded names skip input checks: the URL and the download must still work."""
    fleetsim.memfault.release(mf, "1.0.0", b"bytes!", filename=name)
    fleetsim.memfault.deploy(mf, "1.0.0")
    latest = requests.get(f"{fleetsim.url}/api/v0/releases/latest/url", timeout=TIMEOUT,
                          params={"device_serial": "D1", "hardware_version": "evt",
                                  "software_type": "main"},
                          headers={"Memfault-Project-Key": mf.project_key})
    assert latest.status_code == 200, latest.text
    answer = requests.get(latest.text, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.content == b"bytes!"
    answer.headers["Content-Disposition"].encode("latin-1")


def test_memfault_non_latin1_commit_then_download(fleetsim, api, mf):
    token = _uploaded(api, b"fw-bytes")
    answer = api("POST", "/releases/ota_payload", data=_commit_body(token, "固件.bin"),
                 headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    artifact = answer.json()["data"]["artifacts"][0]
    assert artifact["filename"] == "固件.bin"
    download = requests.get(artifact["url"], timeout=TIMEOUT)
    assert download.status_code == 200 and download.content == b"fw-bytes"


def test_trailing_newline_serial_is_refused_and_creates_no_device(fleetsim, mf):
    before = fleetsim.snapshot()
    answer = requests.get(f"{fleetsim.url}/api/v0/releases/latest", timeout=TIMEOUT,
                          params={"device_serial": "SINK-9\n", "hardware_version": "evt",
                                  "software_type": "main"},
                          headers={"Memfault-Project-Key": mf.project_key})
    _memfault_error(answer, 400)
    assert fleetsim.snapshot() == before
    assert not any(d["device_serial"].startswith("SINK-9")
                   for d in fleetsim.memfault.backend.devices.values())


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/devices", {"device_serial": "SINK-9\n", "owner_ref": "o",
                          "hardware_version": "evt"}),
    ("POST", "/devices", {"device_serial": "SINK-9", "owner_ref": "o",
                          "hardware_version": "evt\n"}),
    ("POST", "/cohorts", {"name": "Beta", "slug": "beta\n"}),
    ("POST", "/releases", {"version": "1.0.0\n"}),
    ("POST", "/hardware_versions", {"name": "dvt\n"}),
])
def test_trailing_newlines_fail_full_string_validation(fleetsim, api, method, path, body):
    before = fleetsim.snapshot()
    _memfault_error(api(method, path, json=body), 400)
    assert fleetsim.snapshot() == before


# -- Memfault: bounded uploads ---------------------------------------------------------------


def test_a_huge_multipart_upload_is_refused_not_planned(fleetsim, api):
    before = fleetsim.snapshot()
    answer = api("POST", "/upload_multipart", json={"kind": "OTA_PAYLOAD", "size": 10**12})
    error = _memfault_error(answer, 400)
    assert "too big" in error["message"]
    assert len(answer.content) < 1000
    assert fleetsim.snapshot() == before


def test_part_count_is_bounded(fleetsim, api, mf):
    from fake_api.memfault.uploads import MAX_PARTS

    mf.record["multipart_part_size"] = 1
    answer = api("POST", "/upload_multipart", json={"kind": "OTA_PAYLOAD", "size": 10**8})
    assert answer.status_code == 200
    assert len(answer.json()["data"]["part_urls"]) == MAX_PARTS


def test_expired_uncommitted_uploads_are_freed(fleetsim, api):
    blobs = fleetsim.cloud.blobs
    backend = fleetsim.memfault.backend
    base = len(blobs)
    _uploaded(api, b"a" * 100)
    multi = api("POST", "/upload_multipart", json={"kind": "OTA_PAYLOAD", "size": 10}).json()
    assert requests.put(multi["data"]["part_urls"][0], data=b"b" * 10,
                        timeout=TIMEOUT).status_code == 200
    committed = _uploaded(api, b"c" * 10)
    assert api("POST", "/releases/ota_payload", data=_commit_body(committed, "fw.bin"),
               headers={"Content-Type": "application/json"}).status_code == 200
    assert len(blobs) == base + 3 and len(backend.uploads) == 3
    fleetsim.clock.advance(hours=2)
    api("POST", "/upload", json={"kind": "OTA_PAYLOAD", "size": 1})
    # the two uncommitted uploads' bytes are gone; the committed artifact's bytes remain
    assert len(blobs) == base + 1 and len(backend.uploads) == 1
    artifact = next(iter(backend.artifacts.values()))
    assert blobs.data(artifact["blob_id"]) == b"c" * 10
    assert hashlib.md5(blobs.data(artifact["blob_id"])).hexdigest() == artifact["md5"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/releases", '{"version": "2.0.0", "notes": "\\ud800"}'),
    ("POST", "/cohorts", '{"name": "Beta \\udfff"}'),
    ("POST", "/devices", '{"device_serial": "D9", "owner_ref": "\\ud800x", '
                         '"hardware_version": "evt"}'),
    ("POST", "/releases", '{"version": "2.0.0", "extra_info": {"\\ud800": "key"}}'),
])
def test_memfault_lone_surrogates_in_bodies_are_400(fleetsim, api, method, path, body):
    before = fleetsim.snapshot()
    _memfault_error(api(method, path, data=body, headers={"Content-Type": "application/json"}),
                    400)
    assert fleetsim.snapshot() == before


@pytest.mark.parametrize("where", ["query", "path", "attributes"])
def test_memfault_surrogate_bytes_outside_bodies_store_nothing(fleetsim, mf, where):
    """Percent-encoded surrogates (``%ED%A0%80``) in a query string or a path are not UTF-8: they
    must be refused, not stored (werkzeug decodes them to U+FFFD, which no pattern accepts)."""
    key = {"Memfault-Project-Key": mf.project_key}
    before = fleetsim.snapshot()
    if where == "query":
        answer = requests.get(f"{fleetsim.url}/api/v0/releases/latest?device_serial=%ED%A0%80"
                              "&hardware_version=evt&software_type=main", headers=key,
                              timeout=TIMEOUT)
    elif where == "path":
        answer = requests.post(f"{fleetsim.url}/api/v0/chunks/%ED%A0%80", data=b"chunk",
                               timeout=TIMEOUT,
                               headers=dict(key, **{"Content-Type": "application/octet-stream"}))
    else:
        answer = requests.patch(f"{fleetsim.url}/api/v0/attributes?device_serial=%ED%A0%80",
                                json=[{"string_key": "k", "value": "v"}], headers=key,
                                timeout=TIMEOUT)
    _memfault_error(answer, 400)
    assert fleetsim.snapshot() == before


def test_multipart_parts_together_are_bounded(fleetsim, api, mf, monkeypatch):
    """Each part PUT may carry a whole request's worth of bytes: the parts of one upload hold at
    most the upload limit together (a replaced part does not count twice)."""
    from fake_api.memfault import uploads

    monkeypatch.setattr(uploads, "MAX_UPLOAD_SIZE", 10)
    mf.record["multipart_part_size"] = 5
    urls = api("POST", "/upload_multipart",
               json={"kind": "OTA_PAYLOAD", "size": 10}).json()["data"]["part_urls"]
    assert len(urls) == 2
    assert requests.put(urls[0], data=b"x" * 8, timeout=TIMEOUT).status_code == 200
    assert requests.put(urls[0], data=b"y" * 6, timeout=TIMEOUT).status_code == 200  # replaced
    before = fleetsim.snapshot()
    error = _memfault_error(requests.put(urls[1], data=b"z" * 5, timeout=TIMEOUT), 400)
    assert "too big" in error["message"]
    assert fleetsim.snapshot() == before
    assert requests.put(urls[1], data=b"z" * 4, timeout=TIMEOUT).status_code == 200
