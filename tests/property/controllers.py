"""The canary controllers of docs/property-testing.md: what a team writes on top of the vendor's
official client, and the machines that test them."""

from __future__ import annotations

from fake_api.agents import PROFILES
from pytest_fleetsim.rollout import INVARIANTS, RolloutMachine

#: Devices that check in every 30 minutes and take 5 minutes to flash and reboot.
SLOW_FLASH = PROFILES["fast"].with_(poll_interval=1800.0, install_time=240.0, reboot_time=60.0)


class MemfaultCanary(RolloutMachine):
    """Staged rollout with memfault-cli: deploy the first stage; at each control step, halt
    (``--deactivate``) when the reported failure share passes the threshold, else widen to the
    next stage once new reports arrived since the last one."""

    dialect = "memfault"
    checks = frozenset(INVARIANTS)
    profile = SLOW_FLASH
    convergence_bound = 6 * 3600.0

    def on_publish(self, version: str) -> None:
        self.stages = getattr(self, "stages", {})
        self.stages[version] = 0
        self.seen_reports = getattr(self, "seen_reports", {})
        self.seen_reports[version] = 0
        self.stage_started = getattr(self, "stage_started", {})
        self.stage_started[version] = self.sim.now
        self.deploy(version, self.plan.stages[0])

    def deploy(self, version: str, percent: int) -> None:
        self.client("deploy-release", "--release-version", version, "--cohort", "default",
                    "--rollout-percent", str(percent), check=True)

    def ready(self, version: str, reports: int) -> bool:
        """Widen on new reports; or when a whole stage passed with nobody updating (the staged
        devices cannot take this release, e.g. no artifact for their hardware)."""
        health = self.health(version)
        quiet = not (health["updating"] or health["offline"])
        waited = self.sim.now - self.stage_started[version] >= self.plan.stage_seconds
        return reports > self.seen_reports[version] or (quiet and waited)

    def control(self) -> None:
        for version, stage in list(getattr(self, "stages", {}).items()):
            if version in self.halted or self.sim.now == self.stage_started[version]:
                continue  # halted, or deployed this very moment: judge at the next tick
            health = self.health(version)
            reports = health["installed"] + health["failed"]
            if reports and health["failed"] / reports > self.plan.threshold:
                self.client("deploy-release", "--release-version", version, "--cohort",
                            "default", "--deactivate", check=True)
                self.halt(version)
            elif stage + 1 < len(self.plan.stages) and self.ready(version, reports):
                self.stages[version] = stage + 1
                self.seen_reports[version] = reports
                self.stage_started[version] = self.sim.now
                self.deploy(version, self.plan.stages[stage + 1])


class MemfaultCanaryPromotesBlind(MemfaultCanary):
    """The planted bug: it widens on the clock, whether or not any device has reported."""

    checks = frozenset({"evidence"})

    def ready(self, version: str, reports: int) -> bool:
        return True


class SmallBlind(MemfaultCanaryPromotesBlind):
    """The planted bug on a smaller search space (one hardware revision, up to 6 devices, one
    release), so that CI finds and shrinks it in seconds."""

    max_devices = 6
    hardware = ("evt",)
    max_releases = 1



class Fl33tCanary(RolloutMachine):
    """fl33t has no percentages. With the ``fl33t`` client, per train: a ``canary`` fleet
    pinned to the new build gets the first stage's share of the registered devices; once a
    canary device runs the build and none failed, the build is released (``released=True``)
    and the production fleets auto-update; a failed canary device halts the promotion."""

    dialect = "fl33t"
    checks = frozenset({"targets", "hardware", "halted", "no_downgrade", "converges"})
    hardware = ("evt", "dvt")
    profile = SLOW_FLASH
    convergence_bound = 6 * 3600.0

    def on_publish(self, version: str) -> None:
        self.pending = getattr(self, "pending", {})
        for (older, hw), (_, canary_id) in list(self.pending.items()):
            # superseded: an older canary would pull devices already on a newer build back
            # down to its pinned build (the machine found that downgrade)
            self.empty_canary(hw, canary_id)
            del self.pending[(older, hw)]
        for hw, train in self.world.trains.items():
            build = self.world.builds.get((version, hw))
            if build is not None:
                canary = self.client.Fleet(name=f"canary-{hw}-{version}",
                                           train_id=train["train_id"],
                                           build_id=build["build_id"]).create()
                self.pending[(version, hw)] = (build["build_id"], canary.fleet_id)

    def fill_canary(self, hw: str, canary_id: str) -> None:
        """Move registered production devices into the canary until it holds its share."""
        production = self.world.fleets[hw]["fleet_id"]
        waiting = sorted(d.device_id for d in self.client.list_devices(fleet_id=production))
        inside = len(list(self.client.list_devices(fleet_id=canary_id)))
        share = max(1, (len(waiting) + inside) * self.plan.stages[0] // 100)
        for device_id in waiting[:max(0, share - inside)]:
            device = self.client.get_device(device_id)
            device.fleet_id = canary_id
            device.update()

    def empty_canary(self, hw: str, canary_id: str) -> None:
        """Promoted or halted: the canary devices go back to the auto-updating production
        fleet. Left pinned, they miss every later release after a promotion, and keep being
        offered a halted build: the machine found both."""
        production = self.world.fleets[hw]["fleet_id"]
        for listed in self.client.list_devices(fleet_id=canary_id):
            device = self.client.get_device(listed.device_id)
            device.fleet_id = production
            device.update()

    def control(self) -> None:
        for (version, hw), (build_id, canary_id) in list(getattr(self, "pending", {}).items()):
            health = self.health(version)
            if health["failed"]:
                self.halt(version)  # first, so the machine holds the fake to it from now on
                self.empty_canary(hw, canary_id)  # else the pinned canary keeps offering it
                del self.pending[(version, hw)]
            elif health["installed"]:
                build = self.client.get_build(build_id)
                build.released = True
                build.update()
                self.empty_canary(hw, canary_id)
                del self.pending[(version, hw)]
            else:
                self.fill_canary(hw, canary_id)
