"""Builds through the official client: create + upload, download, release, signed URL expiry."""

from __future__ import annotations

import hashlib

import pytest
import requests
from fl33t.exceptions import InvalidBuildIdError


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


FIRMWARE = bytes(range(256)) * 4 + b"tail"


@pytest.fixture
def train(fl33t_client):
    return fl33t_client.Train(name="main").create()


def test_create_uploads_the_file_and_the_build_becomes_available(
        fleetsim, fl33t_client, train, firmware):
    build = fl33t_client.Build(train_id=train.train_id, version="1.0.0",
                               filename=firmware(FIRMWARE, "fw-1.0.0.bin")).create()
    # Build.create returns the create response: the build was not re-read after the upload
    assert build.status == "created" and build.upload_tstamp is None
    assert build.upload_url.startswith(fleetsim.url + "/team/")
    upload = fleetsim.journal.entries(method="PUT", path=f"*/build/{build.build_id}/upload")
    assert [e.status for e in upload] == [200]

    uploaded_at = fleetsim.clock.now()
    fleetsim.clock.advance(seconds=5)
    stored = fl33t_client.get_build(build.build_id)
    assert stored.status == "available"
    assert (stored.size, stored.md5sum, stored.filename) == (
        len(FIRMWARE), md5(FIRMWARE), "fw-1.0.0.bin")
    assert stored.upload_tstamp == uploaded_at
    assert stored.upload_url is None and stored.released is False

    download = requests.get(stored.download_url, timeout=30)
    assert download.status_code == 200
    assert download.content == FIRMWARE and md5(download.content) == stored.md5sum
    assert 'filename="fw-1.0.0.bin"' in download.headers["Content-Disposition"]
    part = requests.get(stored.download_url, headers={"Range": "bytes=4-7"}, timeout=30)
    assert part.status_code == 206 and part.content == FIRMWARE[4:8]


def test_list_filter_release_and_delete(fleetsim, fl33t_client, team, train, firmware):
    for version in ("1.0.0", "1.1.0"):
        fl33t_client.Build(train_id=train.train_id, version=version,
                           filename=firmware(version.encode(), f"{version}.bin")).create()
    other = fleetsim.fl33t.train(team, "other")
    fleetsim.fl33t.build(team, other, "1.0.0")

    assert [b.version for b in fl33t_client.list_builds(train_id=train.train_id)] == [
        "1.0.0", "1.1.0"]
    assert [b.version for b in train.builds()] == ["1.0.0", "1.1.0"]
    same = list(fl33t_client.list_builds(version="1.0.0"))
    assert {b.train_id for b in same} == {train.train_id, other["train_id"]}
    only = list(fl33t_client.list_builds(train_id=train.train_id, version="1.1.0"))
    assert len(only) == 1

    build = only[0]
    assert build.train.train_id == train.train_id
    build.released = True
    assert build.update() is build
    assert fl33t_client.get_build(build.build_id).released is True

    assert build.delete() is True
    with pytest.raises(InvalidBuildIdError):
        fl33t_client.get_build(build.build_id)
    assert requests.get(build.download_url, timeout=30).status_code == 404


def test_a_declared_md5_that_does_not_match_fails_the_build(fl33t_client, train, firmware):
    build = fl33t_client.Build(train_id=train.train_id, version="2.0", md5sum="0" * 32,
                               filename=firmware(b"corrupted in transit")).create()
    stored = fl33t_client.get_build(build.build_id)
    assert stored.status == "failed" and stored.download_url is None
    assert stored.size == len(b"corrupted in transit")


def test_a_null_md5_is_accepted_as_the_cli_sends_it(fl33t_client, train, firmware):
    path = firmware(b"cli build")
    build = fl33t_client.Build(train_id=train.train_id, version="3", md5sum=None,
                               filename=path).create()
    stored = fl33t_client.get_build(build.build_id)
    assert stored.status == "available" and stored.md5sum == md5(b"cli build")


def test_download_url_expires_after_three_minutes(fleetsim, fl33t_client, team, train):
    seeded = fleetsim.fl33t.build(team, train.train_id, "1.0", data=FIRMWARE)
    url = fl33t_client.get_build(seeded["build_id"]).download_url

    fleetsim.clock.advance(seconds=179)
    assert requests.get(url, timeout=30).content == FIRMWARE
    fleetsim.clock.advance(seconds=2)
    expired = requests.get(url, timeout=30)
    assert expired.status_code == 403 and "expired" in expired.json()["error"]

    fresh = fl33t_client.get_build(seeded["build_id"]).download_url
    assert fresh != url and requests.get(fresh, timeout=30).content == FIRMWARE


def test_forged_and_unsigned_download_urls_are_refused(fleetsim, fl33t_client, team, train):
    one = fleetsim.fl33t.build(team, train.train_id, "1.0")
    two = fleetsim.fl33t.build(team, train.train_id, "2.0")
    url = fl33t_client.get_build(one["build_id"]).download_url
    refused = [
        url[:-4] + ("0000" if not url.endswith("0000") else "1111"),  # altered signature
        url.replace(one["build_id"], two["build_id"]),  # another build's path
        url.replace("expires=", "expires=9"),  # a later expiry
        url.split("?")[0],  # unsigned
    ]
    for forged in refused:
        answer = requests.get(forged, timeout=30)
        assert answer.status_code == 403, forged
        assert set(answer.json()) == {"error"}


def test_upload_url_is_single_use_and_expires(fleetsim, fl33t_client, team, train, raw):
    made = raw("POST", "/build", json={"build": {"train_id": train.train_id, "version": "9"}})
    assert made.status_code == 201
    build = made.json()["build"]
    assert build["status"] == "created" and build["download_url"] is None

    late = fleetsim.fl33t.build(team, train.train_id, "10", upload=False)
    fleetsim.clock.advance(hours=1, seconds=1)
    assert requests.put(late["upload_url"], data=b"x", timeout=30).status_code == 403

    first = requests.put(build["upload_url"].replace("expires=", "expires=1"), data=b"x",
                         timeout=30)
    assert first.status_code == 403  # tampered
    ok = fl33t_client.get_build(build["build_id"]).upload_url  # a fresh upload URL
    assert requests.put(ok, data=b"fw", timeout=30).status_code == 200
    again = requests.put(ok, data=b"other", timeout=30)
    assert again.status_code == 409
    assert requests.get(fl33t_client.get_build(build["build_id"]).download_url,
                        timeout=30).content == b"fw"


def test_build_create_validates_its_references(fl33t_client, raw, state):
    before = state()
    assert fl33t_client.Build(train_id="nope", version="1", filename=__file__).create() is False
    bad = raw("POST", "/build", json={"build": {"train_id": "nope", "version": "1"}})
    assert bad.status_code == 400 and "train_id" in bad.json()["error"]
    assert state() == before
