"""Fault rules that could never fire, or would break the requests they match, are refused."""

import math
import re

import pytest

from fake_api.app import create_app
from fake_api.core import Faults


@pytest.mark.parametrize("spec, message", [
    ({"dialect": "fleet", "status": 503}, r"unknown fault dialect 'fleet'.*did you mean 'fl33t'"),
    ({"dialect": "FL33T", "status": 503}, r"unknown fault dialect 'FL33T'.*did you mean 'fl33t'"),
    ({"dialect": 5, "status": 503}, "unknown fault dialect 5"),
    ({"path": "team/*/devices", "status": 503}, r"start with '/'.*did you mean '/team/\*/devices'"),
    ({"path": "/__fleetsim__/health", "status": 503}, "never faulted"),
    ({"path": 5, "status": 503}, "glob string"),
    ({"path_regex": "(", "status": 503}, "not a valid regex"),
    ({"path_regex": "a", "path": "/a", "status": 503}, "not both"),
    ({"method": "GETT", "status": 503}, "fault method"),
    ({"status": "503"}, "HTTP status code"),
    ({"status": True}, "HTTP status code"),
    ({"status": 42}, "HTTP status code"),
    ({"latency": math.nan}, "latency"),
    ({"latency": -1}, "latency"),
    ({"latency": 10**9}, "latency"),
    ({"latency": 10**9, "virtual": True}, "latency"),
    ({"latency": "2"}, "latency"),
    ({"status": 500, "body": 5}, "fault body"),
    ({"status": 500, "body": {"x": math.inf}}, "JSON-serialisable"),
    ({"status": 500, "message": 5}, "message"),
    ({"status": 500, "headers": ["x"]}, "headers"),
    ({"status": 500, "headers": {"X-A": "1\r\nSet-Cookie: x"}}, "one line"),
    ({"status": 500, "headers": {"bad name": "1"}}, "header name"),
    ({"retry_after": -5}, "retry_after"),
    ({"retry_after": 1.5}, "retry_after"),
    ({"status": 500, "probability": 0}, "never fires"),
    ({"status": 500, "probability": math.nan}, "probability"),
    ({"status": 500, "times": 0}, "times"),
    ({"status": 500, "times": 2.0}, "times"),
    ({"status": 500, "drop": "yes"}, "drop"),
    ({}, "needs an action"),
    ({"status": 500, "colour": "red"}, "unknown fault option"),
])
def test_the_python_api_refuses_with_the_reason(spec, message):
    with pytest.raises(ValueError, match=message):
        create_app().cloud.faults.add(**spec)


@pytest.mark.parametrize("spec", [
    {"dialect": "fleet", "status": 503},
    {"path": "team/x", "status": 503},
    {"status": "503"},
    {"latency": "NaN"},
    {"status": 500, "body": 5},
    {"path_regex": "[", "status": 500},
    {"status": 500, "times": -1},
    {"status": 500, "latency": 1e300},
])
def test_the_control_plane_refuses_with_400_and_adds_nothing(client, app, spec):
    response = client.post("/__fleetsim__/faults", json=spec)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("bad fault rule:")
    assert len(app.cloud.faults) == 0
    assert client.get("/team/t/devices").status_code != 500


def test_a_json_nan_latency_over_http_is_refused(client, app):
    response = client.post("/__fleetsim__/faults", data='{"latency": NaN}',
                           content_type="application/json")
    assert response.status_code == 400 and len(app.cloud.faults) == 0


def test_valid_rules_still_work_and_globs_match_the_whole_path():
    faults = create_app().cloud.faults
    rule = faults.add(dialect="fl33t", method="post", path="/team/*/checkin", status=503)
    assert rule.method == "POST"
    assert faults.match("fl33t", "POST", "/team/a/device/b/checkin") is rule
    assert faults.match("fl33t", "POST", "/team/a/device/b/checkin/x") is None
    assert faults.match("memfault", "POST", "/team/a/device/b/checkin") is None
    star = faults.add(path="*/chunks/*", status=500)
    assert faults.match("memfault", "POST", "/api/v0/chunks/D") is star


def _pattern(faults, rule, n=200):
    return [faults.match("fl33t", "GET", rule.path) is rule for _ in range(n)]


def test_each_rule_has_its_own_seeded_stream():
    def run(extra_rule_first):
        cloud = create_app(seed=9).cloud
        if extra_rule_first:
            other = cloud.faults.add(dialect="fl33t", path="/team/other", status=500, probability=0.5)
            [cloud.faults.match("fl33t", "GET", "/team/other") for _ in range(37)]
            assert 0 < other.hits < 37
        rule = cloud.faults.add(dialect="fl33t", path="/team/mine", status=503, probability=0.3)
        return _pattern(cloud.faults, rule)

    alone, with_another = run(False), run(True)
    assert alone == with_another
    assert 30 < sum(alone) < 90  # about 30% of 200


def test_the_stream_follows_the_seed():
    patterns = []
    for seed in (1, 1, 2):
        cloud = create_app(seed=seed).cloud
        rule = cloud.faults.add(path="/team/x", status=503, probability=0.5)
        patterns.append(_pattern(cloud.faults, rule, 64))
    assert patterns[0] == patterns[1] != patterns[2]


def test_unit_faults_without_a_cloud_accept_any_dialect_and_a_shared_source():
    faults = Faults(lambda: 0.0)
    assert faults.add(dialect="anything", status=500).dialect == "anything"
    assert [r.id for r in faults.unfired()] == [1]


def test_fault_globs_do_not_grow_fnmatchs_cache():
    import fnmatch

    fnmatch._compile_pattern.cache_clear()
    faults = create_app().cloud.faults
    for i in range(50):
        faults.add(path=f"/team/{i}/*", status=500)
    faults.match("fl33t", "GET", "/team/x/y")
    assert fnmatch._compile_pattern.cache_info().currsize == 0
    assert isinstance(faults.rules[0]._compiled, re.Pattern)


def test_journal_status_filter_is_validated(client):
    client.get("/team/t/devices")
    assert client.get("/__fleetsim__/journal?status=abc").status_code == 400
    assert client.get("/__fleetsim__/journal?status=4011").status_code == 400
    assert client.get("/__fleetsim__/journal?path=" + "x" * 3000).status_code == 400
    found = client.get("/__fleetsim__/journal?status=401&path=/team/*").get_json()["entries"]
    assert [e["path"] for e in found] == ["/team/t/devices"]
