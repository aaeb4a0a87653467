"""The planner's fast paths (index candidates, lazy pages, skipped checks, ``$count`` as a
length, heap top-k, visibility per fleet) give exactly what a full scan gives.

Random devices spread over fleets, random filters built from indexable and plain conjuncts,
random ``$orderby``/``$top``/``$skip`` and random read filters; the reference runs the same
compiled filter over every row with a stable multi-pass sort. Bounded for CI; ``FLEETSIM_LONG=1``
runs many more examples.
"""

from __future__ import annotations

import os
import random
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_api.balena.db import BalenaDb, Hooks, RowsWhere
from fake_api.balena.odata.parser import parse_query
from fake_api.balena.odata.planner import _source
from fake_api.balena.odata.query import compile_query
from fake_api.balena.odata.reader import Reader
from fake_api.balena.pine import Pine
from fake_api.core.cloud import Cloud

LONG = os.environ.get("FLEETSIM_LONG") == "1"
SETTINGS = settings(max_examples=1500 if LONG else 120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

FLEETS = 4
NAMES = ["a", "b", "c", None]


class Visibility(Hooks):
    """A read filter on devices chosen by the test (None: every row)."""

    def __init__(self, make):
        self.make = make

    def read_filter(self, resource, actor):
        return self.make() if resource == "device" else None


def world(devices, moves, visibility, gap=False):
    db = BalenaDb(Cloud(seed=3), Visibility(visibility))
    arch = db.insert("cpu_architecture", {"slug": "x"})
    dt = db.insert("device_type", {"slug": "x", "name": "x", "is_of__cpu_architecture": arch["id"]})
    org = db.insert("organization", {"name": "o", "handle": "o"})
    apps = [db.insert("application", {"app_name": f"f{i}", "slug": f"o/f{i}", "uuid": f"{i:032x}",
                                       "organization": org["id"], "is_for__device_type": dt["id"]})
            for i in range(FLEETS)]
    rel = db.insert("release", {"commit": "c" * 32, "status": "success",
                                "belongs_to__application": apps[0]["id"]})
    stored = []
    for i, (fleet, name, online, pinned) in enumerate(devices):
        given = {"id": 30} if gap and i == 0 else {}  # later ids go below it: table out of order
        stored.append(db.insert("device", {**given,
            "uuid": f"{i:062x}", "device_name": name or f"n{i % 3}", "note": name,
            "belongs_to__application": apps[fleet]["id"], "is_of__device_type": dt["id"],
            "is_online": online, "is_pinned_on__release": rel["id"] if pinned else None}))
    for index, fleet in moves:  # moves between fleets leave buckets out of insertion order
        if stored:
            row = stored[index % len(stored)]
            db.update("device", row["id"], {"belongs_to__application": apps[fleet]["id"]})
    return db, [a["id"] for a in apps], rel["id"]


def indexed(apps, n):
    ids = st.integers(1, max(n, 1) + 2)
    fleet = st.sampled_from(apps + [999])
    return st.one_of(
        fleet.map(lambda a: f"belongs_to__application eq {a}"),
        st.lists(fleet, min_size=1, max_size=3).map(
            lambda a: f"belongs_to__application in ({', '.join(map(str, a))})"),
        ids.map(lambda i: f"id eq {i}"),
        st.lists(ids, min_size=1, max_size=3).map(lambda i: f"id in ({', '.join(map(str, i))})"),
        ids.map(lambda i: f"uuid eq '{i - 1:062x}'"),
        ids.map(lambda i: f"id eq '{i}'"),  # balena-sdk 9.x quotes every number
        fleet.map(lambda a: f"belongs_to__application eq '{a}'"),
    )


def leaf(apps, rel, n):
    return st.one_of(
        indexed(apps, n),
        st.booleans().map(lambda b: f"is_online eq {str(b).lower()}"),
        st.just(f"is_pinned_on__release eq {rel}"),
        st.sampled_from(NAMES[:3]).map(lambda s: f"note eq '{s}'"),
        st.sampled_from(["a", "b"]).map(lambda s: f"device_name gt '{s}'"),
    )


def filters(apps, rel, n):
    anything = st.recursive(leaf(apps, rel, n), lambda sub: st.one_of(
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        sub.map(lambda e: f"not({e})")), max_leaves=4)
    return st.one_of(  # the shapes the planner reads, often
        indexed(apps, n),
        st.tuples(indexed(apps, n), anything).map(lambda t: f"({t[0]}) and ({t[1]})"),
        st.lists(indexed(apps, n), min_size=2, max_size=3).map(
            lambda t: " or ".join(f"({x})" for x in t)),
        anything)


ORDER_FIELDS = ["device_name", "note", "id", "is_online", "is_pinned_on__release", "uuid",
                "belongs_to__application"]


def reference(db, visible, query):
    """The slow path: every row through the compiled filter and read filter, a stable sort per
    key (last key first), then the page. Rows start in table order, or in id order when the
    filter has an indexed conjunct (what the engine has always done; the two differ only when a
    row was inserted with an explicit id below others)."""
    reader = Reader(db)
    res = reader.resource("device")
    q = compile_query(reader, res, parse_query(query))
    rows = list(db.tables["device"].values())
    if q.filter_node is not None and _source(reader, res, q.filter_node, None) is not None:
        rows.sort(key=lambda r: r["id"])
    rows = [r for r in rows
            if (visible is None or visible(r)) and (q.filter is None or q.filter(r))]
    for key, desc in reversed(q.order):
        rows.sort(key=key, reverse=desc)
    skip = q.skip or 0
    page = rows[skip:] if q.top is None else rows[skip:skip + q.top]
    return [r["id"] for r in page], len(rows)


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32), n=st.integers(0, 40),
       moves=st.lists(st.tuples(st.integers(0, 100), st.integers(0, FLEETS - 1)), max_size=5),
       seen=st.sampled_from(["all", "fleets", "fleets+also", "ids", "lambda"]), gap=st.booleans())
def test_fast_paths_match_a_full_scan(data, seed, n, moves, seen, gap):
    rng = random.Random(seed)
    devices = [(rng.randrange(FLEETS), rng.choice(NAMES), rng.random() < 0.5, rng.random() < 0.3)
               for _ in range(n)]
    chosen = data.draw(st.lists(st.integers(0, FLEETS - 1), max_size=3))
    holder = {}

    def visibility():
        apps = holder["apps"]
        fleets = {apps[i] for i in chosen}
        if seen == "fleets":
            return RowsWhere("belongs_to__application", fleets)
        if seen == "fleets+also":
            return RowsWhere("belongs_to__application", fleets, lambda a: a == apps[-1])
        if seen == "ids":
            return RowsWhere("id", {1, 3, 5, 8, 13, 30})
        if seen == "lambda":
            return lambda row: row["id"] % 3 != 0
        return None

    db, apps, rel = world(devices, moves, visibility, gap)
    holder["apps"] = apps
    flt = data.draw(filters(apps, rel, len(devices))) if data.draw(st.booleans()) else None
    keys = data.draw(st.lists(st.tuples(st.sampled_from(ORDER_FIELDS), st.booleans()),
                              max_size=3, unique_by=lambda k: k[0]))
    top = data.draw(st.integers(1, 6) | st.none() | st.just(0))
    skip = data.draw(st.none() | st.integers(0, 6))
    parts = [("$select", "id")]
    if flt is not None:
        parts.append(("$filter", flt))
    if keys:
        parts.append(("$orderby", ",".join(f"{k} {'desc' if d else 'asc'}" for k, d in keys)))
    parts += [(f"${n}", str(v)) for n, v in (("top", top), ("skip", skip)) if v is not None]
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in parts)
    expected, matches = reference(db, visibility(), query)

    pine = Pine(db)
    status, body = pine.handle("v7", "GET", "device", query, None, None)
    assert status == 200, body
    assert [r["id"] for r in body["d"]] == expected, query
    count_query = "" if flt is None else "$filter=" + quote(flt, safe="")
    status, body = pine.handle("v7", "GET", "device/$count", count_query, None, None)
    assert body == {"d": matches}, count_query


def test_link_index_stays_sorted_and_equal_to_a_scan_through_moves_and_rollbacks():
    rng = random.Random(5)
    db, apps, _ = world([(i % FLEETS, "a", True, False) for i in range(60)], [], lambda: None)
    ids = list(db.tables["device"])
    for step in range(300):
        rid = rng.choice(ids)
        target = rng.choice(apps)
        if step % 7 == 0:  # a failed transaction puts the old value back
            try:
                with db.transaction():
                    db.update("device", rid, {"belongs_to__application": target})
                    raise RuntimeError("roll back")
            except RuntimeError:
                pass
        else:
            db.update("device", rid, {"belongs_to__application": target})
        for app in apps:
            scan = [r["id"] for r in db.tables["device"].values()
                    if r["belongs_to__application"] == app]
            assert list(db.child_ids("device", "belongs_to__application", app)) == scan
    db.rebuild()
    for app in apps:
        scan = [r["id"] for r in db.tables["device"].values() if r["belongs_to__application"] == app]
        assert list(db.child_ids("device", "belongs_to__application", app)) == scan


def test_a_table_out_of_id_order_is_scanned_in_its_own_order():
    """A row inserted with an explicit id below others puts the table out of id order: the read
    filter's fleets are then not walked through the index, so the order stays the scan's."""
    holder = {}
    devices = [(i % FLEETS, "a", True, False) for i in range(12)]
    for gap in (False, True):
        db, apps, _ = world(devices, [], lambda: RowsWhere("belongs_to__application",
                                                           {holder["apps"][0]}), gap)
        holder["apps"] = apps
        assert db.in_id_order("device") is not gap
        expected = [r["id"] for r in db.tables["device"].values()
                    if r["belongs_to__application"] == apps[0]]
        status, body = Pine(db).handle("v7", "GET", "device", "$select=id", None, None)
        assert [r["id"] for r in body["d"]] == expected
        assert Pine(db).handle("v7", "GET", "device/$count", "", None, None)[1] == {"d": 3}
