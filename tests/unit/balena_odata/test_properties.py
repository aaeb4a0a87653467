"""Hypothesis: random filters over random rows agree with a plain-Python evaluation, and random
junk gets a 400 (never another exception).

Bounded for CI; ``FLEETSIM_LONG=1`` runs many more examples.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_api.balena.db import BalenaDb
from fake_api.balena.pine import Pine
from fake_api.core.cloud import Cloud

LONG = os.environ.get("FLEETSIM_LONG") == "1"
SETTINGS = settings(max_examples=2000 if LONG else 150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

TEXT = st.text(alphabet="ab' %/,()Z", max_size=4)
INT = st.integers(-3, 3)
DATES = ["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.005Z", "2026-03-04T05:06:07.890Z"]
FIELDS = {"device_name": "text", "note": "text", "os_version": "text", "cpu_temp": "int",
          "memory_usage": "int", "is_online": "bool", "is_web_accessible": "bool",
          "last_connectivity_event": "date"}


def row_strategy():
    return st.fixed_dictionaries({
        "device_name": TEXT, "note": st.none() | TEXT, "os_version": st.none() | TEXT,
        "cpu_temp": st.none() | INT, "memory_usage": st.none() | INT, "is_online": st.booleans(),
        "is_web_accessible": st.booleans(),
        "last_connectivity_event": st.none() | st.sampled_from(DATES),
    })


# --- expressions: (filter text, reference evaluator) ----------------------------------------------

def lit_text(s):
    return "'" + s.replace("'", "''") + "'"


def field_of(kind):
    return st.sampled_from([f for f, k in FIELDS.items() if k == kind])


def int_expr(depth=2):
    leaf = st.one_of(
        field_of("int").map(lambda f: (f, lambda r, f=f: r[f])),
        INT.map(lambda v: (str(v), lambda r, v=v: v)),
        text_expr(0).map(lambda e: (f"length({e[0]})", lambda r, e=e: _len(e[1](r)))),
    )
    if depth == 0:
        return leaf
    sub = int_expr(depth - 1)
    return st.one_of(leaf, st.tuples(sub, st.sampled_from(["add", "sub", "mul", "div", "mod"]), sub)
                     .map(lambda t: (f"({t[0][0]} {t[1]} {t[2][0]})",
                                     lambda r, t=t: _arith(t[1], t[0][1](r), t[2][1](r)))))


def text_expr(depth=1):
    leaf = st.one_of(field_of("text").map(lambda f: (f, lambda r, f=f: r[f])),
                     TEXT.map(lambda v: (lit_text(v), lambda r, v=v: v)))
    if depth == 0:
        return leaf
    sub = text_expr(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.sampled_from(["tolower", "toupper", "trim"]), sub).map(
            lambda t: (f"{t[0]}({t[1][0]})", lambda r, t=t: _str1(t[0], t[1][1](r)))),
        st.tuples(sub, sub).map(lambda t: (f"concat({t[0][0]},{t[1][0]})",
                                           lambda r, t=t: _concat(t[0][1](r), t[1][1](r)))),
    )


def comparison():
    ops = st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"])
    typed = st.one_of(
        st.tuples(int_expr(), int_expr()),
        st.tuples(text_expr(), text_expr()),
        st.tuples(field_of("bool").map(lambda f: (f, lambda r, f=f: r[f])),
                  st.booleans().map(lambda b: ("true" if b else "false", lambda r, b=b: b))),
        st.tuples(field_of("date").map(lambda f: (f, lambda r, f=f: r[f])),
                  st.sampled_from(DATES).map(lambda d: (
                      f"datetime'{d[:20]}{int(d[20:23])}Z'", lambda r, d=d: d))),
        st.tuples(st.sampled_from(list(FIELDS)).map(lambda f: (f, lambda r, f=f: r[f])),
                  st.just(("null", lambda r: None))),
    )
    simple = st.one_of(
        st.tuples(field_of("int").map(lambda f: (f, lambda r, f=f: r[f])),
                  INT.map(lambda v: (str(v), lambda r, v=v: v))),
        st.tuples(field_of("text").map(lambda f: (f, lambda r, f=f: r[f])),
                  TEXT.map(lambda v: (lit_text(v), lambda r, v=v: v))),
    )
    typed = st.one_of(simple, typed)
    cmp = st.tuples(typed, ops).map(lambda t: (
        f"{t[0][0][0]} {t[1]} {t[0][1][0]}",
        lambda r, t=t: _cmp(t[1], t[0][0][1](r), t[0][1][1](r))))
    func = st.tuples(st.sampled_from(["startswith", "endswith", "contains", "substringof"]),
                     text_expr(), text_expr()).map(lambda t: (
                         f"{t[0]}({t[1][0]},{t[2][0]})",
                         lambda r, t=t: _strfn(t[0], t[1][1](r), t[2][1](r))))
    inn = st.tuples(field_of("int"), st.lists(INT, min_size=1, max_size=3)).map(lambda t: (
        f"{t[0]} in ({', '.join(map(str, t[1]))})",
        lambda r, t=t: None if r[t[0]] is None else r[t[0]] in t[1]))
    return st.one_of(cmp, func, inn)


def bool_expr():
    return st.recursive(
        comparison(),
        lambda sub: st.one_of(
            st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: (
                f"({t[0][0]}) {t[1]} ({t[2][0]})",
                lambda r, t=t: _logic(t[1], t[0][1](r), t[2][1](r)))),
            sub.map(lambda e: (f"not({e[0]})", lambda r, e=e: None if (v := e[1](r)) is None
                               else not v)),
        ),
        max_leaves=5,
    )


# --- the reference semantics, written plainly -----------------------------------------------------

def _len(s):
    return None if s is None else len(s)


def _str1(name, s):
    if s is None:
        return None
    return {"tolower": s.lower(), "toupper": s.upper(), "trim": s.strip()}[name]


def _concat(a, b):
    return None if a is None or b is None else a + b


def _arith(op, a, b):
    if a is None or b is None:
        return None
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if b == 0:
        return None
    quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
    return quotient if op == "div" else a - b * quotient


def _cmp(op, a, b):
    if op == "eq":
        return a == b if a is not None and b is not None else (a is None and b is None)
    if op == "ne":
        return not _cmp("eq", a, b)
    if a is None or b is None:
        return None
    return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]


def _strfn(name, a, b):
    if a is None or b is None:
        return None
    return {"startswith": a.startswith(b), "endswith": a.endswith(b), "contains": b in a,
            "substringof": a in b}[name]


def _logic(op, a, b):
    if op == "and":
        if a is False or b is False:
            return False
        return None if a is None or b is None else True
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


# --- the properties ------------------------------------------------------------------------------

def _fleet(rows):
    cloud = Cloud(seed=3)
    db = BalenaDb(cloud)
    arch = db.insert("cpu_architecture", {"slug": "x"})
    dt = db.insert("device_type", {"slug": "x", "name": "x", "is_of__cpu_architecture": arch["id"]})
    org = db.insert("organization", {"name": "o", "handle": "o"})
    app = db.insert("application", {"app_name": "fleet", "slug": "o/fleet", "uuid": "u" * 32,
                                    "organization": org["id"], "is_for__device_type": dt["id"]})
    stored = []
    for i, values in enumerate(rows):
        stored.append(db.insert("device", {**values, "uuid": f"{i:062x}",
                                           "belongs_to__application": app["id"],
                                           "is_of__device_type": dt["id"]}))
    return Pine(db), stored


@SETTINGS
@given(rows=st.lists(row_strategy(), min_size=1, max_size=8), expr=bool_expr())
def test_random_filters_match_plain_python(rows, expr):
    text, reference = expr
    pine, stored = _fleet(rows)
    status, body = pine.handle("v7", "GET", "device", "$select=id&$filter=" + quote(text, safe=""),
                               None, None)
    assert status == 200, (text, body)
    expected = [r["id"] for r in stored if reference(r) is True]
    assert [r["id"] for r in body["d"]] == expected, text
    status, body = pine.handle("v7", "GET", "device/$count", "$filter=" + quote(text, safe=""),
                               None, None)
    assert body == {"d": len(expected)}


@SETTINGS
@given(rows=st.lists(row_strategy(), min_size=1, max_size=6),
       keys=st.lists(st.tuples(st.sampled_from(sorted(FIELDS)), st.booleans()), min_size=1,
                     max_size=3, unique_by=lambda k: k[0]),
       top=st.none() | st.integers(0, 4), skip=st.none() | st.integers(0, 4))
def test_random_orderby_top_skip_match_plain_python(rows, keys, top, skip):
    pine, stored = _fleet(rows)
    query = "$select=id&$orderby=" + ",".join(f"{k} {'desc' if d else 'asc'}" for k, d in keys)
    query += "".join(f"&${n}={v}" for n, v in (("top", top), ("skip", skip)) if v is not None)
    status, body = pine.handle("v7", "GET", "device", quote(query, safe="=&$,"), None, None)
    assert status == 200, body
    expected = list(stored)
    for field, desc in reversed(keys):  # NULLs last ascending, first descending
        expected.sort(key=lambda r, f=field: (1, 0) if r[f] is None else (0, r[f]), reverse=desc)
    expected = expected[skip or 0:][:top] if top is not None else expected[skip or 0:]
    assert [r["id"] for r in body["d"]] == [r["id"] for r in expected]


JUNK = st.text(alphabet="abdeqnotr_ /()',:$@=;-1.9*%&E", max_size=40)


@SETTINGS
@given(junk=JUNK, option=st.sampled_from(["$filter", "$expand", "$select", "$orderby", "$top",
                                          "$skip", "$filter=id eq @a&@a"]),
       path=st.sampled_from(["device", "device(1)", "device/$count"]) | JUNK)
def test_junk_gives_400_never_an_exception(junk, option, path):
    pine, _ = _fleet([{"device_name": "d", "is_online": True}])
    for method, target, query in [("GET", "device", f"{option}={junk}"),
                                  ("GET", path, ""),
                                  ("PATCH", "device", f"$filter={junk}"),
                                  ("DELETE", path, f"$filter={junk}")]:
        status, body = pine.handle("v7", method, target, query, {"note": "x"}, None)
        assert status in (200, 400, 404), (status, body)
        if status != 200:
            assert isinstance(body, str)


TAG_VALUES = ["a", "b", "c"]


@SETTINGS
@given(tags=st.lists(st.lists(st.tuples(st.sampled_from(["k1", "k2"]), st.sampled_from(TAG_VALUES)),
                              max_size=3, unique_by=lambda t: t[0]), min_size=1, max_size=60),
       op=st.sampled_from(["any", "all"]), field=st.sampled_from(["tag_key", "value"]),
       cmp=st.sampled_from(["eq", "ne", "gt"]), value=st.sampled_from(TAG_VALUES + ["k1"]),
       online=st.booleans())
def test_random_lambdas_match_plain_python(tags, op, field, cmp, value, online):
    """Past a few dozen rows an uncorrelated ``any`` becomes a semi-join: same answers."""
    pine, stored = _fleet([{"device_name": "d", "is_online": i % 2 == 0} for i in range(len(tags))])
    db = pine.db
    for device, device_tags in zip(stored, tags):
        for key, val in device_tags:
            db.insert("device_tag", {"device": device["id"], "tag_key": key, "value": val})
    text = f"(is_online eq {str(online).lower()}) or (device_tag/{op}(t:t/{field} {cmp} '{value}'))"
    status, body = pine.handle("v7", "GET", "device", "$select=id&$filter=" + quote(text, safe=""),
                               None, None)
    assert status == 200, body

    def holds(key, val):
        seen = {"tag_key": key, "value": val}[field]
        return {"eq": seen == value, "ne": seen != value, "gt": seen > value}[cmp]
    expected = [d["id"] for d, device_tags in zip(stored, tags)
                if d["is_online"] == online
                or (any if op == "any" else all)(holds(k, v) for k, v in device_tags)]
    assert [r["id"] for r in body["d"]] == expected, text


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(
    allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=2), max_leaves=4)
DEVICE_FIELDS = ["device_name", "note", "is_online", "cpu_temp", "last_connectivity_event",
                 "belongs_to__application", "is_pinned_on__release", "overall_status", "id",
                 "device_tag", "uuid", "nope"]


@SETTINGS
@given(body=st.dictionaries(st.sampled_from(DEVICE_FIELDS), JSON, max_size=4)
       | JSON, method=st.sampled_from(["POST", "PATCH"]),
       target=st.sampled_from(["device", "device(1)", "device_tag", "device(uuid='x')"]))
def test_random_bodies_are_answered_never_raised(body, method, target):
    pine, _ = _fleet([{"device_name": "d", "is_online": True}])
    before = pine.db.cloud.store.snapshot()
    status, out = pine.handle("v7", method, target, "", body, None)
    assert status in (200, 201, 400, 404, 409), (status, out)
    if status >= 400:
        assert isinstance(out, str)
        assert pine.db.cloud.store.snapshot()["balena.device"] == before["balena.device"]
