"""Downstream smoke test: fleetsim installed from the wheel with no extra at all."""

import pytest
import requests

from pytest_fleetsim import FakeCloud, FaultRule


def test_fixture_faults_journal_and_intercept(fleetsim: FakeCloud):
    rule: FaultRule = fleetsim.faults.add(dialect="fl33t", path="/team/*/devices", status=503, times=1)
    assert requests.get(fleetsim.url + "/team/acme/devices").status_code == 503
    assert rule.hits == 1
    with fleetsim.intercept():
        assert requests.get("https://api.memfault.com/api/v0/x").status_code == 404
    assert fleetsim.journal.count(dialect="memfault") == 1


@pytest.mark.fleetsim(scenario="default")
def test_shipped_scenarios_are_in_the_wheel(fleetsim):
    assert "acme-admin-token" in str(fleetsim.snapshot())


def test_vendor_hosts_are_blocked(fleetsim):
    with pytest.raises(requests.ConnectionError, match="intercept"):
        requests.get("https://api.fl33t.com/team/acme/devices", timeout=5)
