"""Simulated balena devices: a supervisor's register / target state / state report / logs /
actions, watched and driven through the official balena-sdk."""

from __future__ import annotations

import pytest

from fake_api.agents import FailurePlan
from fake_api.agents.balena import BalenaProtocol

from .conftest import balena_setup, events, spawn

pytest.importorskip("balena")


@pytest.fixture
def bfleet(fleetsim, balena_sdk):
    return balena_setup(fleetsim.balena, balena_sdk.fleetsim_user)


def test_agents_converge_to_the_release_the_sdk_pins(fleetsim, fleet_sim, balena_sdk, bfleet):
    sdk = balena_sdk.models
    group = spawn(fleet_sim, bfleet, 12)
    old = bfleet.installed["commit"]
    fleet_sim.run(limit=120)
    assert fleet_sim.count(old, "installed") == 12
    devices = sdk.device.get_all_by_application(bfleet.seeded["fleet"]["id"])
    assert len(devices) == 12 and all(d["is_online"] for d in devices)
    assert {d["is_running__release"]["__id"] for d in devices} == {bfleet.installed["id"]}

    new = fleetsim.balena.release(bfleet.seeded["fleet"], semver="2.0.0", services=("main", "sidecar"))
    sdk.application.pin_to_release(bfleet.seeded["fleet"]["id"], new["commit"])
    assert fleet_sim.run(until=lambda s: s.converged(new["commit"]), limit=4 * 3600)
    assert group.versions() == {new["commit"]: 12}
    uuid = BalenaProtocol.uuid(group.agents[0])
    device = sdk.device.get(uuid)
    assert device["is_running__release"]["__id"] == new["id"]
    assert device["update_status"] == "done"
    assert sdk.device.get_status(uuid) == "operational"
    installs = fleetsim.balena.db.children("image_install", "device", device["id"])
    running = {r["status"] for r in installs if r["is_provided_by__release"] == new["id"]}
    assert running == {"Running"}
    # download progress went through state reports before the install
    reports = [e for e in fleetsim.journal if e.method == "PATCH" and e.path == "/device/v3/state"]
    assert len(reports) >= 12 * 3
    lines = balena_sdk.logs.history(uuid)
    assert any("started release" in line["message"] for line in lines)
    assert {"registered", "offer", "download", "downloaded", "booted", "reported"} <= \
        set(events(fleet_sim, group.serials[0]))


def test_a_failed_install_keeps_the_old_release_and_shows_in_the_sdk(fleetsim, fleet_sim,
                                                                     balena_sdk, bfleet):
    sdk = balena_sdk.models
    group = spawn(fleet_sim, bfleet, 4, plans=[FailurePlan(install_fails=True, fraction=1.0)])
    fleet_sim.run(limit=120)
    new = bfleet.publish("2.0.0")
    assert fleet_sim.run(until=lambda s: s.converged(new["commit"]), limit=4 * 3600)
    assert fleet_sim.count(new["commit"], "failed") == 4
    assert group.versions() == {bfleet.installed["commit"]: 4}
    uuid = BalenaProtocol.uuid(group.agents[0])
    device = sdk.device.get(uuid)
    assert device["is_running__release"]["__id"] == bfleet.installed["id"]
    assert device["update_status"] == "rejected"
    installs = fleetsim.balena.db.children("image_install", "device", device["id"])
    assert {r["status"] for r in installs if r["is_provided_by__release"] == new["id"]} == \
        {"Install failed"}
    assert {r["status"] for r in installs if r["is_provided_by__release"] == bfleet.installed["id"]} == \
        {"Running"}
    assert sdk.device.get_status(uuid) == "updating"  # not on its target: balena's own reading
    assert any("Failed to update" in line["message"] for line in balena_sdk.logs.history(uuid))


def test_a_dropped_download_fails_as_download_failed(fleetsim, fleet_sim, bfleet):
    group = spawn(fleet_sim, bfleet, 1, plans=[FailurePlan(drop_at=0.3, drops=99, resume=False)])
    fleet_sim.run(limit=120)
    new = bfleet.publish("2.0.0")
    assert fleet_sim.run(until=lambda s: s.converged(new["commit"]), limit=24 * 3600)
    device = fleetsim.balena.db.find("device", uuid=BalenaProtocol.uuid(group.agents[0]))[0]
    assert device["update_status"] == "aborted"
    installs = fleetsim.balena.db.children("image_install", "device", device["id"])
    assert {r["status"] for r in installs if r["is_provided_by__release"] == new["id"]} == \
        {"Download failed"}


def test_a_queued_reboot_is_picked_up(fleetsim, fleet_sim, balena_sdk, bfleet):
    group = spawn(fleet_sim, bfleet, 2)
    fleet_sim.run(limit=120)
    uuid = BalenaProtocol.uuid(group.agents[0])
    balena_sdk.models.device.reboot(uuid)
    device = fleetsim.balena.db.find("device", uuid=uuid)[0]
    supervisor = fleetsim.balena.backend.device_side.supervisor
    assert [a["action"] for a in supervisor.pending(device["id"])] == ["reboot"]
    fleet_sim.run(limit=1000)  # one poll interval (900 s) with jitter
    assert supervisor.pending(device["id"]) == []
    assert ("action", "reboot") in [(e, d) for _, e, d in fleet_sim.history(group.serials[0])]
    assert "action" not in events(fleet_sim, group.serials[1])
    assert any(line["message"] == "Rebooting" for line in balena_sdk.logs.history(uuid))


def test_the_supervisor_polls_at_the_fleet_interval(fleetsim, fleet_sim, bfleet):
    group = spawn(fleet_sim, bfleet, 1)  # the "fast" profile polls every 60 s; balena says 900
    fleet_sim.run(limit=6 * 3600)
    assert group.agents[0].interval == 900.0  # RESIN_SUPERVISOR_POLL_INTERVAL, in seconds
    path = f"/device/v3/{BalenaProtocol.uuid(group.agents[0])}/state"
    polls = [e for e in fleetsim.journal if e.method == "GET" and e.path == path]
    assert len(polls) == pytest.approx(6 * 3600 / 900, abs=3)


def _run(seed: int):
    from fake_api.app import create_app
    from fake_api.balena.seed import BalenaSeeder
    from fake_api.core import Cloud
    from fake_api.sim import FleetSimulation

    app = create_app(Cloud(seed=seed))
    setup = balena_setup(BalenaSeeder(app.cloud.backends["balena"], "http://localhost"))
    with FleetSimulation(app) as sim:
        group = spawn(sim, setup, 6, plans=[FailurePlan(install_fails=True, fraction=0.5),
                                            FailurePlan(drop_at=0.5, fraction=0.5)])
        sim.run(limit=120)
        new = setup.publish("2.0.0")
        sim.run(until=lambda s: s.converged(new["commit"]), limit=4 * 3600)
        return [sim.history(s) for s in group.serials], sim.timeline.rows, group.versions()


def test_same_seed_same_timeline():
    first = _run(7)
    assert first == _run(7)
    histories, _rows, versions = first
    assert len(versions) == 2  # some devices updated, some failed and kept the old release
    assert any(e == "install_failed" for h in histories for _, e, _ in h)
    assert any(e == "download_interrupted" for h in histories for _, e, _ in h)
