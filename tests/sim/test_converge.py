"""Agents of every dialect register, poll, download, install, report and converge."""

from __future__ import annotations

from .conftest import events, spawn


def test_agents_converge_to_the_new_release(fleetsim, fleet_sim, fleet):
    group = spawn(fleet_sim, fleet, 25)
    fleet_sim.run(limit=120)
    assert fleet_sim.count("1.0.0", "installed") == 25
    fleet.publish("2.0.0")
    assert fleet_sim.run(until=lambda s: s.converged("2.0.0"), limit=3600)
    assert group.versions() == {"2.0.0": 25}
    assert fleet_sim.count("2.0.0", "failed") == 0
    serial = group.serials[0]
    assert events(fleet_sim, serial)[:1] == ["registered"]
    assert {"offer", "download", "downloaded", "rebooting", "booted", "reported"} <= \
        set(events(fleet_sim, serial))
    # the whole fleet really fetched the bytes through the fake
    downloads = [e for e in fleetsim.journal if e.method == "GET" and e.status == 200
                 and ("/download" in e.path or "/storage/artifacts/" in e.path)]
    assert len(downloads) == 25


def test_server_side_state_follows_the_devices(fleetsim, fleet_sim, fleet):
    group = spawn(fleet_sim, fleet, 5)
    fleet.publish("2.0.0")
    assert fleet_sim.run(until=lambda s: s.converged("2.0.0"), limit=3600)
    fleet_sim.run(limit=10)  # let memfault devices make their next OTA check
    if fleet.dialect == "fl33t":
        team = fleet.seeded["team"]
        client = team.client(base_uri=fleetsim.url)
        builds = {d.build_id for d in client.list_devices(fleet_id=fleet.seeded["fleet"]["fleet_id"])}
        build = [b for b in client.list_builds() if b.version == "2.0.0"][0]
        assert builds == {build.build_id}
    else:
        seeder = fleetsim.memfault
        for serial in group.serials:
            device = seeder.render_device(fleet.seeded["project"], serial)
            assert device["last_seen_release"]["version"] == "2.0.0"
            assert device["hardware_version"] == "evt"


def test_moving_the_clock_runs_the_devices(fleetsim, fleet_sim, mf_fleet):
    """DESIGN's usage: spawn, then advance the cloud's clock; the devices live through it."""
    spawn(fleet_sim, mf_fleet, 10)
    mf_fleet.publish("1.1.0")
    fleetsim.clock.advance(minutes=10)
    assert fleet_sim.count("1.1.0", "installed") == 10
    assert fleet_sim.now == fleetsim.clock.time()


def test_bytes_that_do_not_match_the_offer_are_refused(fleetsim, fleet_sim, fleet):
    """A server that serves the wrong bytes (a fault rule with a body) fails the size/hash
    check on every attempt; the device gives up and keeps its release."""
    group = spawn(fleet_sim, fleet, 1)
    fleet.publish("3.0.0")
    fleetsim.faults.add(method="GET", path_regex=r".*(/download|/storage/artifacts/.*)$",
                        status=200, body="not the firmware")
    assert fleet_sim.run(until=lambda s: s.converged("3.0.0"), limit=3600)
    agent = group.agents[0]
    assert agent.version == "1.0.0" and agent.failed == "3.0.0"
    mismatches = [d for _, e, d in fleet_sim.history(agent.identity.serial) if e == "hash_mismatch"]
    assert len(mismatches) == agent.profile.download_attempts
    assert mismatches[0].startswith("size 16 != ")


def test_identities_look_real_and_are_deterministic(fleet_sim, mf_fleet):
    from fake_api.agents import make_identities

    group = spawn(fleet_sim, mf_fleet, 40, hardware={"evt": 1, "dvt": 3})
    ids = [a.identity for a in group]
    assert len({i.serial for i in ids}) == 40 and len({i.mac for i in ids}) == 40
    assert {i.hardware for i in ids} == {"evt", "dvt"}
    first = ids[0]
    assert first.name.endswith(first.mac.replace(":", "")[-6:])
    assert first.owner and first.site and first.country and -90 <= first.latitude <= 90
    again = make_identities(40, fleet_sim.seed, hardware={"evt": 1, "dvt": 3})
    assert again == ids
    assert make_identities(40, fleet_sim.seed + 1)[0].serial != first.serial or \
        make_identities(40, fleet_sim.seed + 1)[0].owner != first.owner


def test_missing_faker_is_a_clear_error(monkeypatch):
    import sys

    import pytest

    from fake_api.agents import MissingDependency, make_identities

    monkeypatch.setitem(sys.modules, "faker", None)
    with pytest.raises(MissingDependency, match=r'pip install "fleetsim\[sim\]"'):
        make_identities(3, 0)


def test_memfault_devices_spawn_into_a_cohort(fleetsim, fleet_sim, mf_fleet):
    project = mf_fleet.seeded["project"]
    fleetsim.memfault.cohort(project, "Beta", "beta")
    beta = spawn(fleet_sim, mf_fleet, 4, cohort="beta")
    rest = spawn(fleet_sim, mf_fleet, 4)
    fleetsim.memfault.release(project, "2.0.0", b"\x02" * 1024)
    fleetsim.memfault.deploy(project, "2.0.0", cohort="beta")
    fleet_sim.run(limit=1800)
    assert beta.versions() == {"2.0.0": 4} and rest.versions() == {"1.0.0": 4}
    device = fleetsim.memfault.render_device(project, beta.serials[0])
    assert device["cohort"]["slug"] == "beta"
    assert device["owner_ref"] == beta.agents[0].identity.owner_ref
