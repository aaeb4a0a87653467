"""One adapter per dialect for :class:`~pytest_fleetsim.rollout.RolloutMachine`: seed the
vendor's state for a fleet, publish releases, and read back what the server would offer.

The machine is vendor-neutral; a ``World`` speaks the vendor's vocabulary. Adding balena is one
more subclass here (fleet + releases, ``should_be_running__release`` as the target, pins) and one
line in :data:`WORLDS`.

The readers (``targets``, ``percent``, ``active``, ``right_hardware``) look at the fake's
models directly, never through HTTP: they are the invariants' view of the truth, and must not
show up in the request journal or trip the machine's own fault rules.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any, Optional

from .strategies import FleetSpec, ReleaseSpec


def firmware(version: str, hardware: str, size: int) -> bytes:
    """Distinct bytes per version and hardware revision (so a wrong artifact is detectable)."""
    return (f"{version}/{hardware}|".encode() * (size // 8 + 1))[:size]


class World:
    """Base class: holds the fake handle and the fleet spec."""

    dialect = ""

    def __init__(self, fleetsim: Any, fleet: FleetSpec) -> None:
        self.fleetsim = fleetsim
        self.fleet = fleet
        self.published: dict[str, ReleaseSpec] = {}

    def spawn_settings(self, hardware: str) -> dict[str, Any]:
        raise NotImplementedError

    def publish(self, release: ReleaseSpec) -> None:
        raise NotImplementedError

    def targets(self, agent: Any) -> set[str]:
        """Versions the server's current configuration makes available to this device."""
        raise NotImplementedError

    def percent(self, version: str) -> float:
        """The share of the fleet (0..100) the rollout of ``version`` currently reaches."""
        raise NotImplementedError

    def active(self, version: str) -> bool:
        """Whether any device may currently be offered ``version``."""
        return self.percent(version) > 0

    def right_hardware(self, agent: Any, offer: Any) -> bool:
        """Whether ``offer`` is the artifact built for this device's hardware revision."""
        raise NotImplementedError

    def pinned(self, agent: Any) -> bool:
        """Whether the device's group is pinned to one release (rollbacks allowed)."""
        return False


class Fl33tWorld(World):
    """fl33t: one train per hardware revision (fl33t has no hardware versions; a train is the
    firmware line of one product), with an auto-updating ``production-<hw>`` fleet on each.
    Published builds start unreleased: the controller decides (a canary fleet pinned to the
    build, then ``released=True``)."""

    dialect = "fl33t"

    def __init__(self, fleetsim: Any, fleet: FleetSpec) -> None:
        super().__init__(fleetsim, fleet)
        seeder = fleetsim.fl33t
        self.backend = seeder.backend
        self.team = seeder.team()
        self.trains: dict[str, dict] = {}
        self.fleets: dict[str, dict] = {}
        self.builds: dict[tuple[str, str], dict] = {}
        for hw in fleet.revisions:
            train = self.trains[hw] = seeder.train(self.team, hw)
            self.builds[(fleet.installed, hw)] = seeder.build(
                self.team, train, fleet.installed, released=True,
                data=firmware(fleet.installed, hw, 2048))
            self.fleets[hw] = seeder.fleet(self.team, train, f"production-{hw}")
        self._train_hw = {t["train_id"]: hw for hw, t in self.trains.items()}

    def spawn_settings(self, hardware: str) -> dict[str, Any]:
        return {"team": self.team, "fleet": self.fleets[hardware],
                "installed": self.builds[(self.fleet.installed, hardware)]}

    def publish(self, release: ReleaseSpec) -> None:
        for hw in release.hardware:
            if hw in self.trains and (release.version, hw) not in self.builds:
                self.builds[(release.version, hw)] = self.fleetsim.fl33t.build(
                    self.team, self.trains[hw], release.version, released=False,
                    data=firmware(release.version, hw, release.size))
        self.published[release.version] = release

    def client(self) -> Any:
        """The official ``fl33t.Fl33tClient`` (admin token), on the fake's live server."""
        import fl33t

        return fl33t.Fl33tClient(self.team.team_id, self.team.tokens["admin"],
                                 base_uri=self.fleetsim.url)

    def _fleet_of(self, agent: Any) -> Optional[dict]:
        team = self.team.team_id
        device = self.backend.devices.get(f"{team}/{agent.identity.serial}")
        if device is None:
            return None
        return self.backend.fleets.get(f"{team}/{device['fleet_id']}")

    def targets(self, agent: Any) -> set[str]:
        fleet = self._fleet_of(agent)
        target = self.backend._target(fleet) if fleet is not None else None
        return {str(target["version"])} if target else set()

    def percent(self, version: str) -> float:
        counts = self._fleet_counts()
        reached = sum(n for fleet_id, n in counts.items()
                      if (t := self._target_of(fleet_id)) is not None and str(t["version"]) == version)
        total = sum(counts.values())
        return 100.0 * reached / total if total else 0.0

    def _fleet_counts(self) -> dict[str, int]:
        team = self.team.team_id
        out: dict[str, int] = {}
        for device in self.backend.devices.values():
            if device.get("team_id") == team:
                out[device["fleet_id"]] = out.get(device["fleet_id"], 0) + 1
        return out

    def _target_of(self, fleet_id: str) -> Optional[dict]:
        fleet = self.backend.fleets.get(f"{self.team.team_id}/{fleet_id}")
        return self.backend._target(fleet) if fleet is not None else None

    def right_hardware(self, agent: Any, offer: Any) -> bool:
        build = self.backend.builds.get(f"{self.team.team_id}/{offer.ref}")
        return build is not None and self._train_hw.get(build["train_id"]) == agent.identity.hardware

    def pinned(self, agent: Any) -> bool:
        fleet = self._fleet_of(agent)
        return bool(fleet and fleet.get("build_id"))


class MemfaultCliRunner:
    """Runs memfault-cli commands in process (its click ``main``) against the fake's live
    server: the same command line as ``memfault ...`` without a subprocess (a few ms instead of
    ~0.5 s). Returns ``(exit code, output)``; ``check=True`` raises on a non-zero exit."""

    def __init__(self, project: Any, url: str) -> None:
        self.project = project
        self.url = url
        self.calls: list[str] = []

    def argv(self, *args: str) -> list[str]:
        p = self.project
        return ["--url", self.url, "--org", p.org, "--project", p.project,
                "--org-token", p.org_token, *map(str, args)]

    def __call__(self, *args: str, check: bool = False) -> tuple[int, str]:
        from memfault_cli.cli import cli

        self.calls.append(" ".join(map(str, args)))
        out = io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                cli.main(self.argv(*args), standalone_mode=False, prog_name="memfault")
            except SystemExit as exc:
                code = int(exc.code or 0)
            except Exception as exc:  # click errors, the CLI's own exceptions
                code = 1
                out.write(f"{type(exc).__name__}: {exc}")
        if check and code:
            raise RuntimeError(f"memfault {' '.join(map(str, args))} exited {code}:\n"
                               f"{out.getvalue()}")
        return code, out.getvalue()


class MemfaultWorld(World):
    """Memfault: one project, a hardware version per revision, devices in cohort ``default``.
    Published releases carry one artifact per hardware revision and are not deployed: the
    controller deploys them (``memfault deploy-release``)."""

    dialect = "memfault"

    def __init__(self, fleetsim: Any, fleet: FleetSpec) -> None:
        super().__init__(fleetsim, fleet)
        seeder = fleetsim.memfault
        self.backend = seeder.backend
        self.project = seeder.project()
        for hw in fleet.revisions:
            seeder.release(self.project, fleet.installed, firmware(fleet.installed, hw, 2048),
                           hardware_version=hw)

    def spawn_settings(self, hardware: str) -> dict[str, Any]:
        return {"project": self.project, "installed": self.fleet.installed}

    def publish(self, release: ReleaseSpec) -> None:
        existing = self.backend.full_release(self.project.record, release.version)
        have = {a["hardware_version"] for a in self.backend.release_artifacts(existing)} \
            if existing else set()
        for hw in release.hardware:
            if hw not in have:
                self.fleetsim.memfault.release(self.project, release.version,
                                               firmware(release.version, hw, release.size),
                                               hardware_version=hw)
        self.published[release.version] = release

    def client(self) -> MemfaultCliRunner:
        """memfault-cli, in process (see :class:`MemfaultCliRunner`)."""
        return MemfaultCliRunner(self.project, self.fleetsim.url)

    def _deployments(self, version: str) -> list[dict]:
        release = self.backend.full_release(self.project.record, version)
        if release is None:
            return []
        return [d for d in self.backend.deployments.values()
                if d["release_id"] == release["id"] and d["status"] in ("in_progress", "done")]

    def targets(self, agent: Any) -> set[str]:
        b, p = self.backend, self.project.record
        device = b.device(p, agent.identity.serial)
        if device is None:
            return set()
        cohort = b.cohort(p, device["cohort"])
        out = set()
        for deployment in b.active_deployments(p["id"], cohort["id"]) if cohort else ():
            release = b.releases.get(str(deployment["release_id"]))
            staged = deployment["type"] == "normal" or deployment.get("staged", {}).get(
                agent.identity.serial, False)
            if release is not None and staged and any(
                    a["hardware_version"] == agent.identity.hardware
                    for a in b.release_artifacts(release)):
                out.add(str(release["version"]))
        return out

    def percent(self, version: str) -> float:
        return float(max((100 if d["type"] == "normal" else d["rollout_percent"]
                          for d in self._deployments(version)), default=0))

    def right_hardware(self, agent: Any, offer: Any) -> bool:
        release = self.backend.full_release(self.project.record, offer.version)
        if release is None:
            return False
        return any(a["sha256"] == offer.sha256 and a["hardware_version"] == agent.identity.hardware
                   for a in self.backend.release_artifacts(release))


#: dialect name -> its world (balena's device side is the next entry).
WORLDS: dict[str, type[World]] = {"fl33t": Fl33tWorld, "memfault": MemfaultWorld}
