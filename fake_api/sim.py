"""``FleetSimulation``: many simulated devices on the virtual clock, as discrete events.

Every agent has a next wake time in one heap. :meth:`FleetSimulation.step` pops the earliest,
sets the fake's clock to that moment, lets the agent make its one request (or local step) and
pushes its next wake. Nothing sleeps and nothing runs in a thread, so 10,000 devices go through
an update in seconds and the same seed gives the same timeline.

In process (the default), agents call the Flask app directly and the simulation owns the cloud's
virtual clock; moving that clock from a test (``cloud.clock.advance(minutes=10)``) also runs the
devices up to the new time. Against a server (``transport=HttpTransport(url)``), the simulation
keeps its own time and sets the server's clock through ``/__fleetsim__/clock`` before each step.
"""

from __future__ import annotations

import heapq
import json
import weakref
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

from .agents import PROTOCOLS
from .agents.agent import Agent
from .agents.identity import HardwareSpec, make_identities
from .agents.plans import FailurePlan, Profile, plans_for
from .agents.plans import profile as make_profile
from .agents.timeline import Timeline
from .agents.transport import HttpTransport, InProcessTransport, Transport

Condition = Callable[["FleetSimulation"], bool]


class Group:
    """The agents one ``spawn`` made, with their dialect's settings."""

    def __init__(self, name: str, protocol: Any, agents: list[Agent]) -> None:
        self.name = name
        self.protocol = protocol
        self.agents = agents

    @property
    def serials(self) -> list[str]:
        return [a.identity.serial for a in self.agents]

    def versions(self) -> dict[Optional[str], int]:
        """How many devices of the group run each version."""
        out: dict[Optional[str], int] = {}
        for agent in self.agents:
            out[agent.version] = out.get(agent.version, 0) + 1
        return out

    def __len__(self) -> int:
        return len(self.agents)

    def __iter__(self) -> Any:
        return iter(self.agents)

    def __repr__(self) -> str:
        return f"<Group {self.name} {self.protocol.dialect} x{len(self.agents)}>"


class FleetSimulation:
    """Simulated devices of any dialect, run as discrete events on virtual time.

    ``app``: a fleetsim Flask app (agents call it in process); or ``transport``: any
    :class:`~fake_api.agents.transport.Transport` (``url=`` is a shortcut for an
    :class:`HttpTransport`). ``seed`` defaults to the cloud's. ``sample_every``: timeline
    resolution in virtual seconds. ``history``: keep every device's event log.
    """

    def __init__(self, app: Any = None, *, transport: Optional[Transport] = None,
                 url: Optional[str] = None, seed: Optional[int] = None,
                 sample_every: float = 60.0, history: bool = True,
                 start: Optional[float] = None) -> None:
        self.cloud = getattr(app, "cloud", None)
        if transport is None:
            transport = HttpTransport(url) if url else InProcessTransport(app) if app else None
        if transport is None:
            raise ValueError("FleetSimulation needs an app (in process), a transport or a url")
        self.transport = transport
        self.seed = seed if seed is not None else (self.cloud.seed if self.cloud else 0)
        self.keep_history = history
        clock = self.cloud.clock if self.cloud is not None else None
        if clock is not None and not clock.virtual:
            raise ValueError("simulated devices need the cloud's clock to be virtual")
        self._clock = clock
        self.now = start if start is not None else (clock.time() if clock else 0.0)
        self.start = self.now
        self.timeline = Timeline(self.now, sample_every)
        self.agents: list[Agent] = []
        self._by_serial: dict[str, Agent] = {}
        self.groups: list[Group] = []
        self.events = 0
        self._heap: list[tuple[float, int, int]] = []
        self._seq = 0
        self._driving = False
        self._closed = False
        self._follow: Any = None
        if clock is not None:
            ref = weakref.ref(self)

            def follow(moment: Any, ref: Any = ref) -> None:
                sim = ref()
                if sim is not None:
                    sim._clock_moved(moment.timestamp())

            clock.on_change(follow)
            self._follow = follow

    # -- populating ----------------------------------------------------------------------------

    def spawn(self, dialect: str, count: int = 1, *, plans: Sequence[FailurePlan] = (),
              profile: Union[str, Profile, None] = None, hardware: HardwareSpec = "evt",
              installed: Any = None, prefix: str = "SN", name_prefix: str = "device",
              group: Optional[str] = None, **settings: Any) -> Group:
        """Add ``count`` devices of ``dialect`` that start running ``installed``.

        ``settings`` go to the dialect's protocol: fl33t ``team=``, ``fleet=`` (``token=``);
        Memfault ``project=`` (``cohort=``, ``software_type=``, ``org_token=``). ``plans`` are
        failure plans for the group, ``profile`` a preset name or :class:`Profile`.
        """
        self._check_open()
        try:
            protocol_cls = PROTOCOLS[dialect]
        except KeyError:
            raise ValueError(f"no simulated devices for dialect {dialect!r} yet; "
                             f"available: {', '.join(PROTOCOLS)}") from None
        if count < 1:
            raise ValueError("count must be at least 1")
        protocol = protocol_cls(self.transport, **settings)
        version, ref = protocol_cls.initial(installed)
        chosen = make_profile(profile)
        plan_list = tuple(plans)
        for plan in plan_list:
            if not isinstance(plan, FailurePlan):
                raise TypeError(f"plans must be FailurePlan objects, not {type(plan).__name__}")
        identities = make_identities(count, self.seed, start=len(self.agents), prefix=prefix,
                                     name_prefix=name_prefix, hardware=hardware)
        made = []
        for identity in identities:
            agent = Agent(len(self.agents), identity, protocol,
                          plans_for(plan_list, self.seed, identity.serial, identity.hardware),
                          chosen, self, version, ref, self.seed, self.now)
            self.agents.append(agent)
            self._by_serial[identity.serial] = agent
            made.append(agent)
            self._push(self.now + chosen.start_jitter * agent.rng.random(), agent.index)
        self.timeline.total += count
        result = Group(group or f"{dialect}-{len(self.groups) + 1}", protocol, made)
        self.groups.append(result)
        return result

    # -- running -------------------------------------------------------------------------------

    def _push(self, at: float, index: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, index))

    @property
    def next_wake(self) -> Optional[float]:
        return self._heap[0][0] if self._heap else None

    def step(self) -> bool:
        """Wake the next agent; False when nothing is scheduled."""
        if not self._heap:
            return False
        at, _, index = heapq.heappop(self._heap)
        at = max(at, self.now)
        self.timeline.sample_until(at)
        self.now = at
        self._set_clock(at)
        agent = self.agents[index]
        before = agent.key
        delay = agent.wake(at)
        if self._clock is not None:  # a virtual-latency fault may have moved time on
            self.now = max(self.now, self._clock.time())
        after = agent.key = agent.status()
        if after != before:
            self.timeline.moved(before, after)
        self.events += 1
        if delay is not None:
            self._push(self.now + max(0.0, delay), index)
        return True

    def run(self, until: Optional[Condition] = None, limit: Optional[float] = None,
            max_events: Optional[int] = None) -> bool:
        """Run until ``until(sim)`` is true (checked after every step; keep it cheap, e.g.
        :meth:`count`), or ``limit`` virtual seconds have passed, or ``max_events`` steps.

        Returns True when ``until`` was met. Without ``until``, ``limit`` is required.
        """
        self._check_open()
        if until is None and limit is None:
            raise ValueError("give run() a condition (until=) or a time limit (limit= seconds)")
        end = self.now + (limit if limit is not None else 7 * 86400.0)
        steps = 0
        met = False
        self._driving = True
        try:
            if until is not None and until(self):
                met = True
            while not met and self._heap and self._heap[0][0] <= end:
                self.step()
                steps += 1
                if until is not None and until(self):
                    met = True
                elif max_events is not None and steps >= max_events:
                    break
            if not met and (not self._heap or self._heap[0][0] > end) and limit is not None:
                self.timeline.sample_until(end)
                self.now = max(self.now, end)
                self._set_clock(self.now)
        finally:
            self._driving = False
        self.timeline.sample(self.now)
        return met

    def advance(self, seconds: float) -> None:
        """Run every event in the next ``seconds`` of virtual time."""
        self.run(limit=seconds)

    def _clock_moved(self, target: float) -> None:
        """Someone moved the cloud's clock: bring the devices up to that moment."""
        if self._driving or self._closed or target <= self.now:
            return
        self._driving = True
        try:
            while self._heap and self._heap[0][0] <= target:
                self.step()
            self.timeline.sample_until(target)
            self.now = target
            self._set_clock(target)
        finally:
            self._driving = False
        self.timeline.sample(self.now)

    def _set_clock(self, at: float) -> None:
        if self._clock is not None:
            if self._clock.time() != at:
                self._clock.set(at)
        else:
            self.transport.set_time(at)

    # -- reading -------------------------------------------------------------------------------

    def count(self, release: Optional[str], phase: str = "installed") -> int:
        """Devices in ``phase`` for ``release`` right now (O(1): fine inside ``until``)."""
        return self.timeline.count(release, phase)

    def converged(self, release: str) -> bool:
        """Every device is either running ``release`` or has failed it for good."""
        done = self.count(release, "installed") + self.count(release, "failed")
        return done == len(self.agents)

    def agent(self, serial: str) -> Agent:
        return self._by_serial[serial]

    def history(self, serial: str) -> list[tuple[float, str, str]]:
        """One device's events as ``(seconds since start, event, detail)``."""
        return [(round(t - self.start, 3), e, d) for t, e, d in self.agent(serial).history or ()]

    def summary(self) -> dict[str, Any]:
        """Per release, the devices in each phase now; plus totals."""
        return {"devices": len(self.agents), "events": self.events,
                "elapsed": round(self.now - self.start, 3),
                "releases": {r: self.timeline.snapshot(None if r == "(none)" else r)
                             for r in self.timeline.releases}}

    def to_json(self, histories: bool = True) -> dict[str, Any]:
        return {"seed": self.seed, "summary": self.summary(),
                "groups": [{"name": g.name, "dialect": g.protocol.dialect, "count": len(g),
                            **g.protocol.describe_group()} for g in self.groups],
                "timeline": self.timeline.to_json(),
                "devices": [a.to_json() for a in self.agents] if histories else []}

    def save(self, path: Union[str, Path]) -> Path:
        """Write the report: ``.json`` (everything) or ``.csv`` (the timeline rows)."""
        target = Path(path)
        if target.suffix.lower() == ".csv":
            target.write_text(self.timeline.to_csv(), encoding="utf-8")
        else:
            target.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        return target

    def histories_csv(self) -> str:
        """Every device's events as CSV: ``serial,t,event,detail``."""
        lines = ["serial,t,event,detail"]
        for agent in self.agents:
            for t, event, detail in agent.history or ():
                detail = detail.replace('"', '""')
                lines.append(f'{agent.identity.serial},{round(t - self.start, 3)},{event},"{detail}"')
        return "\n".join(lines) + "\n"

    # -- lifetime ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this simulation is closed")

    def close(self) -> None:
        """Stop following the clock and drop the transport (idempotent)."""
        self._closed = True
        self._heap.clear()
        if self._clock is not None and self._follow is not None:
            self._clock.off_change(self._follow)
            self._follow = None
        self.transport.close()

    def __enter__(self) -> FleetSimulation:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<FleetSimulation {len(self.agents)} devices, {self.events} events, "
                f"t+{self.now - self.start:.0f}s>")
