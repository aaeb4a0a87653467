"""Rollout logic written with an official client, tested against a simulated fleet."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fake_api.agents import FailurePlan

from .conftest import spawn


def staged_rollout(memfault_cli, sim, version, stages, threshold, stage_minutes=10):
    """The kind of script a team writes: raise the percentage stage by stage with memfault-cli,
    watch the failure rate the devices produce, deactivate past the threshold."""
    for percent in stages:
        memfault_cli("deploy-release", "--release-version", version, "--cohort", "default",
                     "--rollout-percent", str(percent), check=True)
        sim.run(limit=stage_minutes * 60)
        installed, failed = sim.count(version, "installed"), sim.count(version, "failed")
        if failed and failed / (installed + failed) > threshold:
            memfault_cli("deploy-release", "--release-version", version, "--cohort", "default",
                         "--deactivate", check=True)
            return percent
    return None


def _fleet(fleetsim, fleet_sim, memfault_cli, failing):
    project = memfault_cli.project
    seeder = fleetsim.memfault
    seeder.release(project, "1.0.0", b"\x01" * 2048)
    group = fleet_sim.spawn("memfault", 80, project=project, installed="1.0.0", profile="fast",
                            plans=[FailurePlan(install_fails=True, fraction=failing,
                                               release="2.0.0")])
    fleet_sim.run(limit=120)
    seeder.release(project, "2.0.0", b"\x02" * 2048)
    return group


def test_rollout_halts_when_failures_pass_the_threshold(fleetsim, fleet_sim, memfault_cli):
    group = _fleet(fleetsim, fleet_sim, memfault_cli, failing=0.5)
    halted_at = staged_rollout(memfault_cli, fleet_sim, "2.0.0", [10, 50, 100], threshold=0.2)
    assert halted_at == 10
    deployments = fleetsim.memfault.backend.deployments.values()
    assert [d["status"] for d in deployments] == ["cancelled"]
    touched = [a for a in group if a.version == "2.0.0" or a.failed == "2.0.0"]
    assert 0 < len(touched) < 25  # only the 10% stage ever saw 2.0.0
    fleet_sim.run(limit=3600)  # nobody else gets it after the halt
    assert [a for a in group if a.version == "2.0.0" or a.failed == "2.0.0"] == touched


def test_rollout_completes_on_a_healthy_fleet(fleetsim, fleet_sim, memfault_cli):
    group = _fleet(fleetsim, fleet_sim, memfault_cli, failing=0.02)
    assert staged_rollout(memfault_cli, fleet_sim, "2.0.0", [10, 50, 100], threshold=0.2) is None
    fleet_sim.run(until=lambda s: s.converged("2.0.0"), limit=3600)
    assert fleet_sim.count("2.0.0", "installed") + fleet_sim.count("2.0.0", "failed") == len(group)
    assert fleet_sim.count("2.0.0", "installed") >= 72


def test_fleet_over_http_to_the_live_server(fleetsim, mf_fleet):
    """The transport can be any base URL: here the session's live server, clock kept in step."""
    from fake_api.sim import FleetSimulation

    with FleetSimulation(url=fleetsim.url, start=fleetsim.clock.time(), seed=1) as sim:
        spawn(sim, mf_fleet, 3)
        mf_fleet.publish("2.0.0")
        assert sim.run(until=lambda s: s.converged("2.0.0"), limit=3600)
        assert sim.count("2.0.0", "installed") == 3
        # the server clock followed the devices
        assert fleetsim.clock.time() == pytest.approx(sim.now, abs=1e-5)


def test_demo_runs_and_exits_0(tmp_path):
    report = tmp_path / "demo.json"
    out = subprocess.run([sys.executable, "-m", "fake_api.cli", "demo", "--devices", "40",
                          "--report", str(report)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "stage 100%" in out.stdout and "rollout completed" in out.stdout
    assert json.loads(report.read_text())["summary"]["devices"] == 40


def test_demo_halts_a_bad_release(tmp_path):
    out = subprocess.run([sys.executable, "-m", "fake_api.cli", "demo", "--dialect", "fl33t",
                          "--devices", "40", "--failure-rate", "0.6", "--plain-http"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "HALT" in out.stdout and "rollout HALTED at 10%" in out.stdout
