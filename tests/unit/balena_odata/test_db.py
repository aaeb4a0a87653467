"""``schema.py`` is consistent and ``BalenaDb`` keeps rows, indexes and rules right."""

from __future__ import annotations

import pytest

from fake_api.balena import schema
from fake_api.balena.db import BalenaDb, Hooks, to_date
from fake_api.balena.errors import BalenaError

from .fleet import make_fleet


def test_schema_links_and_navigations_point_at_declared_resources():
    schema.check()
    assert schema.resource("image__is_part_of__release") is schema.resource("release_image")
    assert schema.resource("user__is_member_of__organization").name == "organization_membership"
    assert ("uuid",) in schema.resource("device").alternate_keys
    assert ("device", "name") in schema.resource("device_config_variable").alternate_keys
    assert schema.resource("api_key").fields["key"].hidden
    assert "key" not in schema.resource("api_key").readable
    for res in schema.RESOURCES.values():
        for nav in res.navs.values():  # every fk navigation is the reverse of a link to res
            if nav.fk is not None:
                link = schema.resource(nav.resource).links[nav.fk]
                assert schema.canonical(link.target) == res.name, (res.name, nav.name)


def err(fn, *args, **kwargs):
    with pytest.raises(BalenaError) as info:
        fn(*args, **kwargs)
    return info.value.status, info.value.message


def test_types_nulls_foreign_keys_and_uniqueness():
    f = make_fleet(devices=1)
    db = f["db"]
    assert err(db.insert, "device_tag", {"device": 1, "tag_key": "rollout", "value": "x"}) == (
        409, '"device" and "tag_key" must be unique.')
    status, msg = err(db.insert, "device_tag", {"device": 42, "tag_key": "k", "value": "x"})
    assert status == 400 and "unique" not in msg
    assert err(db.insert, "device_tag", {"device": 1, "tag_key": None, "value": "x"}) == (
        400, '"tag_key" cannot be null')
    assert err(db.insert, "device_tag", {"device": 1, "value": "x"})[0] == 400
    assert err(db.insert, "device_tag", {"device": True, "tag_key": "a", "value": "x"})[0] == 400
    assert err(db.insert, "device", {"uuid": "u", "device_name": "d", "is_online": 1,
                                     "belongs_to__application": 1, "is_of__device_type": 1})[0] == 400
    assert err(db.insert, "device", {"overall_status": "idle"})[0] == 400
    assert err(db.update, "device", 1, {"uuid": f["devices"][0]["uuid"], "id": 7})[0] == 400
    assert err(db.update, "device", 99, {"note": "x"})[0] == 404
    other = db.insert("device", {"uuid": "x" * 32, "device_name": "d2",
                                 "belongs_to__application": 1, "is_of__device_type": 1})
    assert err(db.update, "device", other["id"], {"uuid": f["devices"][0]["uuid"]})[0] == 409
    assert db.get("device", other["id"])["uuid"] == "x" * 32
    # dates: ISO strings or epoch milliseconds, stored in pinejs's form
    db.update("device", 1, {"is_accessible_by_support_until__date": 1767225600123})
    assert db.get("device", 1)["is_accessible_by_support_until__date"] == "2026-01-01T00:00:00.123Z"
    assert to_date("2026-01-01T01:00:00+01:00") == "2026-01-01T00:00:00.000Z"
    assert err(db.update, "device", 1, {"last_vpn_event": "soon"})[0] == 400
    row = db.insert("device_tag", {"id": 500, "device": 1, "tag_key": "x", "value": ""})
    assert row["id"] == 500 and err(db.insert, "device_tag", {"id": 500, "device": 1,
                                                              "tag_key": "y", "value": ""})[0] == 409


def test_indexes_follow_updates_and_find_uses_them():
    f = make_fleet(devices=3)
    db = f["db"]
    app2 = f["host"]["id"]
    db.update("device", 2, {"belongs_to__application": app2})
    assert [d["id"] for d in db.children("device", "belongs_to__application", 1)] == [1, 3]
    assert [d["id"] for d in db.find("device", belongs_to__application=app2)] == [2]
    assert db.find("device", uuid=f["devices"][2]["uuid"])[0]["id"] == 3
    assert db.find("image_install", image=1, device=2)[0]["id"] == 2
    assert db.find("device", device_name="dev0", is_online=False)[0]["id"] == 1
    assert db.lookup_unique("device", ("uuid",), ("nope",)) is None


def test_delete_cascades_sets_null_and_restricts_atomically():
    f = make_fleet(devices=2)
    db = f["db"]
    db.update("device", 1, {"is_pinned_on__release": f["rel2"]["id"]})
    db.delete("release", f["rel2"]["id"])
    assert db.get("device", 1)["is_pinned_on__release"] is None
    assert db.children("device", "is_pinned_on__release", f["rel2"]["id"]) == []
    before = {name: len(t) for name, t in db.tables.items()}
    assert err(db.delete, "device_type", f["rpi4"]["id"])[0] == 409
    assert {name: len(t) for name, t in db.tables.items()} == before
    db.delete("organization", f["org"]["id"])
    for name in ("organization", "application", "device", "device_tag", "release", "service",
                 "image", "release_image", "image_install"):
        assert not db.tables[name], name
    assert err(db.delete, "device", 1)[0] == 404


def test_hooks_are_called_and_may_change_values():
    calls = []

    class Recording(Hooks):
        def before_insert(self, resource, values, actor):
            calls.append(("before_insert", resource, actor))
            return {**values, "value": values.get("value", "").upper()}

        def after_insert(self, resource, row, actor):
            calls.append(("after_insert", resource, row["id"]))

        def before_update(self, resource, row, changes, actor):
            calls.append(("before_update", resource, row["value"]))
            return changes

        def after_update(self, resource, row, old, actor):
            calls.append(("after_update", old["value"], row["value"]))

        def before_delete(self, resource, row, actor):
            calls.append(("before_delete", resource))

        def after_delete(self, resource, row, actor):
            calls.append(("after_delete", resource))

    f = make_fleet(devices=1)
    db = f["db"]
    db.hooks = Recording()
    row = db.insert("device_tag", {"device": 1, "tag_key": "k", "value": "v"}, actor="me")
    assert row["value"] == "V"
    db.update("device_tag", row["id"], {"value": "w"})
    db.delete("device", 1)
    assert calls == [
        ("before_insert", "device_tag", "me"), ("after_insert", "device_tag", row["id"]),
        ("before_update", "device_tag", "V"), ("after_update", "V", "w"),
        ("before_delete", "device"), ("before_delete", "image_install"),
        ("before_delete", "device_tag"), ("before_delete", "device_tag"),
        ("after_delete", "device_tag"), ("after_delete", "device_tag"),
        ("after_delete", "image_install"), ("after_delete", "device"),
    ]


def test_snapshot_restore_rekeys_tables_and_rebuilds_indexes():
    f = make_fleet(devices=2)
    cloud, db = f["cloud"], f["db"]
    snap = cloud.snapshot()
    db.delete("application", f["app"]["id"])
    cloud.restore(snap)
    db.after_restore()
    assert all(isinstance(k, int) for k in db.tables["device"])
    assert [d["id"] for d in db.children("device", "belongs_to__application", 1)] == [1, 2]
    assert db.find("device", uuid=f["devices"][1]["uuid"])[0]["id"] == 2
    fresh = BalenaDb(cloud)  # a second db over the same store sees the same rows
    assert fresh.get("device", 2)["device_name"] == "dev1"


def test_a_failed_transaction_undoes_every_write_hooks_included():
    f = make_fleet(devices=3)
    db, cloud = f["db"], f["cloud"]

    class Failing(Hooks):
        def after_insert(self, resource, row, actor):
            if resource == "device_tag":
                db.update("device", row["device"], {"note": "tagged"})
                raise BalenaError(400, "no tags today")

    before = cloud.store.snapshot()
    with pytest.raises(BalenaError), db.transaction():
        db.update("device", 1, {"device_name": "renamed"})
        db.delete("device", 2)
        db.hooks = Failing()
        db.insert("device_tag", {"device": 3, "tag_key": "k", "value": "v"})
    db.hooks = Hooks()
    after = cloud.store.snapshot()
    before["_core.counters"] = after["_core.counters"] = None  # ids taken are not given back
    assert after == before
    assert [d["id"] for d in db.children("device", "belongs_to__application", 1)] == [1, 2, 3]
    assert db.find("device", device_name="dev0")[0]["id"] == 1
    assert len(db.children("device_tag", "device", 2)) == 1
