"""The fl33t and Memfault indexes give the same answers as a plain scan of the tables.

Seeded random walks of operations go through the backends' own methods (what the routes call);
after each one the indexes are compared with a scan, list answers with a scan-and-sort, and the
state survives a snapshot and restore (indexes rebuilt) and a reset (indexes emptied). A walk is
reproducible from its seed (no shrinking to wait for). ``FLEETSIM_LONG=1`` runs 25 times more.
"""

from __future__ import annotations

import os
import random

import pytest

from fake_api.app import create_app
from fake_api.core import Cloud
from fake_api.core.errors import FleetsimError
from fake_api.core.index import Rows, TableIndex
from fake_api.fl33t import checkin
from fake_api.fl33t.models import SYSTEM
from fake_api.fl33t.seed import Fl33tSeeder
from fake_api.memfault.seed import MemfaultSeeder

WALKS = range(200 if os.environ.get("FLEETSIM_LONG") == "1" else 8)
STEPS = 60


def _walk(seed: int) -> list[tuple[int, int, int, int]]:
    """``STEPS`` random ``(operation, team, x, y)``: which operation, on what, with what."""
    rng = random.Random(seed)
    return [(rng.randrange(10), rng.randrange(2), rng.randrange(8), rng.randrange(8))
            for _ in range(STEPS)]


# -- the index itself ----------------------------------------------------------------------------


def test_table_index_groups_in_table_order_and_resorts_after_moves():
    table = {f"k{i}": {"g": i % 2} for i in range(6)}
    index = TableIndex(table, g=lambda r: r["g"])
    index.rebuild()
    assert index.keys("g", 0) == ["k0", "k2", "k4"]
    table["k1"]["g"] = 0  # an older record joins the group: order must follow the table
    index.update("k1", table["k1"])
    assert index.keys("g", 0) == ["k0", "k1", "k2", "k4"]
    assert index.keys("g", 0, 1, 3, reverse=True) == ["k2", "k1"]
    assert index.count("g", 1) == 2 and index.problems() == []
    del table["k2"]
    index.remove("k2")
    assert Rows(index, "g", 0)[0:10] == [table["k0"], table["k1"], table["k4"]]
    assert len(Rows(index, "g", 0)) == 3 and index.problems() == []
    table["k9"] = {"g": 5}  # written behind the index's back: the check must say so
    assert index.problems()


# -- fl33t ---------------------------------------------------------------------------------------


def _fl33t_world():
    cloud = Cloud(seed=3)
    create_app(cloud)
    seed = Fl33tSeeder(cloud.backends["fl33t"], "http://fake")
    teams = [seed.team(f"t{i}") for i in range(2)]
    trains = [seed.train(t) for t in teams]
    return cloud, seed, teams, trains


def _fl33t_scan_checks(b) -> None:
    assert b.index_problems() == []
    for team_id in {d["team_id"] for d in b.devices.values()} | {"t0", "t1"}:
        fleet_ids = [None] + [f["fleet_id"] for f in b.fleets.values() if f["team_id"] == team_id]
        build_ids = [None] + [x["build_id"] for x in b.builds.values() if x["team_id"] == team_id]
        for fleet_id in fleet_ids[:3]:
            for build_id in build_ids[:3]:
                args = {"fleet_id": fleet_id or "", "build_id": build_id or "", "limit": "3",
                        "offset": "1"}
                got = b.list_devices(SYSTEM, team_id, args)
                scan = [d for d in b.devices.values() if d["team_id"] == team_id
                        and (fleet_id is None or d["fleet_id"] == fleet_id)
                        and (build_id is None or d["build_id"] == build_id)]
                assert got["device_count"] == len(scan)
                assert [d["device_id"] for d in got["devices"]] == \
                    [d["device_id"] for d in scan[1:4]]
        for fleet in [f for f in b.fleets.values() if f["team_id"] == team_id]:
            builds = [x for x in b.builds.values()
                      if x["team_id"] == team_id and x["train_id"] == fleet["train_id"]]
            pinned = b.builds.get(f"{team_id}/{fleet['build_id']}") if fleet["build_id"] else None
            assert b._target(fleet) == checkin.target_build(fleet, builds, pinned)
        sessions = b.list_sessions(SYSTEM, team_id, {"limit": "100"})["sessions"]
        assert [s["session_token"] for s in sessions] == [
            s["session_token"] for s in b.sessions.values()
            if s["team_id"] == team_id and s.get("device_id") is None][:100]


@pytest.mark.parametrize("walk", WALKS)
def test_fl33t_indexes_match_a_scan_after_random_operations(walk):
    cloud, seed, teams, trains = _fl33t_world()
    b = cloud.backends["fl33t"]
    versions = ["1.0", "1.2", "1.10", "2.0"]
    for op, t, x, y in _walk(walk):
        team, train = teams[t], trains[t]
        tid = team.team_id
        fleets = [f for f in b.fleets.values() if f["team_id"] == tid]
        devices = [d for d in b.devices.values() if d["team_id"] == tid]
        builds = [x for x in b.builds.values() if x["team_id"] == tid]
        try:
            if op == 0 or not fleets:
                seed.fleet(team, train, f"f{y}", unreleased=bool(y % 2))
            elif op == 1:
                seed.device(team, fleets[y % len(fleets)], f"d{x}{y}")
            elif op == 2 and devices:
                b.update_device(SYSTEM, tid, devices[y % len(devices)]["device_id"],
                                {"device": {"fleet_id": fleets[x % len(fleets)]["fleet_id"]}})
            elif op == 3 and devices:
                b.delete_device(SYSTEM, tid, devices[y % len(devices)]["device_id"])
            elif op == 4:
                seed.build(team, train, versions[y % 4], released=bool(x % 2), upload=x % 3 > 0)
            elif op == 5 and devices and builds:
                b.checkin(SYSTEM, tid, devices[y % len(devices)]["device_id"],
                          {"checkin": {"build_id": builds[x % len(builds)]["build_id"]}},
                          "http://fake")
            elif op == 6 and builds:
                b.update_build(SYSTEM, tid, builds[y % len(builds)]["build_id"],
                               {"build": {"released": bool(x % 2),
                                          "version": versions[(x + y) % 4]}})
            elif op == 7 and builds:
                b.update_fleet(SYSTEM, tid, fleets[y % len(fleets)]["fleet_id"],
                               {"fleet": {"build_id": builds[x % len(builds)]["build_id"]
                                          if x % 3 else None, "unreleased": bool(x % 2)}})
            elif op == 8:
                which = [b.delete_build, b.delete_fleet][y % 2]
                pool = builds if y % 2 == 0 else fleets
                if pool:
                    which(SYSTEM, tid, pool[x % len(pool)]["build_id" if y % 2 == 0
                                                           else "fleet_id"])
            elif op == 9:
                cloud.restore(cloud.snapshot())
        except FleetsimError:
            pass  # refused operations (409 in use, 400) change nothing
        _fl33t_scan_checks(b)
    cloud.reset()
    assert b.index_problems() == [] and b.list_devices(SYSTEM, "t0", {})["device_count"] == 0


# -- Memfault ------------------------------------------------------------------------------------


def _memfault_scan_checks(b, p) -> None:
    assert b.index_problems() == []
    scan = sorted((d for d in b.devices.values() if d["project_id"] == p["id"]),
                  key=lambda d: d["id"])
    for sort, rows in (([], scan), (["-created_date"], scan[::-1])):
        query = {"per_page": ["3"], "page": ["2"], "sort": sort}
        page, paging = b.list_devices(p, query)
        assert [d["id"] for d in page] == [d["id"] for d in rows[3:6]]
        assert paging["total_count"] == len(rows)
    for cohort in b.cohorts.values():
        in_cohort = [d for d in scan if d["cohort"] == cohort["slug"]]
        page, paging = b.list_devices(p, {"per_page": ["2"]}, cohort=cohort["slug"])
        assert [d["id"] for d in page] == [d["id"] for d in in_cohort[:2]]
        assert b.render_cohort(cohort)["count_devices"] == len(in_cohort)
    for release in b.releases.values():
        seen = sum(1 for d in scan if d["last_seen_release_id"] == release["id"])
        assert b.render_release(release, "http://fake")["count_devices"] == seen
        if release["delta_from"] is None:
            assert b.full_release(p, release["version"]) is release


@pytest.mark.parametrize("walk", WALKS)
def test_memfault_indexes_match_a_scan_after_random_operations(walk):
    cloud = Cloud(seed=3)
    create_app(cloud)
    seed = MemfaultSeeder(cloud.backends["memfault"], "http://fake")
    b = cloud.backends["memfault"]
    project = seed.project("acme", "sink")
    p = project.record
    seed.hardware_version(p, "evt")
    seed.hardware_version(p, "dvt")
    versions = ["1.0.0", "1.1.0", "2.0.0"]
    for op, t, x, y in _walk(walk):
        serials = [d["device_serial"] for d in b.devices.values()]
        slugs = [c["slug"] for c in b.cohorts.values()]
        try:
            if op in (0, 1) or not serials:
                seed.device(p, f"s{x}{y}", hardware_version=["evt", "dvt"][y % 2],
                            cohort=slugs[x % len(slugs)],
                            current_version=versions[y % 3] if t else None)
            elif op == 2:
                b.update_device(p, serials[y % len(serials)],
                                {"cohort": slugs[x % len(slugs)],
                                 "hardware_version": ["evt", "dvt"][t]})
            elif op == 3:
                b.delete_device(p, serials[y % len(serials)])
            elif op == 4:
                seed.cohort(p, f"C{y}", f"c{y}")
            elif op == 5 and len(slugs) > 1:
                b.delete_cohort(p, slugs[1 + y % (len(slugs) - 1)])
            elif op == 6:
                b.move_devices(p, slugs[x % len(slugs)], serials[: y + 1])
            elif op == 7:
                b.record_seen(p, b.device(p, serials[y % len(serials)]), "main",
                              versions[x % 3] + ("" if t else "-rc"))
            elif op == 8:
                release = b.full_release(p, versions[x % 3])
                if release is not None:
                    b.delete_release(release)
            elif op == 9:
                cloud.restore(cloud.snapshot())
        except FleetsimError:
            pass
        _memfault_scan_checks(b, p)
    cloud.reset()
    assert b.index_problems() == []


@pytest.mark.parametrize("dialect", ["fl33t", "memfault"])
def test_restore_rebuilds_indexes_from_the_tables(dialect):
    cloud = Cloud(seed=1)
    create_app(cloud)
    if dialect == "fl33t":
        seed = Fl33tSeeder(cloud.backends["fl33t"], "http://fake")
        team = seed.team("t")
        fleet = seed.fleet(team, seed.train(team))
        seed.devices(team, fleet, 5)
    else:
        seed = MemfaultSeeder(cloud.backends["memfault"], "http://fake")
        project = seed.project()
        seed.devices(project, [f"s{i}" for i in range(5)], current_version="1.0.0")
    snapshot = cloud.snapshot()
    other = Cloud(seed=1)
    create_app(other)
    other.restore(snapshot)
    backend = other.backends[dialect]
    assert backend.index_problems() == []
    if dialect == "fl33t":
        assert backend.list_devices(SYSTEM, "t", {})["device_count"] == 5
    else:
        assert backend.list_devices(backend.projects["1"], {})[1]["total_count"] == 5
