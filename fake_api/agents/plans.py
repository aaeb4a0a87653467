"""Failure plans: what goes wrong for a simulated device, decided from the seed.

A :class:`FailurePlan` describes one way an update goes wrong (or a link is slow) and which
devices it hits: a ``fraction`` of the group (picked by a stable hash of the seed and the serial,
so the same devices are hit in every run), optionally only on one ``hardware`` revision and only
while updating to one ``release``. A device takes the **first** plan that applies to the update
in hand, as fault rules do. Server-side fault rules (``cloud.faults``) act on the HTTP exchanges
independently, so both combine.

Agent profiles (:data:`PROFILES`) hold the timing knobs that are not failures: poll interval and
jitter, back-off, install and reboot times, the link speed; the presets copy the defaults of real
update clients (rauc-hawkbit-updater, NervesHub) so a simulated fleet retries the way those do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Optional, Sequence

from ..core.rollout import bucket

PHASES = ("download", "install", "reboot")


@dataclass(frozen=True)
class FailurePlan:
    """One failure mode and who it hits. Every knob is off by default.

    Download: ``drop_at`` (fraction of the file where the connection drops) for the first
    ``drops`` attempts; ``stall_at`` (the link stops delivering there; the device aborts after
    the profile's ``stall_timeout``) for the first ``stalls`` attempts; ``resume`` (ask for the
    rest with ``Range`` when the server serves ranges) else start again; ``corrupt`` (this many
    attempts arrive with a flipped byte: hash mismatch). The device gives up after the
    profile's ``download_attempts``.

    Install: ``install_fails`` (the installer fails; the device stays on its old release);
    ``boot_loop`` (the new image crashes this many boots, then the bootloader rolls back).

    Connectivity: ``offline_during`` (``download``/``install``/``reboot``) for ``offline_for``
    seconds, or ``offline_for`` seconds from the device's first wake at or after ``offline_at``
    seconds since spawn; ``link_bps``
    (bytes per second, on the virtual clock); ``clock_skew`` (seconds the device's own clock is
    off: its reports carry its wrong time).

    Targeting: ``fraction`` of the group, ``hardware`` revision, ``release`` version.
    """

    drop_at: Optional[float] = None
    drops: int = 1
    stall_at: Optional[float] = None
    stalls: int = 1
    resume: bool = True
    corrupt: int = 0
    install_fails: bool = False
    boot_loop: int = 0
    offline_during: Optional[str] = None
    offline_at: Optional[float] = None
    offline_for: float = 0.0
    link_bps: Optional[float] = None
    clock_skew: float = 0.0
    fraction: float = 1.0
    hardware: Optional[str] = None
    release: Optional[str] = None
    name: str = ""

    def __post_init__(self) -> None:
        for knob in ("drop_at", "stall_at"):
            value = getattr(self, knob)
            if value is not None and not 0.0 <= value < 1.0:
                raise ValueError(f"{knob} is a fraction of the file in [0, 1), not {value!r}")
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be within [0, 1], not {self.fraction!r}")
        if self.offline_during is not None and self.offline_during not in PHASES:
            raise ValueError(f"offline_during must be one of {', '.join(PHASES)}")
        if (self.offline_during or self.offline_at is not None) and self.offline_for <= 0:
            raise ValueError("an offline plan needs offline_for > 0 seconds")
        if self.link_bps is not None and self.link_bps <= 0:
            raise ValueError("link_bps must be positive")
        if min(self.drops, self.stalls, self.corrupt, self.boot_loop) < 0:
            raise ValueError("counts (drops, stalls, corrupt, boot_loop) must not be negative")

    def hits(self, seed: int, serial: str, hardware: str, position: int) -> bool:
        """Whether this device is in the plan's group (release aside): stable per seed."""
        if self.hardware is not None and self.hardware != hardware:
            return False
        if self.fraction >= 1.0:
            return True
        return bucket(serial, f"fleetsim-plan:{seed}:{position}:{self.name}") < self.fraction * 100

    def applies_to(self, version: Optional[str]) -> bool:
        return self.release is None or self.release == version

    def describe(self) -> str:
        defaults = FailurePlan()
        return self.name or ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)) or "no failure"

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


NO_PLAN = FailurePlan(name="none")


def plans_for(plans: Sequence[FailurePlan], seed: int, serial: str,
              hardware: str) -> tuple[FailurePlan, ...]:
    """The plans (in order) whose group this device belongs to."""
    return tuple(p for i, p in enumerate(plans) if p.hits(seed, serial, hardware, i))


def plan_for_update(plans: Sequence[FailurePlan], version: Optional[str]) -> FailurePlan:
    """The first of a device's plans that applies to an update to ``version``."""
    return next((p for p in plans if p.applies_to(version)), NO_PLAN)


@dataclass(frozen=True)
class Profile:
    """Timing of a device (seconds of virtual time, bytes per second)."""

    poll_interval: float = 300.0
    jitter: float = 0.1
    start_jitter: float = 60.0
    backoff_base: float = 15.0
    backoff_max: float = 3600.0
    retry_wait: float = 30.0
    stall_timeout: float = 60.0
    download_attempts: int = 5
    install_time: float = 30.0
    reboot_time: float = 20.0
    link_bps: Optional[float] = None
    update_attempts: int = 1

    def with_(self, **changes: Any) -> Profile:
        return replace(self, **changes)


#: Presets. ``rauc``: rauc-hawkbit-updater's retry_wait 300 s and low-speed abort after 60 s;
#: ``nerves``: NervesHubLink's downloader (15 s between retries, 10 disconnects, 30 kB/s worst
#: case link). ``fast``: short intervals for tests and the demo.
PROFILES: dict[str, Profile] = {
    "default": Profile(),
    "rauc": Profile(retry_wait=300.0, stall_timeout=60.0, backoff_base=300.0),
    "nerves": Profile(retry_wait=15.0, download_attempts=10, link_bps=30_000.0),
    "fast": Profile(poll_interval=60.0, start_jitter=10.0, backoff_base=5.0, backoff_max=300.0,
                    retry_wait=5.0, stall_timeout=20.0, install_time=10.0, reboot_time=5.0),
}


def profile(value: Any) -> Profile:
    if isinstance(value, Profile):
        return value
    if value is None:
        return PROFILES["default"]
    try:
        return PROFILES[value]
    except KeyError:
        raise ValueError(f"unknown agent profile {value!r}; presets: {', '.join(PROFILES)}") from None
