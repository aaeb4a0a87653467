"""Staged rollouts of the right size, activated with the official CLI: "a random subset of its
devices (amounting to the selected rollout percentage) will be marked as staged"."""

from __future__ import annotations

import pytest
import requests


def staged_devices(fleetsim, project, serials) -> set[str]:
    """The devices that the OTA check offers 2.0.0 to, polled as the firmware SDK polls."""
    session = requests.Session()
    session.headers["Memfault-Project-Key"] = project.project_key
    offered = set()
    for serial in serials:
        answer = session.get(f"{fleetsim.url}/api/v0/releases/latest", params={
            "device_serial": serial, "hardware_version": "evt", "software_type": "main",
            "current_version": "1.0.0"})
        assert answer.status_code in (200, 204), answer.text
        if answer.status_code == 200:
            offered.add(serial)
    return offered


@pytest.mark.parametrize(("count", "percent", "expected"), [(100, 20, 20), (400, 10, 40),
                                                            (7, 50, 4)])
def test_cli_staged_rollout_stages_exactly_the_rounded_share(memfault_cli, fleetsim, count,
                                                             percent, expected):
    project = memfault_cli.project
    seed = fleetsim.memfault
    seed.release(project, "2.0.0")
    seed.cohort(project, "Beta", "beta")
    serials = [f"DEV-{n:04d}" for n in range(count)]
    seed.devices(project, serials, cohort="beta")
    seed.devices(project, ["OTHER-1", "OTHER-2"])            # not in the cohort
    result = memfault_cli("deploy-release", "--release-version", "2.0.0", "--cohort", "beta",
                          "--rollout-percent", str(percent))
    assert result.returncode == 0, result.stderr
    staged = staged_devices(fleetsim, project, serials)
    assert len(staged) == expected
    assert staged_devices(fleetsim, project, serials) == staged      # sticky
    assert staged_devices(fleetsim, project, ["OTHER-1", "OTHER-2"]) == set()


def test_same_seed_same_subset_and_raising_extends_it(memfault_cli, fleetsim):
    project = memfault_cli.project
    seed = fleetsim.memfault
    seed.release(project, "2.0.0")
    serials = [f"DEV-{n:04d}" for n in range(100)]
    seed.devices(project, serials)
    assert memfault_cli("deploy-release", "--release-version", "2.0.0", "--cohort", "default",
                        "--rollout-percent", "20").returncode == 0
    first = staged_devices(fleetsim, project, serials)
    # raising the percentage with the CLI (a new activation of the same release) extends it
    assert memfault_cli("deploy-release", "--release-version", "2.0.0", "--cohort", "default",
                        "--rollout-percent", "50").returncode == 0
    wider = staged_devices(fleetsim, project, serials)
    assert first < wider and len(wider) == 50

    # the same seed and the same calls choose the same devices
    fleetsim.reset(seed=fleetsim.seed)
    again = fleetsim.memfault.project()
    fleetsim.memfault.release(again, "2.0.0")
    fleetsim.memfault.devices(again, serials)
    fleetsim.memfault.deploy(again, "2.0.0", rollout_percent=20)
    assert staged_devices(fleetsim, again, serials) == first
    # another seed, another (equally sized) subset
    fleetsim.reset(seed=fleetsim.seed + 1)
    other = fleetsim.memfault.project()
    fleetsim.memfault.release(other, "2.0.0")
    fleetsim.memfault.devices(other, serials)
    fleetsim.memfault.deploy(other, "2.0.0", rollout_percent=20)
    different = staged_devices(fleetsim, other, serials)
    assert len(different) == 20 and different != first
