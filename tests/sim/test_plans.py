"""Each failure plan leaves the traces it should, on the device and on the server."""

from __future__ import annotations

import json

import pytest

from fake_api.agents import FailurePlan

from .conftest import FIRMWARE, events, spawn


def converge(sim, version="2.0.0", limit=6 * 3600):
    assert sim.run(until=lambda s: s.converged(version), limit=limit)


def test_failed_install_is_reported_and_the_device_keeps_its_release(fleetsim, fleet_sim, fleet):
    group = spawn(fleet_sim, fleet, 1, plans=[FailurePlan(install_fails=True)])
    fleet.publish("2.0.0")
    converge(fleet_sim)
    agent = group.agents[0]
    serial = agent.identity.serial
    assert agent.version == "1.0.0" and agent.failed == "2.0.0"
    assert fleet_sim.count("2.0.0", "failed") == 1
    assert fleet_sim.count("1.0.0", "installed") == 1
    seen = events(fleet_sim, serial)
    assert seen.index("install_failed") < seen.index("reported")
    assert "booted" not in seen
    fleet_sim.run(limit=600)  # it keeps polling, and does not take the failed release again
    assert events(fleet_sim, serial).count("offer") == 1
    if fleet.dialect == "fl33t":
        device = fleetsim.fl33t.backend.get_device(
            {"admin": True}, fleet.seeded["team"].team_id, serial)["device"]
        assert device["build_id"] == fleet.installed["build_id"]  # still reports the old build
    else:
        project = fleet.seeded["project"]
        device = fleetsim.memfault.render_device(project, serial)
        assert device["last_seen_release"]["version"] == "1.0.0"
        chunk = json.loads(fleetsim.memfault.chunks(project, serial)[-1])
        assert chunk["result"] == "failed" and chunk["reason"] == "install failed"
        attributes = _attributes(fleetsim, project, serial)
        assert attributes["ota_last_result"] == "failed"
        assert attributes["ota_last_target"] == "2.0.0"


def _attributes(fleetsim, project, serial):
    backend = fleetsim.memfault.backend
    device = backend.get_device(project.record, serial)
    return {a["custom_metric"]["string_key"]: (a["state"] or {}).get("value")
            for a in backend.device_attributes(project.record, device, None)}


def test_boot_loop_rolls_back(fleetsim, fleet_sim, fleet):
    group = spawn(fleet_sim, fleet, 1, plans=[FailurePlan(boot_loop=3)])
    fleet.publish("2.0.0")
    converge(fleet_sim)
    agent = group.agents[0]
    history = fleet_sim.history(agent.identity.serial)
    assert ("boot_loop", "3 crashed boots") in [(e, d) for _, e, d in history]
    assert ("rolled_back", "1.0.0") in [(e, d) for _, e, d in history]
    assert agent.version == "1.0.0" and fleet_sim.count("2.0.0", "failed") == 1
    booted = [t for t, e, _ in history if e == "rebooting"][0]
    reported = [t for t, e, _ in history if e == "reported"][0]
    assert reported - booted == pytest.approx(agent.profile.reboot_time * 4)  # 1 + 3 crashes


def test_offline_device_resumes_where_it_stopped(fleet_sim, fleet):
    group = spawn(fleet_sim, fleet, 1, plans=[FailurePlan(offline_during="download",
                                                          offline_for=1800)])
    fleet.publish("2.0.0")
    fleet_sim.run(limit=600)
    assert fleet_sim.count("2.0.0", "offline") == 1
    converge(fleet_sim)
    agent = group.agents[0]
    history = fleet_sim.history(agent.identity.serial)
    names = [e for _, e, _ in history]
    assert names.index("download_interrupted") < names.index("offline") < names.index("online")
    offline_at = [t for t, e, _ in history if e == "offline"][0]
    online_at = [t for t, e, _ in history if e == "online"][0]
    assert online_at - offline_at == pytest.approx(1800, abs=1)
    half = FIRMWARE // 2
    assert ("download", f"bytes {half}-{FIRMWARE} of {FIRMWARE}") in [(e, d) for _, e, d in history]
    assert agent.version == "2.0.0"


def test_offline_window_after_spawn(fleet_sim, mf_fleet):
    group = spawn(fleet_sim, mf_fleet, 2, plans=[FailurePlan(offline_at=100, offline_for=3600,
                                                             fraction=1.0)])
    fleet_sim.run(limit=200)
    assert fleet_sim.count("1.0.0", "offline") == 2
    mf_fleet.publish("2.0.0")
    fleet_sim.run(limit=3000)
    assert fleet_sim.count("2.0.0", "installed") == 0
    converge(fleet_sim)
    assert all(a.version == "2.0.0" for a in group)


@pytest.mark.parametrize("resume", [True, False])
def test_dropped_download_resumes_with_range_or_restarts(fleet_sim, fleet, resume):
    group = spawn(fleet_sim, fleet, 1, plans=[FailurePlan(drop_at=0.25, drops=2, resume=resume)])
    fleet.publish("2.0.0")
    converge(fleet_sim)
    history = fleet_sim.history(group.agents[0].identity.serial)
    ranges = [d for _, e, d in history if e == "download"]
    quarter = FIRMWARE // 4
    if resume:
        assert ranges[:2] == [f"bytes 0-{FIRMWARE} of {FIRMWARE}",
                              f"bytes {quarter}-{FIRMWARE} of {FIRMWARE}"]
    else:
        assert ranges == [f"bytes 0-{FIRMWARE} of {FIRMWARE}"] * 3
    assert group.agents[0].version == "2.0.0"


def test_download_that_keeps_failing_is_given_up(fleet_sim, fleet):
    group = spawn(fleet_sim, fleet, 1, plans=[FailurePlan(stall_at=0.5, stalls=99)])
    fleet.publish("2.0.0")
    converge(fleet_sim)
    agent = group.agents[0]
    history = fleet_sim.history(agent.identity.serial)
    assert [e for _, e, _ in history].count("download_interrupted") == agent.profile.download_attempts
    assert ("reported", "failed: download failed") in [(e, d) for _, e, d in history]
    # a stall costs the profile's stall timeout each time before the device aborts
    starts = [t for t, e, _ in history if e == "download"]
    assert starts[1] - starts[0] == pytest.approx(agent.profile.stall_timeout
                                                  + agent.profile.retry_wait)


@pytest.mark.parametrize("corrupt, ends_on", [(1, "2.0.0"), (99, "1.0.0")])
def test_hash_mismatch_is_fetched_again_then_given_up(fleet_sim, fleet, corrupt, ends_on):
    group = spawn(fleet_sim, fleet, 1, plans=[FailurePlan(corrupt=corrupt)])
    fleet.publish("2.0.0")
    converge(fleet_sim)
    agent = group.agents[0]
    mismatches = [d for _, e, d in fleet_sim.history(agent.identity.serial) if e == "hash_mismatch"]
    assert agent.version == ends_on
    assert len(mismatches) == min(corrupt, agent.profile.download_attempts)
    assert mismatches[0] in ("md5 mismatch", "sha256 mismatch")


def test_slow_link_takes_virtual_time(fleet_sim, fleet):
    group = spawn(fleet_sim, fleet, 1, plans=[FailurePlan(link_bps=64)])
    fleet.publish("2.0.0")
    converge(fleet_sim)
    history = fleet_sim.history(group.agents[0].identity.serial)
    started = [t for t, e, _ in history if e == "download"][0]
    landed = [t for t, e, _ in history if e == "downloaded"][0]
    assert landed - started == pytest.approx(FIRMWARE / 64)


def test_slow_link_outlives_fl33t_signed_url_and_polls_for_a_fresh_one(fleet_sim, fl33t_fleet):
    """fl33t download URLs live 3 minutes: a dropped slow download resumes after re-polling."""
    group = spawn(fleet_sim, fl33t_fleet, 1,
                  plans=[FailurePlan(link_bps=8, drop_at=0.5, drops=1)])
    fl33t_fleet.publish("2.0.0")
    converge(fleet_sim)
    names = events(fleet_sim, group.agents[0].identity.serial)
    assert "url_refused" in names
    assert names.count("offer") == 1 and group.agents[0].version == "2.0.0"


def test_clock_skew_shows_in_what_the_device_reports(fleetsim, fleet_sim, mf_fleet):
    group = spawn(fleet_sim, mf_fleet, 1, plans=[FailurePlan(clock_skew=-86400)])
    mf_fleet.publish("2.0.0")
    converge(fleet_sim)
    project = mf_fleet.seeded["project"]
    serial = group.agents[0].identity.serial
    reported = _attributes(fleetsim, project, serial)["device_time"]
    assert reported.startswith("2025-12-31")  # the fake's clock says 2026-01-01


def test_a_fraction_fails_only_on_one_release_and_hardware(fleet_sim, mf_fleet):
    plan = FailurePlan(install_fails=True, fraction=0.5, hardware="dvt", release="2.0.0")
    group = spawn(fleet_sim, mf_fleet, 60, hardware={"evt": 1, "dvt": 1}, plans=[plan])
    mf_fleet.publish("2.0.0")
    converge(fleet_sim)
    failed = [a for a in group if a.failed == "2.0.0"]
    assert failed and all(a.identity.hardware == "dvt" for a in failed)
    dvt = [a for a in group if a.identity.hardware == "dvt"]
    assert 0.2 < len(failed) / len(dvt) < 0.8
    assert fleet_sim.count("2.0.0", "failed") == len(failed)
    mf_fleet.publish("2.1.0")  # the plan is for 2.0.0 only: everyone takes 2.1.0
    converge(fleet_sim, "2.1.0")
    assert fleet_sim.count("2.1.0", "installed") == 60


def test_a_plan_for_one_device(fleet_sim, mf_fleet):
    group = spawn(fleet_sim, mf_fleet, 5)
    unlucky = group.agents[2]
    unlucky.plans = (FailurePlan(install_fails=True),)
    mf_fleet.publish("2.0.0")
    converge(fleet_sim)
    assert [a.identity.serial for a in group if a.failed] == [unlucky.identity.serial]
