import re
from collections import Counter

import pytest

from fake_api.core import Faults, Journal
from fake_api.core.journal import Entry
from fake_api.core.rollout import bucket, compare_versions, in_rollout, release_key


def test_first_matching_rule_wins_and_expires_after_times():
    faults = Faults(lambda: 0.0)
    faults.add(dialect="fl33t", method="get", path="/team/*/devices", status=500, times=2)
    faults.add(dialect="fl33t", status=503)
    assert faults.match("fl33t", "GET", "/team/t/devices").status == 500
    assert faults.match("fl33t", "GET", "/team/t/devices").status == 500
    assert faults.match("fl33t", "GET", "/team/t/devices").status == 503
    assert faults.match("memfault", "GET", "/team/t/devices") is None


def test_regex_paths_and_retry_after_implies_429():
    faults = Faults(lambda: 0.0)
    rule = faults.add(path_regex=r"/checkin$", retry_after=30)
    assert rule.status == 429
    assert faults.match("fl33t", "POST", "/team/t/device/d/checkin") is rule
    assert faults.match("fl33t", "POST", "/team/t/device/d") is None
    assert rule.to_json()["path_regex"] == "/checkin$"


def test_probability_uses_the_seeded_source():
    draws = iter([0.1, 0.9, 0.49, 0.51])
    faults = Faults(lambda: next(draws))
    faults.add(status=500, probability=0.5)
    hits = [faults.match("x", "GET", "/") is not None for _ in range(4)]
    assert hits == [True, False, True, False]


@pytest.mark.parametrize("spec, message", [
    ({"status": 42}, "HTTP status"),
    ({"status": 500, "probability": 2}, "probability"),
    ({"status": 500, "times": 0}, "times"),
    ({}, "needs an action"),
    ({"status": 500, "colour": "red"}, "unknown fault option"),
])
def test_bad_rules_are_refused_with_a_reason(spec, message):
    with pytest.raises(ValueError, match=message):
        Faults(lambda: 0.0).add(**spec)


def test_remove_and_clear():
    faults = Faults(lambda: 0.0)
    rule = faults.add(status=500)
    assert faults.remove(rule.id) and not faults.remove(rule.id)
    faults.add(status=500)
    faults.clear()
    assert len(faults) == 0


def entry(path, method="GET", status=200, dialect="fl33t"):
    return Entry(dialect, method, path, "", status, 0.1, "t")


def test_journal_filters_and_bounds():
    journal = Journal(maxlen=3)
    for p in ["/a", "/b", "/c", "/d"]:
        journal.record(entry(p))
    assert [e.path for e in journal.entries()] == ["/b", "/c", "/d"]
    assert journal.count(path="/[bc]") == 2
    assert journal.last(path=re.compile("^/d")).path == "/d"


def test_journal_assertions_explain_what_happened():
    journal = Journal()
    journal.record(entry("/team/t/devices"))
    assert len(journal.assert_called("GET", "/team/*/devices", times=1)) == 1
    expected = r"(?s)expected POST /x at least once, found 0.*200 GET /team/t/devices"
    with pytest.raises(AssertionError, match=expected):
        journal.assert_called("POST", "/x")
    with pytest.raises(AssertionError, match="expected no GET"):
        journal.assert_not_called("GET", "/team/*")


def test_bucketing_is_stable_uniform_and_monotonic():
    serials = [f"dev-{i}" for i in range(4000)]
    assert [bucket(s, "d1") for s in serials[:5]] == [bucket(s, "d1") for s in serials[:5]]
    counts = Counter(int(bucket(s, "d1") // 10) for s in serials)
    assert all(300 < c < 500 for c in counts.values())  # ~400 per decile
    at10 = {s for s in serials if in_rollout(s, "d1", 10)}
    at50 = {s for s in serials if in_rollout(s, "d1", 50)}
    assert at10 < at50  # raising the percentage only adds devices
    assert 300 < len(at10) < 500
    assert {s for s in serials if in_rollout(s, "d2", 10)} != at10  # another salt, another sample
    assert all(in_rollout(s, "x", 100) for s in serials[:10])
    assert not any(in_rollout(s, "x", 0) for s in serials[:10])


def test_version_order_is_the_one_memfault_documents():
    documented = ["1.0.0rc1", "1.0.0", "1.0.1-dev", "1.0.1-rc2", "1.0.1", "1.0.12", "1.0.20"]
    assert sorted(reversed(documented), key=release_key) == documented
    assert compare_versions("1.0", "1.0.1") == -1
    assert compare_versions("2.0.0", "2.0.0") == 0
    assert compare_versions("10.0", "9.9.9") == 1
