"""Pine request semantics: response shapes, writes by key and by filter, versions, permissions."""

from __future__ import annotations

import pytest

from fake_api.balena import schema
from fake_api.balena.db import Hooks
from fake_api.balena.odata.parser import parse_filter
from fake_api.balena.odata.planner import _source
from fake_api.balena.odata.query import Query
from fake_api.balena.odata.reader import Reader

from .fleet import make_fleet


@pytest.fixture
def fleet():
    return make_fleet(devices=4)


def call(fleet, method, path, query="", body=None, version="v7", actor=None):
    return fleet["pine"].handle(version, method, path, query, body, actor)


def test_get_shapes_links_and_expands(fleet):
    status, body = call(fleet, "GET", "device(1)")
    assert status == 200 and len(body["d"]) == 1
    row = body["d"][0]
    assert row["belongs_to__application"] == {"__id": 1}
    assert row["is_pinned_on__release"] is None
    assert "device_tag" not in row
    _, body = call(fleet, "GET", "device(1)", "$select=id&$expand=belongs_to__application($select=id)")
    assert body["d"] == [{"id": 1, "belongs_to__application": [{"id": 1}]}]
    _, body = call(fleet, "GET", "device(1)", "$select=is_pinned_on__release&$expand=is_pinned_on__release")
    assert body["d"] == [{"is_pinned_on__release": []}]
    _, body = call(fleet, "GET", "application(1)", "$select=service&$expand=service")
    assert body["d"][0]["service"][0]["service_name"] == "main"
    _, body = call(fleet, "GET", "application(1)", "$select=id&$expand=owns__device($select=uuid;"
                   "$filter=is_online eq true;$orderby=device_name desc;$top=1;$skip=0)")
    assert body["d"] == [{"id": 1, "owns__device": [{"uuid": "3" * 62}]}]
    _, body = call(fleet, "GET", "application", "$select=id&$expand=owns__device/$count("
                   "$filter=is_online eq true)&$orderby=id asc")
    assert body["d"] == [{"id": 1, "owns__device": 2}, {"id": 2, "owns__device": 0}]
    _, body = call(fleet, "GET", "device/$count", "$filter=is_online eq true&$top=1")
    assert body == {"d": 2}
    _, body = call(fleet, "GET", "device(1)/$count")
    assert body == {"d": 1}


def test_orderby_top_skip_and_nulls(fleet):
    _, body = call(fleet, "GET", "device", "$select=id&$orderby=is_online desc,device_name desc")
    assert [r["id"] for r in body["d"]] == [4, 2, 3, 1]
    _, body = call(fleet, "GET", "device", "$select=id&$orderby=os_version asc&$top=2&$skip=1")
    assert [r["id"] for r in body["d"]] == [3, 4]  # NULL sorts last ascending
    _, body = call(fleet, "GET", "device", "$select=id&$orderby=os_version desc&$top=1")
    assert body["d"] == [{"id": 1}]  # ... and first descending, as in PostgreSQL
    _, body = call(fleet, "GET", "device", "$select=id&$orderby=belongs_to__application/app_name asc,"
                   "id desc&$top=2")
    assert [r["id"] for r in body["d"]] == [4, 3]
    call(fleet, "POST", "device_tag", body={"device": 3, "tag_key": "extra", "value": ""})
    _, body = call(fleet, "GET", "device", "$select=id&$orderby=device_tag/$count desc,id asc")
    assert [r["id"] for r in body["d"]] == [3, 1, 2, 4]


def test_keys_alternate_and_composite(fleet):
    uuid = "1" * 62
    assert call(fleet, "GET", f"device(uuid='{uuid}')", "$select=id")[1]["d"] == [{"id": 2}]
    assert call(fleet, "GET", "organization(handle='gh_user')", "$select=id")[1]["d"] == [{"id": 1}]
    assert call(fleet, "GET", "organization(id=1)", "$select=id")[1]["d"] == [{"id": 1}]
    assert call(fleet, "GET", "application(slug='gh_user/myfleet')", "$select=id")[1]["d"] == [{"id": 1}]
    assert call(fleet, "POST", "device_config_variable", body={
        "device": 1, "name": "RESIN_SUPERVISOR_LOCAL_MODE", "value": "1"})[0] == 201
    _, body = call(fleet, "GET", "device_config_variable(device=1,name='RESIN_SUPERVISOR_LOCAL_MODE')")
    assert body["d"][0]["value"] == "1"
    _, body = call(fleet, "GET", "device_config_variable(name='RESIN_SUPERVISOR_LOCAL_MODE',device=2)")
    assert body == {"d": []}
    # a keyed GET whose extra filter fails is empty, not an error
    q = "$top=1&$select=id&$filter=(id eq 2) and (status eq 'success')&$orderby=created_at desc"
    assert call(fleet, "GET", "release(2)", q) == (200, {"d": []})
    assert call(fleet, "GET", "release(1)", q.replace("id eq 2", "id eq 1"))[1] == {"d": [{"id": 1}]}


def test_post_answers_201_with_the_whole_row_and_checks_the_body(fleet):
    status, row = call(fleet, "POST", "device_tag", body={"device": 1, "tag_key": "k", "value": "v"})
    assert status == 201
    assert row == {"id": row["id"], "tag_key": "k", "value": "v", "device": {"__id": 1}}
    status, msg = call(fleet, "POST", "device_tag", body={"device": 1, "tag_key": "k", "value": "w"})
    assert status == 409 and "unique" in msg
    status, msg = call(fleet, "POST", "device_tag", body={"device": 999, "tag_key": "k", "value": "w"})
    assert status == 400 and "unique" not in msg
    assert call(fleet, "POST", "device_tag", body={"device": 1, "tag_key": "z", "nope": 1})[0] == 400
    assert call(fleet, "POST", "device_tag", body={"device": "1", "tag_key": "z", "value": "v"})[0] == 400
    assert call(fleet, "POST", "device_tag", body={"device": 1, "tag_key": 5, "value": "v"})[0] == 400
    assert call(fleet, "POST", "device_tag", body=["x"])[0] == 400
    assert call(fleet, "POST", "device_tag(1)", body={"value": "v"})[0] == 400
    assert call(fleet, "POST", "user", body={"username": "x", "password": "p"})[0] == 400
    assert call(fleet, "POST", "device", body={"device_tag": []})[0] == 400
    # synonyms: one table under two names, fields under both names
    status, row = call(fleet, "POST", "image__is_part_of__release",
                       body={"image": 1, "is_part_of__release": 2})
    assert status == 201
    assert call(fleet, "GET", f"release_image({row['id']})", "$select=id")[1]["d"] == [{"id": row["id"]}]
    _, body = call(fleet, "GET", "image_install(1)", "$select=image,installs__image")
    assert body["d"] == [{"image": {"__id": 1}, "installs__image": {"__id": 1}}]


def test_patch_and_delete_by_key_and_by_filter(fleet):
    assert call(fleet, "PATCH", "device(1)", body={"note": "n"}) == (200, None)
    assert call(fleet, "GET", "device(1)", "$select=note")[1]["d"] == [{"note": "n"}]
    assert call(fleet, "PATCH", "device", "$filter=belongs_to__application eq 1",
                {"is_web_accessible": True}) == (200, None)
    _, body = call(fleet, "GET", "device/$count", "$filter=is_web_accessible eq true")
    assert body == {"d": 4}
    assert call(fleet, "PATCH", "device(1)", "$filter=id eq 2", {"note": "x"}) == (200, None)
    assert call(fleet, "GET", "device(1)", "$select=note")[1]["d"] == [{"note": "n"}]
    assert call(fleet, "PATCH", "device(1)", body={"is_online": "yes"})[0] == 400
    # a PATCH by filter is one transaction: the second row's conflict undoes the first row
    status, msg = call(fleet, "PATCH", "device", "$filter=id in (1, 2)", {"uuid": "same"})
    assert status == 409 and "unique" in msg
    assert fleet["db"].get("device", 1)["uuid"] == "0" * 62
    assert call(fleet, "PATCH", "device(1)", body={"device_tag": 1})[0] == 400
    assert call(fleet, "PATCH", "device/$count", body={"note": "x"})[0] == 400
    tag_filter = "$filter=(device eq 1) and (tag_key eq 'rollout')"
    assert call(fleet, "DELETE", "device_tag", tag_filter) == (200, None)
    assert call(fleet, "GET", "device_tag/$count")[1] == {"d": 3}
    assert call(fleet, "DELETE", "application", "$filter=1 eq 1") == (200, None)
    for resource in ("application", "device", "device_tag", "release", "image_install"):
        assert call(fleet, "GET", f"{resource}/$count")[1] == {"d": 0}, resource
    assert call(fleet, "GET", "device_type/$count")[1] == {"d": 2}


def test_v6_names_in_urls_bodies_and_rows(fleet):
    uuid = "1" * 62
    assert call(fleet, "PATCH", f"device(uuid='{uuid}')", body={"should_be_running__release": 1},
                version="v6") == (200, None)
    _, body = call(fleet, "GET", "device(2)", "$select=is_pinned_on__release")
    assert body["d"] == [{"is_pinned_on__release": {"__id": 1}}]
    _, body = call(fleet, "GET", "device", "$select=id,should_be_running__release&$filter="
                   "should_be_running__release ne null&$expand=should_be_running__release($select=id)",
                   version="v6")
    assert body["d"] == [{"id": 2, "should_be_running__release": [{"id": 1}]}]
    _, body = call(fleet, "GET", "device(2)", version="v6")
    assert body["d"][0]["should_be_running__release"] == {"__id": 1}
    assert "is_pinned_on__release" not in body["d"][0]
    assert call(fleet, "GET", "device", "$select=is_pinned_on__release", version="v6")[0] == 400
    assert call(fleet, "PATCH", "device(2)", body={"is_pinned_on__release": None}, version="v6")[0] == 400
    _, body = call(fleet, "GET", "release(1)", "$select=id&$expand=should_be_running_on__device("
                   "$select=id)", version="v6")
    assert body["d"] == [{"id": 1, "should_be_running_on__device": [{"id": 2}]}]


class OnlyOnline(Hooks):
    """Test permissions: devices must be online to be seen; tags cannot be deleted."""

    def read_filter(self, resource, actor):
        if resource == "device":
            return lambda row: row["is_online"]
        return None

    def may_delete(self, resource, row, actor):
        return resource != "device_tag"


def test_permission_filters_apply_to_reads_writes_and_expands(fleet):
    fleet["db"].hooks = fleet["pine"].hooks = OnlyOnline()
    _, body = call(fleet, "GET", "device", "$select=id")
    assert [r["id"] for r in body["d"]] == [2, 4]
    assert call(fleet, "GET", "device(1)") == (200, {"d": []})
    _, body = call(fleet, "GET", "application(1)", "$select=id&$expand=owns__device($select=id)")
    assert body["d"][0]["owns__device"] == [{"id": 2}, {"id": 4}]
    _, body = call(fleet, "GET", "device_tag", "$select=id&$filter=device/any(d:d/id gt 0)")
    assert [r["id"] for r in body["d"]] == [2, 4]
    _, body = call(fleet, "GET", "device_tag", "$select=id,device&$expand=device($select=id)")
    assert [r["device"] for r in body["d"]] == [[], [{"id": 2}], [], [{"id": 4}]]
    call(fleet, "PATCH", "device", body={"note": "seen"})
    assert [d["note"] for d in fleet["db"].tables["device"].values()] == [None, "seen", None, "seen"]
    status, msg = call(fleet, "DELETE", "device_tag(1)")
    assert status == 401 and fleet["db"].get("device_tag", 1) is not None
    status, _ = call(fleet, "POST", "device_tag", body={"device": 1, "tag_key": "a", "value": ""})
    assert status == 201  # the db checks the FK without the read filter


def test_index_planner_gives_the_same_rows_as_a_scan(fleet):
    reader = Reader(fleet["db"])
    res = schema.resource("device")
    for text, expected in [
        ("belongs_to__application eq 1", {1, 2, 3, 4}),
        ("id in (1, 3)", {1, 3}),
        ("uuid eq '" + "2" * 62 + "'", {3}),
        ("(uuid eq 'x') or (id eq 2)", {2}),
        ("(belongs_to__application eq 2) and (is_online eq true)", set()),
    ]:
        source = _source(reader, res, parse_filter(text), None)
        assert source is not None and set(source.ids()) == expected, text
    for text in ("is_online eq true", "(id eq 1) or (is_online eq true)", "not(id eq 1)",
                 "device_name eq 'dev1'", "overall_status eq 'inactive'"):
        assert _source(reader, res, parse_filter(text), None) is None
    assert Query(res).top is None


def test_an_older_version_is_a_table_entry_and_a_serializer(fleet, monkeypatch):
    """What part 2's v5 needs: renames plus ``link``/``decorate``, and no engine change."""
    from fake_api.balena import versions

    class Legacy(versions.Version):
        def link(self, resource, id):
            return {"__deferred": {"uri": f"/resin/{resource}({id})"}, "__id": id}

        def decorate(self, resource, out, row):
            out["__metadata"] = {"uri": f"/resin/{resource}({row['id']})"}

    legacy = Legacy("v5", resources={"application_tag": "application_tag",
                                     "app_tag": "application_tag"},
                    fields={"application": {"application_name": "app_name"}}, prefix="resin")
    monkeypatch.setitem(versions.VERSIONS, "v5", legacy)
    _, body = call(fleet, "GET", "application", "$select=id,application_name,organization"
                   "&$filter=application_name eq 'myfleet'", version="v5")
    assert body["d"] == [{"id": 1, "application_name": "myfleet",
                          "organization": {"__deferred": {"uri": "/resin/organization(1)"}, "__id": 1},
                          "__metadata": {"uri": "/resin/application(1)"}}]
    status, row = call(fleet, "POST", "app_tag", body={"application": 1, "tag_key": "a", "value": "b"},
                       version="v5")
    assert status == 201 and row["__metadata"] == {"uri": f"/resin/application_tag({row['id']})"}
    assert call(fleet, "GET", "application(1)", "$select=app_name", version="v5")[0] == 400
