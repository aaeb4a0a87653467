"""Every operator and function of the reference's catalogue, evaluated over a small fleet."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .fleet import make_fleet


@pytest.fixture(scope="module")
def fleet():
    return make_fleet(devices=6)


def get(fleet, path, query="", version="v7", actor=None):
    status, body = fleet["pine"].handle(version, "GET", path, query, None, actor)
    assert status == 200, body
    return body["d"]


def ids(fleet, resource, flt, **extra):
    q = "$filter=" + quote(flt, safe="~()*!'/,:=@$") + "".join(f"&{k}={v}" for k, v in extra.items())
    return [r["id"] for r in get(fleet, resource, q + "&$select=id")]


def bad(fleet, path, query="", version="v7"):
    status, body = fleet["pine"].handle(version, "GET", path, query, None, None)
    assert status == 400, (status, body)
    assert isinstance(body, str)
    return body


@pytest.mark.parametrize("flt,expected", [
    ("belongs_to__application eq 1", [1, 2, 3, 4, 5, 6]),
    ("is_online eq true", [2, 4, 6]),
    ("device_name eq 'dev2'", [3]),
    ("1 eq 1", [1, 2, 3, 4, 5, 6]),
    ("1 eq 2", []),
    ("os_version ne null", [2, 3, 4, 5, 6]),
    ("os_version eq null", [1]),
    ("device_name ne 'dev0'", [2, 3, 4, 5, 6]),
    ("id gt 4", [5, 6]),
    ("id ge 4", [4, 5, 6]),
    ("id lt 2", [1]),
    ("id le 2", [1, 2]),
    ("(id eq 1) or (id eq 3)", [1, 3]),
    ("(id gt 1) and (is_online eq false)", [3, 5]),
    ("not(is_online eq false)", [2, 4, 6]),
    ("id in (1, 3, 99)", [1, 3]),
    ("id in (2)", [2]),
    ("uuid in ('" + "1" * 62 + "', 'nope')", [2]),
    ("startswith(device_name,'dev')", [1, 2, 3, 4, 5, 6]),
    ("endswith(device_name,'5')", [6]),
    ("contains(os_version,'2.3')", [4]),
    ("substringof('2.3',os_version)", [4]),
    ("tolower(toupper(device_name)) eq 'dev1'", [2]),
    ("length(device_name) eq 4", [1, 2, 3, 4, 5, 6]),
    ("trim(concat(' ',device_name)) eq 'dev4'", [5]),
    ("indexof(device_name,'v') eq 2", [1, 2, 3, 4, 5, 6]),
    ("substring(device_name,3) eq '4'", [5]),
    ("substring(device_name,0,2) eq 'de'", [1, 2, 3, 4, 5, 6]),
    ("id add 1 eq 3", [2]),
    ("id sub 1 eq 0", [1]),
    ("id mul 2 eq 8", [4]),
    ("id div 2 eq 2", [4, 5]),
    ("id mod 3 eq 0", [3, 6]),
    ("id div 0 eq 1", []),
    ("created_at ge datetime'2026-01-01T00:03:00.0Z'", [3, 4, 5, 6]),
    ("created_at lt datetime'2026-01-01T00:02:00.0Z'", [1]),
    ("created_at eq datetime'2026-01-01T00:02:00.0Z'", [2]),
    ("created_at ge '2026-01-01T00:06:00Z'", [6]),
    ("minute(created_at) eq 4", [4]),
    ("year(created_at) eq 2026 and month(created_at) eq 1 and day(created_at) eq 1", [1, 2, 3, 4, 5, 6]),
    ("hour(created_at) eq 0 and second(created_at) eq 0", [1, 2, 3, 4, 5, 6]),
    ("created_at lt now()", [1, 2, 3, 4, 5]),
    ("created_at le now()", [1, 2, 3, 4, 5, 6]),
    ("created_at gt now() sub duration'PT3M'", [4, 5, 6]),
    ("device_tag/any(t:t/value eq 'wave1')", [2, 4, 6]),
    ("device_tag/all(t:t/value eq 'wave1')", [2, 4, 6]),
    ("device_tag/any()", [1, 2, 3, 4, 5, 6]),
    ("device_tag/$count eq 1", [1, 2, 3, 4, 5, 6]),
    ("device_tag/$count($filter=value eq 'wave1') eq 1", [2, 4, 6]),
    ("device_tag/$count($filter=(tag_key eq 'rollout') and (value ne 'wave1')) gt 0", [1, 3, 5]),
    ("belongs_to__application/any(bta:bta/organization eq 1)", [1, 2, 3, 4, 5, 6]),
    ("belongs_to__application/slug eq 'gh_user/myfleet'", [1, 2, 3, 4, 5, 6]),
    ("is_of__device_type/is_of__cpu_architecture/slug eq 'aarch64'", [2, 4, 6]),
    ("is_of__device_type/any(dt:dt/is_of__cpu_architecture/any(c:c/slug eq 'aarch64'))", [2, 4, 6]),
    ("image_install/any(ii:(ii/device eq 3) and (ii/installs__image/any(i:i/status eq 'success')))", [3]),
    ("image_install/any(ii:ii/device/device_name eq 'dev5')", [6]),
    ("id eq @x", [4]),
    ("(id eq 1) or (os_version eq 'nope')", [1]),
])
def test_catalogue(fleet, flt, expected):
    extra = {"@x": "4"} if "@x" in flt else {}
    assert ids(fleet, "device", flt, **extra) == expected


def test_release_and_device_type_queries_from_the_traces(fleet):
    q = ("$filter=(status eq 'success') and (semver_major gt 0) and (belongs_to__application/any("
         "a:(startswith(a/slug,'gh_user%2F')) and ((a/is_host eq false) and "
         "(a/is_for__device_type/any(dt:dt/is_of__cpu_architecture/any(c:c/slug eq 'aarch64'))))))"
         "&$orderby=semver_major desc,semver_minor desc,semver_patch desc,revision desc&$select=id")
    assert get(fleet, "release", q) == [{"id": 1}]
    q = ("$orderby=name asc&$filter=is_default_for__application/any(idfa:(idfa/is_host eq true) "
         "and (idfa/is_archived eq false))&$select=slug")
    assert get(fleet, "device_type", q) == [{"slug": "raspberrypi4-64"}]
    q = "$filter=device/any(d:d/belongs_to__application eq 1)&$orderby=tag_key asc&$select=id"
    assert len(get(fleet, "device_tag", q)) == 6
    q = "$filter=(slug eq 'gh_user/myfleet') or (uuid eq 'gh_user/myfleet')&$select=id"
    assert get(fleet, "application", q) == [{"id": 1}]
    assert get(fleet, "release", "$filter=note eq 'it''s'&$select=id") == [{"id": 1}]


def test_three_valued_logic_follows_sql(fleet):
    # device 1 has no os_version: comparisons with it are NULL, and NOT NULL is still NULL
    assert 1 not in ids(fleet, "device", "os_version gt 'a'")
    assert 1 not in ids(fleet, "device", "not(os_version gt 'a')")
    assert 1 in ids(fleet, "device", "(os_version gt 'a') or (id eq 1)")
    assert 1 not in ids(fleet, "device", "(os_version gt 'a') and (id eq 1)")
    # eq/ne are null-safe (IS [NOT] DISTINCT FROM)
    assert 1 in ids(fleet, "device", "os_version ne 'balenaOS 2.1.0'")
    assert 1 not in ids(fleet, "device", "startswith(os_version,'b')")


@pytest.mark.parametrize("query", [
    "$filter=foo eq 1", "$filter=belongs_to__application/nope eq 1", "$filter=device_tag eq 1",
    "$filter=device_name eq 1", "$filter=is_online eq 'yes'", "$filter=device_name",
    "$filter=id add 'x' eq 1", "$filter=not(device_name)", "$filter=device_tag/any(t:t/nope eq 1)",
    "$select=nope", "$select=device_tag", "$expand=nope", "$expand=device_name",
    "$orderby=nope asc", "$expand=device_tag($filter=nope eq 1)", "$filter=device_name/x eq 1",
    "$filter=created_at gt 5", "$filter=id in ('a')", "$filter=id in (id)",
    "$expand=device_tag,device_tag",
])
def test_unknown_names_and_type_errors_are_400(fleet, query):
    bad(fleet, "device", query)


def test_unknown_resource_and_bad_keys_are_400(fleet):
    assert fleet["pine"].handle("v7", "GET", "gadget", "", None, None) == (
        404, "Unknown resource 'gadget'")
    bad(fleet, "device(name='x')")
    bad(fleet, "device('x')")
    bad(fleet, "device(99999999999)")
    bad(fleet, "device(device_tag=1)")
    assert fleet["pine"].handle("v9", "GET", "device", "", None, None)[0] == 404


def test_long_chains_and_overflows_neither_recurse_nor_crash(fleet):
    ors = " or ".join(f"(id eq {i})" for i in range(3, 5003))
    assert ids(fleet, "device", ors) == [3, 4, 5, 6]
    ands = " and ".join(f"(id ne {i})" for i in range(2, 5000))
    assert ids(fleet, "device", ands) == [1]
    inner = " or ".join(f"(t/value eq 'w{i}')" for i in range(3000))
    assert ids(fleet, "device", f"device_tag/any(t:{inner} or (t/value eq 'wave1'))") == [2, 4, 6]
    bad(fleet, "device", "$filter=" + quote(" add ".join("1" * 1 for _ in range(3000)) + " eq 1"))
    for text in ("floor(1e999) eq 1", "1e999 mod 1 eq 1",
                 "created_at add duration'P9999999D' gt now()",
                 "year(created_at add duration'P2900000D') eq 1"):
        assert ids(fleet, "device", text) == [], text  # overflow is NULL, not a crash
    assert ids(fleet, "device", "id mul 1e308 mul 1e308 gt 0") == [1, 2, 3, 4, 5, 6]  # inf
    bad(fleet, "device", "$filter=" + quote("id eq " + "9" * 5000))
    bad(fleet, "device", "$top=" + "9" * 5000)
