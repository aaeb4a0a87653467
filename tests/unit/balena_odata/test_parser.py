"""Tokenizer and parser of pinejs URLs, on the literal shapes of reference §4 and §7."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fake_api.balena.odata.ast import Bin, Call, Count, In, Lambda, Lit, Not, Path
from fake_api.balena.odata.errors import ODataError
from fake_api.balena.odata.parser import (
    MAX_DEPTH,
    parse_datetime,
    parse_filter,
    parse_query,
    parse_target,
)
from fake_api.balena.odata.tokenizer import tokenize


def kinds(text):
    return [(t.kind, t.value) for t in tokenize(text)][:-1]


def test_tokens_of_strings_numbers_typed_literals_and_aliases():
    assert kinds("contains(device_name,'x''y')") == [
        ("name", "contains"), ("punct", "("), ("name", "device_name"), ("punct", ","),
        ("str", "x'y"), ("punct", ")")]
    assert kinds("-12 1.5 2e3") == [("num", -12), ("num", 1.5), ("num", 2000.0)]
    toks = tokenize("datetime'2024-01-02T03:04:05.0Z' @x $count")
    assert (toks[0].kind, toks[0].type, toks[0].value) == ("typed", "datetime",
                                                           "2024-01-02T03:04:05.0Z")
    assert [(t.kind, t.value) for t in toks[1:3]] == [("alias", "x"), ("name", "$count")]
    assert kinds("''''") == [("str", "'")]


@pytest.mark.parametrize("bad", ["'open", "a # b", "@", "a ; b", "x eq \"y\""])
def test_tokenizer_refuses(bad):
    with pytest.raises(ODataError):
        tokenize(bad)


def test_datetime_literals_with_unpadded_milliseconds():
    assert parse_datetime("2026-11-15T00:04:42.779Z") == "2026-11-15T00:04:42.779Z"
    assert parse_datetime("2024-01-02T03:04:05.5Z") == "2024-01-02T03:04:05.005Z"
    assert parse_datetime("2024-01-02T03:04:05.0Z") == "2024-01-02T03:04:05.000Z"
    assert parse_datetime("2024-01-02T03:04:05.123456Z") == "2024-01-02T03:04:05.123Z"
    assert parse_datetime("2024-01-02") == "2024-01-02T00:00:00.000Z"
    assert parse_datetime("2024-01-02T03:04:05+01:00") == "2024-01-02T02:04:05.000Z"
    for bad in ("2024-13-02", "yesterday", "2024-01-02T25:00"):
        with pytest.raises(ODataError):
            parse_datetime(bad)


def test_sdk_filters_parse_into_the_expected_tree():
    assert parse_filter("belongs_to__application eq 101") == Bin(
        "eq", Path(("belongs_to__application",)), Lit(101, "int"))
    assert parse_filter("1 eq 1") == Bin("eq", Lit(1, "int"), Lit(1, "int"))
    assert parse_filter("name ne null") == Bin("ne", Path(("name",)), Lit(None, "null"))
    assert parse_filter("(slug eq 'x') or (uuid eq 'x')") == Bin(
        "or", Bin("eq", Path(("slug",)), Lit("x", "str")),
        Bin("eq", Path(("uuid",)), Lit("x", "str")))
    assert parse_filter("id in (101, 102)") == In(Path(("id",)), (Lit(101, "int"), Lit(102, "int")))
    assert parse_filter("is_directly_accessible_by__user/any(dau:1 eq 1)") == Lambda(
        Path(("is_directly_accessible_by__user",)), "any", "dau",
        Bin("eq", Lit(1, "int"), Lit(1, "int")))
    nested = parse_filter("is_for__device_type/any(dt:dt/is_of__cpu_architecture/any("
                          "c:c/slug eq 'aarch64'))")
    assert nested.body.path == Path(("dt", "is_of__cpu_architecture"))
    assert nested.body.body == Bin("eq", Path(("c", "slug")), Lit("aarch64", "str"))
    assert parse_filter("startswith(a/slug,'balena_os/')") == Call(
        "startswith", (Path(("a", "slug")), Lit("balena_os/", "str")))
    assert parse_filter("is_member_of__organization/id eq 1").left == Path(
        ("is_member_of__organization", "id"))
    assert parse_filter("owns__device/$count eq 2").left == Count(Path(("owns__device",)))
    # pine-client's `{a: {$count: {$filter: ...}}}` inside a filter
    assert parse_filter("owns__device/$count($filter=is_online eq true) gt 0").left == Count(
        Path(("owns__device",)), Bin("eq", Path(("is_online",)), Lit(True, "bool")))
    assert parse_filter("not(is_online eq false)") == Not(
        Bin("eq", Path(("is_online",)), Lit(False, "bool")))
    assert parse_filter("device_tag/any()") == Lambda(Path(("device_tag",)), "any", None, None)
    assert parse_filter("created_at gt now() sub duration'P1DT2H'").right == Bin(
        "sub", Call("now", ()), Lit(timedelta(days=1, hours=2), "duration"))


def test_precedence_of_and_or_not_and_arithmetic():
    tree = parse_filter("a eq 1 or b eq 2 and c eq 3")
    assert tree.op == "or" and tree.right.op == "and"
    tree = parse_filter("a add 2 mul 3 eq 7")
    assert tree == Bin("eq", Bin("add", Path(("a",)), Bin("mul", Lit(2, "int"), Lit(3, "int"))),
                       Lit(7, "int"))
    assert parse_filter("not a eq 1 and b eq 2").op == "and"


def test_verified_example_from_the_reference_parses():
    text = ("(startswith(device_name,'a') or contains(device_name,'x''y')) and "
            "(last_connectivity_event lt datetime'2024-01-02T03:04:05.0Z') and "
            "not(is_online eq false) and (os_version ne null) and (id in (1, 2, 3))")
    tree = parse_filter(text)
    assert tree.op == "and"


@pytest.mark.parametrize("bad", [
    "", "eq 1", "a eq", "a eq 1 and", "(a eq 1", "a eq 1)", "a/any(x)", "a/all()",
    "unknownfn(a)", "contains(a)", "a in ()", "a in 1", "a/$count/b", "1 eq 1 1", "a/any(and:1 eq 1)",
    "substring(a,1,2,3)", "a/$count($top=1) eq 1", "a/$count($filter=) eq 1",
    "a eq datetime'x'", "a eq duration'P'", "a eq foo'1'",
])
def test_malformed_filters_are_odata_errors(bad):
    with pytest.raises(ODataError):
        parse_filter(bad)


def test_nesting_is_bounded_without_recursion_errors():
    deep = "(" * 5000 + "a eq 1" + ")" * 5000
    with pytest.raises(ODataError, match="nested"):
        parse_filter(deep)
    assert parse_filter("(" * (MAX_DEPTH - 2) + "a eq 1" + ")" * (MAX_DEPTH - 2))
    with pytest.raises(ODataError):
        parse_filter("not " * 5000 + "a")
    lam = "x/any(a:" * 1000 + "1 eq 1" + ")" * 1000
    with pytest.raises(ODataError):
        parse_filter(lam)


def test_query_options_and_nested_expand():
    opts = parse_query(
        "$orderby=name%20asc&$select=id&$top=1&$expand=is_default_for__application($select="
        "is_archived;$filter=is_host%20eq%20true)&$filter=device_type_alias/any(dta:dta/"
        "is_referenced_by__alias%20eq%20'raspberrypi4-64')")
    assert opts.select == ["id"] and opts.top == 1
    assert opts.orderby[0].expr == Path(("name",)) and not opts.orderby[0].desc
    (exp,) = opts.expand
    assert exp.name == "is_default_for__application" and exp.options.select == ["is_archived"]
    assert exp.options.filter == Bin("eq", Path(("is_host",)), Lit(True, "bool"))
    opts = parse_query(
        "$expand=image_install($select=id,download_progress,status,install_date;$filter=status"
        "%20ne%20'deleted';$expand=image($select=id;$expand=is_a_build_of__service($select=id,"
        "service_name)),is_provided_by__release($select=id,commit,raw_version))")
    inner = opts.expand[0].options.expand
    assert [e.name for e in inner] == ["image", "is_provided_by__release"]
    assert inner[0].options.expand[0].options.select == ["id", "service_name"]
    opts = parse_query("$select=id&$expand=owns__device/$count($filter=is_online%20eq%20true)")
    assert opts.expand[0].count and opts.expand[0].name == "owns__device"
    opts = parse_query("$orderby=semver_major%20desc,semver_minor%20desc,revision%20desc&$skip=2")
    assert [o.desc for o in opts.orderby] == [True, True, True] and opts.skip == 2
    assert parse_query("$select=*").select is None
    opts = parse_query("$filter=device_name%20eq%20@n&@n='a%2Fb'&apikey=zzz")
    assert opts.filter.right == Lit("a/b", "str")
    assert parse_query("$filter=name%20eq%20'a;b,c(d'").filter.right == Lit("a;b,c(d", "str")


@pytest.mark.parametrize("bad", [
    "$top=-1", "$top=x", "$skip=1.5", "$select=a/b", "$select=", "$expand=a(", "$expand=a)b",
    "$expand=a($bogus=1)", "$expand=a($top)", "$foo=1", "$filter=a%20eq%20@missing",
    "$filter=a%20eq%20@x&@x=b", "$top=1&$top=2", "$orderby=a%20sideways",
    "$expand=" + "a(" * 50 + ")" * 50, "$filter=%ff",
])
def test_malformed_options_are_odata_errors(bad):
    with pytest.raises(ODataError):
        parse_query(bad)


def test_url_targets():
    assert parse_target("device").resource == "device"
    t = parse_target("application(101)")
    assert (t.resource, t.key, t.count) == ("application", 101, False)
    assert parse_target("device(uuid='" + "a" * 62 + "')").key == {"uuid": "a" * 62}
    assert parse_target("organization(id=1)").key == {"id": 1}
    assert parse_target("application(slug='owner/name')").key == {"slug": "owner/name"}
    assert parse_target("device_config_variable(device=1001,name='RESIN_SUPERVISOR_LOCAL_MODE')"
                        ).key == {"device": 1001, "name": "RESIN_SUPERVISOR_LOCAL_MODE"}
    assert parse_target("device/$count").count
    assert parse_target("device(1)/$count").count
    assert parse_target("device/").resource == "device"


@pytest.mark.parametrize("bad", ["", "device(", "device()", "device(1", "device/owns", "1",
                                 "device(a=1,a=2)", "device(uuid=)", "$metadata", "a b",
                                 "device(x eq 1)"])
def test_malformed_targets(bad):
    with pytest.raises(ODataError):
        parse_target(bad)
