"""Releases with balena-sdk 17.3 unchanged: get, latest, finalize (revisions), invalidate, note,
known issues, semver, image details, tags."""

from __future__ import annotations

from typing import Any

import pytest
from balena import exceptions


def test_get_by_id_commit_and_raw_version(fleetsim: Any, models: Any, fleet: dict) -> None:
    rel = fleetsim.balena.release(fleet)
    assert models.release.get(rel["id"])["commit"] == rel["commit"]
    assert models.release.get(rel["commit"])["id"] == rel["id"]
    got = models.release.get({"application": fleet["id"], "raw_version": "0.0.0"})
    assert got["id"] == rel["id"] and got["is_final"] is True and got["revision"] == 0
    with pytest.raises(exceptions.ReleaseNotFound):
        models.release.get(999999)
    with pytest.raises(exceptions.ReleaseNotFound):
        models.release.get("f" * 32)


def test_ambiguous_commit(fleetsim: Any, models: Any, fleet: dict) -> None:
    fleetsim.balena.release(fleet, commit="abcdef0123456789abcdef0123456789")
    fleetsim.balena.release(fleet, commit="abcdef0123456789abcdef0123456789")
    with pytest.raises(exceptions.AmbiguousRelease):
        models.release.get("abcdef0123456789abcdef0123456789")


def test_all_and_latest(fleetsim: Any, models: Any, fleet: dict) -> None:
    assert models.release.get_latest_by_application(fleet["id"]) is None
    r1 = fleetsim.balena.release(fleet)
    fleetsim.clock.advance(10)
    r2 = fleetsim.balena.release(fleet)
    fleetsim.clock.advance(10)
    fleetsim.balena.release(fleet, status="failed")
    ids = [r["id"] for r in models.release.get_all_by_application(fleet["slug"])]
    assert ids[1:] == [r2["id"], r1["id"]] and len(ids) == 3
    assert models.release.get_latest_by_application(fleet["slug"])["id"] == r2["id"]


def test_finalize_assigns_revisions_per_semver(fleetsim: Any, models: Any, fleet: dict) -> None:
    drafts = [fleetsim.balena.release(fleet, semver="1.1.1", final=False) for _ in range(3)]
    assert all(not models.release.get(d["id"])["is_final"] for d in drafts)
    assert models.release.get(drafts[0]["id"])["raw_version"].startswith("1.1.1-")
    for draft in drafts:
        models.release.finalize(draft["id"])
    versions = [models.release.get(d["id"])["raw_version"] for d in drafts]
    assert versions == ["1.1.1", "1.1.1+rev1", "1.1.1+rev2"]
    models.release.finalize(drafts[0]["id"])  # finalising twice changes nothing
    assert models.release.get(drafts[0]["id"])["raw_version"] == "1.1.1"


def test_setters(fleetsim: Any, sdk: Any, models: Any, fleet: dict) -> None:
    rel = fleetsim.balena.release(fleet)
    models.release.set_is_invalidated(rel["id"], True)
    models.release.set_note(rel["commit"], "a note")
    models.release.set_known_issue_list(rel["id"], "flaky wifi")
    models.release.set_release_version(rel["id"], "2.3.4-beta.1+build.5")
    got = models.release.get(rel["id"], {"$select": ["is_invalidated", "note", "known_issue_list",
                                                     "semver", "semver_major", "semver_prerelease",
                                                     "raw_version"]})
    assert got == {"is_invalidated": True, "note": "a note", "known_issue_list": "flaky wifi",
                   "semver": "2.3.4-beta.1+build.5", "semver_major": 2,
                   "semver_prerelease": "beta.1", "raw_version": "2.3.4-beta.1+build.5"}
    with pytest.raises(exceptions.InvalidParameter):  # the SDK checks before sending
        models.release.set_release_version(rel["id"], "not-a-version")
    with pytest.raises(exceptions.RequestError) as err:
        sdk.pine.patch({"resource": "release", "id": rel["id"], "body": {"semver": "1.2"}})
    assert err.value.status_code == 400


def test_invalidated_release_is_not_the_latest_target(fleetsim: Any, models: Any, fleet: dict) -> None:
    r1 = fleetsim.balena.release(fleet)
    fleetsim.clock.advance(10)
    r2 = fleetsim.balena.release(fleet)
    models.release.set_is_invalidated(r2["id"], True)
    models.application.track_latest_release(fleet["id"])
    assert models.application.get_target_release_hash(fleet["id"]) == r1["commit"]


def test_with_image_details_and_services(fleetsim: Any, models: Any, fleet: dict, user: Any) -> None:
    rel = fleetsim.balena.release(fleet, services=("main", "sidecar"))
    details = models.release.get_with_image_details(rel["id"])
    assert {i["service_name"] for i in details["images"]} == {"main", "sidecar"}
    assert details["user"] is None or details["user"]["username"] == user.username
    services = models.service.get_all_by_application(fleet["id"])
    assert sorted(s["service_name"] for s in services) == ["main", "sidecar"]
    assert all(s["application"] == {"__id": fleet["id"]} for s in services)
    image = models.image.get(details["images"][0]["id"])
    assert "build_log" not in image and image["status"] == "success"


def test_user_creates_a_release_with_plain_odata(models: Any, sdk: Any, fleet: dict, user: Any) -> None:
    """As the upstream test helper does: service, release, image, image__is_part_of__release."""
    service = sdk.pine.post({"resource": "service", "body": {"application": fleet["id"],
                                                            "service_name": "web"}})
    release = sdk.pine.post({"resource": "release", "body": {
        "belongs_to__application": fleet["id"], "commit": "0123456789abcdef0123456789abcdef",
        "status": "success", "source": "cloud", "composition": {}, "start_timestamp": 1234}})
    assert release["is_created_by__user"] == {"__id": user.id} and release["is_final"] is True
    image = sdk.pine.post({"resource": "image", "body": {
        "is_a_build_of__service": service["id"], "project_type": "dockerfile",
        "content_hash": "abc", "build_log": "", "start_timestamp": 1234, "end_timestamp": 1234,
        "push_timestamp": 1234, "status": "success"}})
    sdk.pine.post({"resource": "image__is_part_of__release",
                   "body": {"image": image["id"], "is_part_of__release": release["id"]}})
    count = sdk.pine.get({"resource": "image", "options": {"$count": {"$filter": {
        "release_image": {"$any": {"$alias": "ri", "$expr": {"ri": {"is_part_of__release":
                                                                       release["id"]}}}}}}}})
    assert count == 1
    assert models.release.get_latest_by_application(fleet["id"])["id"] == release["id"]


def test_release_tags(fleetsim: Any, models: Any, fleet: dict) -> None:
    rel = fleetsim.balena.release(fleet)
    models.release.tags.set(rel["id"], "qa", "passed")
    models.release.tags.set(rel["commit"], "qa", "failed")  # upsert: 409 "unique" then PATCH
    assert models.release.tags.get(rel["id"], "qa") == "failed"
    assert [t["tag_key"] for t in models.release.tags.get_all_by_release(rel["id"])] == ["qa"]
    assert len(models.release.tags.get_all_by_application(fleet["id"])) == 1
    models.release.tags.remove(rel["id"], "qa")
    assert models.release.tags.get(rel["id"], "qa") is None


def test_other_user_cannot_see_releases(fleetsim: Any, other: Any, fleet: dict) -> None:
    rel = fleetsim.balena.release(fleet)
    with pytest.raises(exceptions.ReleaseNotFound):
        other.models.release.get(rel["id"])
    with pytest.raises(exceptions.RequestError) as err:
        other.pine.post({"resource": "release", "body": {"belongs_to__application": fleet["id"],
                                                         "commit": "x", "status": "success"}})
    assert err.value.status_code == 401
