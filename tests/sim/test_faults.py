"""Server-side fault rules (cloud.faults) combine with the agents' retry rules."""

from __future__ import annotations

import pytest

from .conftest import spawn

POLL = {"fl33t": r"/team/.*/checkin$", "memfault": r"/api/v0/releases/latest$"}


def _poll_times(sim, serial):
    return [t for t, e, _ in sim.history(serial)]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(fleetsim, fleet_sim, fleet, status):
    group = spawn(fleet_sim, fleet, 1)
    fleet_sim.run(limit=120)
    fleet.publish("2.0.0")
    fleetsim.faults.add(path_regex=POLL[fleet.dialect], status=status, retry_after=900, times=2)
    assert fleet_sim.run(until=lambda s: s.converged("2.0.0"), limit=6 * 3600)
    history = fleet_sim.history(group.agents[0].identity.serial)
    waits = [(t, d) for t, e, d in history if e == "retry_after"]
    assert [d for _, d in waits] == [f"{status}, 900s"] * 2
    offer_at = [t for t, e, _ in history if e == "offer"][0]
    assert offer_at - waits[1][0] == pytest.approx(900)
    assert [e.status for e in fleetsim.journal if e.fault] == [status, status]


def test_dropped_connections_back_off_exponentially(fleetsim, fleet_sim, fleet):
    group = spawn(fleet_sim, fleet, 1)
    fleet_sim.run(limit=120)
    fleet.publish("2.0.0")
    fleetsim.faults.add(path_regex=POLL[fleet.dialect], drop=True, times=3)
    assert fleet_sim.run(until=lambda s: s.converged("2.0.0"), limit=6 * 3600)
    agent = group.agents[0]
    history = fleet_sim.history(agent.identity.serial)
    errors = [t for t, e, d in history if e == "error" and d.startswith("connection dropped")]
    assert len(errors) == 3
    gaps = [b - a for a, b in zip(errors, errors[1:])]
    base = agent.profile.backoff_base
    assert base * 1 <= gaps[0] <= base * (1 + agent.profile.jitter)
    assert base * 2 <= gaps[1] <= base * 2 * (1 + agent.profile.jitter)
    assert agent.version == "2.0.0"


def test_server_errors_on_download_count_as_attempts(fleetsim, fleet_sim, mf_fleet):
    group = spawn(fleet_sim, mf_fleet, 1)
    mf_fleet.publish("2.0.0")
    fleetsim.faults.add(method="GET", path_regex=r"/api/v0/storage/artifacts/.*", status=500)
    assert fleet_sim.run(until=lambda s: s.converged("2.0.0"), limit=6 * 3600)
    agent = group.agents[0]
    assert agent.failed == "2.0.0" and agent.version == "1.0.0"
    downloads = [e for e in fleetsim.journal if "/storage/artifacts/" in e.path]
    assert len(downloads) == agent.profile.download_attempts


def test_virtual_latency_moves_the_clock_and_the_fleet_with_it(fleetsim, fleet_sim, mf_fleet):
    spawn(fleet_sim, mf_fleet, 3)
    fleetsim.faults.add(path_regex=POLL["memfault"], latency=30, virtual=True)
    before = fleetsim.clock.time()
    fleet_sim.run(limit=100)
    assert fleetsim.clock.time() >= before + 100
    assert fleet_sim.now == fleetsim.clock.time()
