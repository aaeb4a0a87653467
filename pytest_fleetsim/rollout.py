"""``RolloutMachine``: a hypothesis state machine that owns a fake cloud and a simulated fleet.

Subclass it, write your rollout controller in :meth:`RolloutMachine.control` (it runs every
``control_every`` virtual seconds, and once after each publish, through the vendor's official
client: ``self.client``), switch on the invariants you want, and run it with
``TestMyRollout = MyMachine.TestCase``. Hypothesis then searches for the fleet (size, hardware
mix), the failure plans, server faults, offline windows and timing that break the controller
and shrinks them; the failure report tells the shrunk run as a rollout story (fleet, plans,
every step and what each device saw) followed by the fake's request journal.

Per example the machine resets the process's one fake (about 80 microseconds; see
:mod:`pytest_fleetsim.factory`) and spawns a fresh :class:`fake_api.sim.FleetSimulation`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fake_api.agents.plans import PROFILES, FailurePlan, Profile
from fake_api.core.rollout import release_key

from .factory import FleetsimFactory, shared_factory
from .strategies import (
    FaultSpec,
    FleetSpec,
    RolloutPlan,
    clock_advances,
    failure_plans,
    fault_rules,
    fleets,
    releases,
    rollout_plans,
    seeds,
    version_sequences,
)
from .worlds import WORLDS, World

#: The built-in invariants (switch them on with ``checks = {...}`` in a subclass).
INVARIANTS = {
    "targets": "no device runs or is offered a release outside the current targets",
    "monotonic": "a staged percentage never shrinks (until the rollout is halted)",
    "halted": "a halted rollout offers nothing new (no device is offered it for the first time)",
    "hardware": "no device is offered an artifact built for another hardware version",
    "converges": "once faults stop, every healthy device converges within a bound of virtual time",
    "no_downgrade": "no device downgrades unless its group is pinned",
    "evidence": "a rollout never widens while devices were offered the release since the last "
                "stage and none of them has reported",
    "threshold": "a rollout never widens while the reported failure share is above the plan's "
                 "threshold",
}


class RolloutViolation(AssertionError):
    """An invariant failed; the message is the rollout story and the request journal."""


class RolloutMachine(RuleBasedStateMachine):
    """Base class; see the module docstring. Class attributes to override:

    ``dialect``, ``checks`` (names of invariants from :data:`INVARIANTS`), ``min_devices`` /
    ``max_devices``, ``hardware`` (revisions to draw from), ``max_releases``, ``profile``
    (device timing), ``control_every`` (seconds between controller runs),
    ``convergence_bound`` (seconds), ``journal_lines`` (in the failure report).
    Methods to override: :meth:`control`, :meth:`on_publish`, and the strategy hooks
    :meth:`fleet_strategy`, :meth:`plan_strategy`, :meth:`fault_strategy`,
    :meth:`rollout_strategy`.
    """

    dialect: ClassVar[str] = "memfault"
    checks: ClassVar[frozenset[str]] = frozenset()
    min_devices: ClassVar[int] = 1
    max_devices: ClassVar[int] = 10
    hardware: ClassVar[tuple[str, ...]] = ("evt", "dvt")
    max_releases: ClassVar[int] = 2
    profile: ClassVar[Profile] = PROFILES["fast"].with_(poll_interval=300.0, start_jitter=30.0)
    control_every: ClassVar[float] = 600.0
    convergence_bound: ClassVar[float] = 12 * 3600.0
    journal_lines: ClassVar[int] = 30
    factory: ClassVar[Optional[FleetsimFactory]] = None

    def __init__(self) -> None:
        super().__init__()
        unknown = set(self.checks) - set(INVARIANTS)
        if unknown:
            raise ValueError(f"unknown invariant(s) {sorted(unknown)}; built in: {sorted(INVARIANTS)}")
        self.fleetsim: Any = None
        self.world: Optional[World] = None
        self.sim: Any = None
        self.story: list[str] = []
        self.violations: list[str] = []
        self.halted: set[str] = set()
        self.offered: dict[str, set[str]] = {}
        self.ever_targeted: set[str] = set()
        self.peak: dict[str, float] = {}
        self.running: dict[str, str] = {}
        self.unhealthy: set[str] = set()
        self.fault_ids: list[int] = []
        self.versions: list[str] = []
        self.released: list[str] = []
        self.plan: RolloutPlan = RolloutPlan()
        self.last_control = 0.0
        self._seen: dict[str, int] = {}
        self._plans_given = 0
        self._offers_since: dict[str, int] = {}
        self._reports_at_widen: dict[str, int] = {}

    # -- strategy hooks ------------------------------------------------------------------------

    def fleet_strategy(self) -> st.SearchStrategy[FleetSpec]:
        return fleets(self.dialect, min_size=self.min_devices, max_size=self.max_devices,
                         hardware=self.hardware)

    def plan_strategy(self) -> st.SearchStrategy[FailurePlan]:
        return failure_plans(self.hardware)

    def fault_strategy(self) -> st.SearchStrategy[FaultSpec]:
        return fault_rules(self.dialect)

    def rollout_strategy(self) -> st.SearchStrategy[RolloutPlan]:
        return rollout_plans()

    # -- the user's controller ---------------------------------------------------------------

    def control(self) -> None:
        """Your controller's periodic step (default: nothing). Use ``self.client``,
        ``self.health(version)``, ``self.plan``, ``self.released``, :meth:`halt`."""

    def on_publish(self, version: str) -> None:
        """Called after the machine published ``version`` (default: nothing)."""

    @property
    def client(self) -> Any:
        """The vendor's official client on the fake (fl33t client; memfault-cli in process)."""
        client = self.__dict__.get("_client")
        if client is None:
            client = self.__dict__["_client"] = self.world.client()  # type: ignore[union-attr]
        return client

    def health(self, version: str) -> dict[str, int]:
        """What monitoring shows for ``version`` now: devices ``installed`` (running it and
        reported), ``failed`` (reported a failed update), ``updating``, ``offline``."""
        sim = self.sim
        return {"installed": sim.count(version, "installed"), "failed": sim.count(version, "failed"),
                "updating": sim.count(version, "downloading") + sim.count(version, "installing"),
                "offline": sim.count(version, "offline")}

    def halt(self, version: str) -> None:
        """Record that the controller halted ``version`` (call it after halting through the
        client; the ``halted`` invariant then holds the fake to it)."""
        if version not in self.halted:
            self.halted.add(version)
            self.say(f"controller halted {version}")

    def say(self, text: str) -> None:
        """Add a line to the rollout story (stamped with virtual time)."""
        now = self.sim.now - self.sim.start if self.sim is not None else 0.0
        self.story.append(f"  t+{_duration(now):>7}  {text}")

    # -- setup ---------------------------------------------------------------------------------

    @initialize(data=st.data())
    def setup(self, data: Any) -> None:
        seed = data.draw(seeds(), label="seed")
        fleet = data.draw(self.fleet_strategy(), label="fleet")
        self.versions = data.draw(version_sequences(self.dialect, min_size=2,
                                                       max_size=self.max_releases + 1),
                                  label="versions")
        from dataclasses import replace

        fleet = replace(fleet, installed=self.versions[0])
        self.plan = data.draw(self.rollout_strategy(), label="rollout plan")
        factory = type(self).factory or shared_factory()
        self.fleetsim = factory.open(seed=seed)
        self.world = WORLDS[self.dialect](self.fleetsim, fleet)
        from fake_api.sim import FleetSimulation

        self.sim = FleetSimulation(self.fleetsim.app, sample_every=600.0)
        self.last_control = self.sim.now
        for hw, count in fleet.hardware:
            group = self.sim.spawn(self.dialect, count, hardware=hw, profile=self.profile,
                                   prefix=f"SN{hw[:1].upper()}", **self.world.spawn_settings(hw))
            self._record_offers(group)
        for agent in self.sim.agents:
            self.running[agent.identity.serial] = str(agent.version)
        self.ever_targeted.add(self.versions[0])
        self.story = [f"fleet: {fleet.describe()}; seed {seed}",
                      f"rollout plan: {self.plan.describe()}",
                      f"versions to publish: {', '.join(self.versions[1:])}"]

    def _record_offers(self, group: Any) -> None:
        protocol = group.protocol
        poll = protocol.poll

        def recorded(device: Any, poll: Any = poll) -> Any:
            reply = poll(device)
            if reply.offer is not None:
                self._offered(device, reply.offer)
            return reply

        protocol.poll = recorded

    def _offered(self, agent: Any, offer: Any) -> None:
        serial, version = agent.identity.serial, offer.version
        first = version not in self.offered.setdefault(serial, set())
        self.offered[serial].add(version)
        if first:
            self._offers_since[version] = self._offers_since.get(version, 0) + 1
            self.say(f"{serial} ({agent.identity.hardware}, on {agent.version}) offered {version}")
        world = self.world
        on = self.checks
        if "targets" in on and version not in world.targets(agent):
            self.violations.append(f"{serial} was offered {version}, which is not among its "
                                   f"current targets {sorted(world.targets(agent))}")
        if "hardware" in on and not world.right_hardware(agent, offer):
            self.violations.append(f"{serial} ({agent.identity.hardware}) was offered an "
                                   f"artifact of {version} built for another hardware version")
        if "halted" in on and first and version in self.halted:
            self.violations.append(f"{serial} was offered {version} for the first time after "
                                   "the rollout was halted")

    # -- rules ---------------------------------------------------------------------------------

    @precondition(lambda self: len(self.released) < len(self.versions) - 1)
    @rule(data=st.data())
    def publish(self, data: Any) -> None:
        """Publish the next version (artifacts for a subset of the hardware revisions)."""
        version = self.versions[len(self.released) + 1]
        spec = data.draw(releases(self.dialect, self.world.fleet.revisions,  # type: ignore
                                     version=st.just(version)), label="release")
        self.world.publish(spec)  # type: ignore[union-attr]
        self.released.append(version)
        self.say(f"publish {version} (artifacts for {', '.join(spec.hardware)})")
        self._control(publishing=version)

    @rule(seconds=clock_advances())
    def advance(self, seconds: float) -> None:
        """Let virtual time pass; the controller runs every ``control_every`` seconds."""
        self.say(f"advance {_duration(seconds)}")
        self._run(seconds)

    @rule(data=st.data())
    def fail_devices(self, data: Any) -> None:
        """Give a failure plan to the devices it hits (it goes before their other plans)."""
        plan = data.draw(self.plan_strategy(), label="failure plan")
        hit = []
        for agent in self.sim.agents:
            if plan.hits(self.sim.seed, agent.identity.serial, agent.identity.hardware,
                         self._plans_given):
                agent.plans = (plan,) + tuple(agent.plans)
                self.unhealthy.add(agent.identity.serial)
                hit.append(agent.identity.serial)
        self._plans_given += 1
        self.say(f"failure plan [{plan.describe()}] hits {len(hit)} device(s)"
                 + (f": {', '.join(hit[:8])}{' ...' if len(hit) > 8 else ''}" if hit else ""))

    @rule(data=st.data())
    def inject_fault(self, data: Any) -> None:
        spec = data.draw(self.fault_strategy(), label="fault")
        rule_ = self.fleetsim.faults.add(**spec.rule())
        self.fault_ids.append(rule_.id)
        self.say(f"server fault #{rule_.id}: {spec.describe()}")

    @precondition(lambda self: bool(self.fault_ids))
    @rule()
    def lift_fault(self) -> None:
        fault_id = self.fault_ids.pop(0)
        self.fleetsim.faults.remove(fault_id)
        self.say(f"server fault #{fault_id} lifted")

    @rule(data=st.data())
    def take_offline(self, data: Any) -> None:
        """One device loses its connection for a while, then comes back online by itself."""
        agent = data.draw(st.sampled_from(self.sim.agents), label="device")
        seconds = data.draw(st.sampled_from((600.0, 3600.0, 60.0)), label="offline for")
        agent.offline_until = max(agent.offline_until, self.sim.now + seconds)
        self.say(f"{agent.identity.serial} offline for {_duration(seconds)}")

    # -- running -------------------------------------------------------------------------------

    def _run(self, seconds: float) -> None:
        end = self.sim.now + seconds
        while True:
            due = self.last_control + self.control_every
            if due > end:
                break
            self.sim.run(limit=due - self.sim.now)
            self._control()
        self.sim.run(limit=end - self.sim.now)
        self._observe()

    def _control(self, publishing: Optional[str] = None) -> None:
        self.last_control = self.sim.now
        before = {v: self.world.percent(v) for v in self.released}  # type: ignore[union-attr]
        reports = {v: self._reports(v) for v in self.released}
        if publishing is not None:
            self.on_publish(publishing)
        self.control()
        for version in self.released:
            now = self.world.percent(version)  # type: ignore[union-attr]
            if now != before[version]:
                self.say(f"controller: {version} at {now:g}% (was {before[version]:g}%)")
            if now > 0:
                self.ever_targeted.add(version)
            if now > before[version] and before[version] > 0:
                self._check_widen(version, reports[version])
            if now > 0 and before[version] == 0:
                self._reports_at_widen[version] = reports[version][0]
                self._offers_since[version] = 0
        self._observe()

    def _reports(self, version: str) -> tuple[int, int]:
        h = self.health(version)
        return h["installed"] + h["failed"], h["failed"]

    def _check_widen(self, version: str, reports: tuple[int, int]) -> None:
        total, failed = reports
        offers = self._offers_since.get(version, 0)
        if "evidence" in self.checks and offers and total <= self._reports_at_widen.get(version, 0):
            self.violations.append(f"the rollout of {version} widened while {offers} device(s) "
                                   "had been offered it since the last stage and none had "
                                   "reported yet")
        if "threshold" in self.checks and total and failed / total > self.plan.threshold:
            self.violations.append(f"the rollout of {version} widened with {failed}/{total} "
                                   f"reports failed (threshold {self.plan.threshold:.0%})")
        self._reports_at_widen[version] = total
        self._offers_since[version] = 0

    def _observe(self) -> None:
        """Story lines for what devices did since the last look; the device-side checks."""
        for agent in self.sim.agents:
            serial = agent.identity.serial
            history = agent.history or []
            start = self._seen.get(serial, 0)
            for _, event, detail in history[start:]:
                if event in ("booted", "install_failed", "boot_loop", "rolled_back",
                             "hash_mismatch", "reported", "offline", "online"):
                    self.say(f"{serial} {event}{' ' + detail if detail else ''}")
            self._seen[serial] = len(history)
            before, now = self.running.get(serial), str(agent.version)
            if now != before:
                if ("no_downgrade" in self.checks and before is not None
                        and release_key(now) < release_key(before)
                        and not self.world.pinned(agent)):  # type: ignore[union-attr]
                    self.violations.append(f"{serial} downgraded from {before} to {now}")
                if "targets" in self.checks and now not in self.ever_targeted:
                    self.violations.append(f"{serial} runs {now}, which was never a target")
                self.running[serial] = now

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def no_violations(self) -> None:
        if self.violations:
            self._fail(self.violations[0])

    @invariant()
    def percent_never_shrinks(self) -> None:
        if "monotonic" not in self.checks or self.world is None:
            return
        for version in self.released:
            now = self.world.percent(version)
            peak = self.peak.get(version, 0.0)
            if now < peak and version not in self.halted and now > 0:
                self._fail(f"the staged share of {version} shrank from {peak:g}% to {now:g}%")
            if now == 0 and peak > 0 and version not in self.halted:
                self.halted.add(version)  # deactivated: a halt, whoever did it
                self.say(f"{version} no longer offered: counted as halted")
            self.peak[version] = max(peak, now)

    def teardown(self) -> None:
        try:
            if self.sim is not None and "converges" in self.checks and not self.violations:
                self._converge()
        finally:
            if self.sim is not None:
                self.sim.close()  # also stops following the clock
            if self.fleetsim is not None:
                self.fleetsim.close()

    def _converge(self) -> None:
        """Faults stop: lift every fault, let the controller run, then check healthy devices."""
        self.fleetsim.faults.clear()
        self.fault_ids.clear()
        self.say(f"faults stop; the controller gets {_duration(self.convergence_bound)}")
        self._run(self.convergence_bound)
        if self.violations:
            self._fail(self.violations[0])
        live = [v for v in self.released if v not in self.halted]
        if not live:
            return
        goal = max(live, key=release_key)
        lagging = [a for a in self.sim.agents if a.identity.serial not in self.unhealthy
                   and str(a.version) != goal and self._can_run(a, goal)]
        if lagging:
            self._fail(f"{len(lagging)} healthy device(s) not on {goal} "
                       f"{_duration(self.convergence_bound)} after faults stopped: "
                       + ", ".join(f"{a.identity.serial} on {a.version} ({a.state})"
                                   for a in lagging[:5]))

    def _can_run(self, agent: Any, version: str) -> bool:
        spec = self.world.published.get(version)  # type: ignore[union-attr]
        return spec is not None and agent.identity.hardware in spec.hardware

    # -- the report ----------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        raise RolloutViolation(f"{message}\n\n{self.report()}")

    def report(self) -> str:
        """The rollout story so far, then the last lines of the request journal."""
        lines = ["rollout story:"] + self.story
        devices = ", ".join(f"{a.identity.serial}={a.version}"
                            + (f" (failed {a.failed})" if a.failed else "")
                            for a in (self.sim.agents if self.sim else [])[:20])
        lines.append(f"devices now: {devices}")
        entries = list(self.fleetsim.journal)[-self.journal_lines:] if self.fleetsim else []
        lines.append(f"request journal (last {len(entries)}):")
        lines += [f"  {e.time}  {e.status:>3}  {e.method:<6} {e.path}"
                  + (f"?{e.query}" if e.query else "") + (f"  [fault: {e.fault}]" if e.fault else "")
                  for e in entries]
        return "\n".join(lines)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m" + (f"{seconds % 60:02d}s" if seconds % 60 else "")
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


#: Settings that suit a machine driving a simulated fleet: no per-example deadline (a step runs
#: hundreds of simulated requests), few steps, derandomized (the same examples in every CI
#: run); ``FLEETSIM_LONG=1`` for a longer, randomized search.
def machine_settings(max_examples: int = 25, steps: int = 12, **kwargs: Any) -> settings:
    import os

    long = bool(os.environ.get("FLEETSIM_LONG"))
    if long:
        max_examples, steps = max_examples * 20, steps * 2
    kwargs.setdefault("derandomize", not long)  # CI runs the same examples every time
    return settings(max_examples=max_examples, stateful_step_count=steps, deadline=None,
                    **kwargs)


__all__ = ["INVARIANTS", "RolloutMachine", "RolloutViolation", "machine_settings"]
