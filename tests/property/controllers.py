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

