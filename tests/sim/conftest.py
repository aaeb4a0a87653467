"""Fleets to simulate: a seeded fl33t team/fleet and a seeded Memfault project, each with a
first release installed everywhere and a way to publish the next one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest

FIRMWARE = 4096


@dataclass
class Setup:
    dialect: str
    settings: dict
    installed: Any
    publish: Callable[[str], Any]
    seeded: Any


def fl33t_setup(fleetsim: Any) -> Setup:
    seeder = fleetsim.fl33t
    team = seeder.team()
    train = seeder.train(team)
    first = seeder.build(team, train, "1.0.0", released=True, data=b"\x01" * FIRMWARE)
    fleet = seeder.fleet(team, train, "prod")

    def publish(version: str) -> dict:
        return seeder.build(team, train, version, released=True,
                            data=(version.encode() * FIRMWARE)[:FIRMWARE])

    return Setup("fl33t", {"team": team, "fleet": fleet}, first, publish,
                 {"team": team, "train": train, "fleet": fleet})


def memfault_setup(fleetsim: Any) -> Setup:
    seeder = fleetsim.memfault
    project = seeder.project()
    seeder.hardware_version(project, "evt")
    seeder.hardware_version(project, "dvt")
    for hw in ("evt", "dvt"):
        seeder.release(project, "1.0.0", b"\x01" * FIRMWARE, hardware_version=hw)

    def publish(version: str) -> dict:
        for hw in ("evt", "dvt"):
            release = seeder.release(project, version, (version.encode() * FIRMWARE)[:FIRMWARE],
                                     hardware_version=hw)
        seeder.deploy(project, version)
        return release

    return Setup("memfault", {"project": project}, "1.0.0", publish, {"project": project})


SETUPS = {"fl33t": fl33t_setup, "memfault": memfault_setup}


@pytest.fixture(params=sorted(SETUPS))
def fleet(request: pytest.FixtureRequest, fleetsim: Any) -> Setup:
    """Each dialect's fleet, one test per dialect."""
    return SETUPS[request.param](fleetsim)


@pytest.fixture
def mf_fleet(fleetsim: Any) -> Setup:
    return memfault_setup(fleetsim)


@pytest.fixture
def fl33t_fleet(fleetsim: Any) -> Setup:
    return fl33t_setup(fleetsim)


def spawn(sim: Any, setup: Setup, count: int, **kwargs: Any) -> Any:
    kwargs.setdefault("profile", "fast")
    return sim.spawn(setup.dialect, count, installed=setup.installed, **setup.settings, **kwargs)


def events(sim: Any, serial: str) -> list[str]:
    return [event for _, event, _ in sim.history(serial)]
