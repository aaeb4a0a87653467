"""The one state machine every simulated device runs, whatever the vendor.

::

    new --register--> idle --poll: offer--> downloading --verified--> installing --> rebooting
                       ^                         |  drop/stall: resume (Range) or restart      |
                       |                         |  hash mismatch: fetch again                 |
                       +------- reporting <------+--- gave up / install failed / boot loop ----+

Each wake does at most one step of network I/O (through the dialect's
:class:`~.protocol.DeviceProtocol`) or one local step (install, reboot) and returns how long to
sleep, in virtual seconds; :class:`fake_api.sim.FleetSimulation` keeps the wake-ups in a heap.
No threads, no sleeps.

Waiting: the poll interval (the server's if it dictates one) with jitter; ``Retry-After`` when the
server sends it; otherwise exponential back-off with jitter after errors. Offline: no network
step happens while offline (the device waits, state ``offline``); local steps go on.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Optional

from .identity import DeviceIdentity
from .plans import NO_PLAN, FailurePlan, Profile, plan_for_update
from .protocol import DeviceProtocol, Offer, Outcome, PollReply, ServerError, UrlRefused
from .transport import TransportError

#: Where a device stands with respect to one release (the timeline's columns, ``pending`` aside).
PHASES = ("pending", "downloading", "installing", "installed", "failed", "offline")

_NETWORK = frozenset({"new", "idle", "downloading", "reporting"})


class Agent:
    """One simulated device. ``version``/``ref`` is what it runs (``ref`` in the vendor's terms:
    fl33t build id, Memfault version); ``history`` is its log of ``(time, event, detail)``;
    ``plans`` its failure plans (assign a tuple to give one device its own)."""

    __slots__ = (
        "index", "identity", "protocol", "plans", "profile", "rng", "sim", "creds", "state",
        "version", "ref", "offer", "plan", "data", "inflight", "resumable", "attempts",
        "drops", "stalls", "corrupted", "refusals", "errors", "update_failures", "rejected",
        "failed", "outcome", "interval", "offline_until", "offline_at_done", "offline_phase_done",
        "history", "now", "spawned_at", "key", "resume_state",
    )

    def __init__(self, index: int, identity: DeviceIdentity, protocol: DeviceProtocol,
                 plans: tuple[FailurePlan, ...], profile: Profile, sim: Any,
                 version: Optional[str], ref: Optional[str], seed: int, now: float) -> None:
        self.index = index
        self.identity = identity
        self.protocol = protocol
        self.plans = plans
        self.profile = profile
        self.rng = random.Random(f"fleetsim-agent:{seed}:{identity.serial}")
        self.sim = sim
        self.creds: Any = None
        self.state = "new"
        self.version, self.ref = version, ref
        self.offer: Optional[Offer] = None
        self.plan: FailurePlan = NO_PLAN
        self.data = bytearray()
        self.inflight: Optional[tuple[str, float]] = None
        self.resumable = False
        self.attempts = self.drops = self.stalls = self.corrupted = self.refusals = 0
        self.errors = 0
        self.update_failures: dict[str, int] = {}
        self.rejected: set[str] = set()
        self.failed: Optional[str] = None
        self.outcome: Optional[Outcome] = None
        self.interval: Optional[float] = None
        self.offline_until = 0.0
        self.offline_at_done = False
        self.offline_phase_done: set[str] = set()
        self.history: Optional[list[tuple[float, str, str]]] = [] if sim.keep_history else None
        self.now = now
        self.spawned_at = now
        self.key: tuple[tuple[Optional[str], str], ...] = ()
        self.resume_state = "idle"

    # -- bookkeeping ---------------------------------------------------------------------------

    @property
    def device_time(self) -> float:
        """What the device's own clock says (off by its first plan with a ``clock_skew``)."""
        return self.now + next((p.clock_skew for p in self.plans if p.clock_skew), 0.0)

    def log(self, event: str, detail: str = "") -> None:
        if self.history is not None:
            self.history.append((self.now, event, detail))

    def status(self) -> tuple[tuple[Optional[str], str], ...]:
        """The timeline cells ``(release, phase)`` this device counts in: ``installed`` for
        what it runs, plus ``downloading``/``installing``/``failed``/``offline`` for the
        release it is updating to (or failed); nothing before it first registers."""
        state = self.state
        if state == "new":
            return ()
        if state == "reporting" and self.outcome is not None:  # not done until reported
            if self.outcome.ok:
                return ((self.outcome.target, "installing"),)
            return ((self.version, "installed"), (self.outcome.target, "installing"))
        target = self.offer.version if self.offer else self.failed
        if state == "offline":
            if target is None:
                return ((self.version, "offline"),)
            return ((self.version, "installed"), (target, "offline"))
        if state == "downloading":
            phase = "downloading"
        elif state in ("installing", "rebooting"):
            phase = "installing"
        elif self.failed is not None:
            phase = "failed"
        else:
            return ((self.version, "installed"),)
        return ((self.version, "installed"), (target, phase))

    # -- the loop ------------------------------------------------------------------------------

    def wake(self, now: float) -> Optional[float]:
        """Run one step at ``now``; return the seconds until the next wake (None: never)."""
        self.now = now
        if self.state == "offline":
            self.log("online")
            self.state = self.resume_state
        delay = self._maybe_go_offline()
        if delay is not None:
            return delay
        try:
            return getattr(self, "_" + self.state)()
        except UrlRefused as exc:
            return self._url_refused(exc)
        except ServerError as exc:
            return self._error(f"{exc.status}", exc.retry_after)
        except TransportError:
            return self._error("connection dropped", None)

    def _maybe_go_offline(self) -> Optional[float]:
        if not self.offline_at_done:
            plan = next((p for p in self.plans if p.offline_at is not None), None)
            if plan is None:
                self.offline_at_done = True
            elif self.now >= self.spawned_at + plan.offline_at:  # type: ignore[operator]
                self.offline_at_done = True
                self.offline_until = self.now + plan.offline_for
        needs_network = self.state in _NETWORK and self.inflight is None
        if needs_network and self.now < self.offline_until:
            self.log("offline", f"for {self.offline_until - self.now:.0f}s")
            self.resume_state = self.state
            self.state = "offline"
            return self.offline_until - self.now
        return None

    def _poll_delay(self) -> float:
        interval = self.interval or self.profile.poll_interval
        return interval * (1.0 + self.profile.jitter * (2.0 * self.rng.random() - 1.0))

    def _error(self, what: str, retry_after: Optional[float]) -> float:
        self.errors += 1
        if self.state == "downloading":
            self.attempts += 1
            if self.attempts >= self.profile.download_attempts:
                self.log("download_error", what)
                return self._finish(False, "download failed")
        if retry_after is not None:
            self.log("retry_after", f"{what}, {retry_after:g}s")
            return retry_after
        p = self.profile
        delay = min(p.backoff_max, p.backoff_base * 2 ** (self.errors - 1))
        delay *= 1.0 + p.jitter * self.rng.random()
        self.log("error", f"{what}, back off {delay:.0f}s")
        return delay

    def _new(self) -> float:
        self.protocol.register(self)
        self.errors = 0
        self.log("registered", self.identity.serial)
        self.state = "idle"
        return 0.0

    def _idle(self) -> float:
        reply = self.protocol.poll(self)
        self.errors = 0
        return self._consider(reply)

    def _consider(self, reply: PollReply) -> float:
        if reply.interval:
            self.interval = reply.interval
        offer = reply.offer
        if offer is None or offer.ref == self.ref or offer.ref in self.rejected:
            return self._poll_delay()
        if self.offer is None or self.offer.ref != offer.ref:
            self.data = bytearray()
            self.attempts = self.drops = self.stalls = self.corrupted = self.refusals = 0
            self.log("offer", offer.version)
        self.offer = offer
        self.plan = plan_for_update(self.plans, offer.version)
        self.failed = None
        self.state = "downloading"
        return 0.0

    # -- downloading ---------------------------------------------------------------------------

    def _downloading(self) -> float:
        if self.inflight is not None:
            return self._landed()
        offer, plan = self.offer, self.plan
        assert offer is not None
        start = len(self.data) if (self.data and self.resumable and plan.resume) else 0
        if not start:
            self.data = bytearray()
        reply = self.protocol.download(self, offer, start)
        self.errors = 0
        body = reply.body
        if start and reply.status == 200:  # the server ignored Range: the whole file again
            start, self.data = 0, bytearray()
        self.resumable = reply.status == 206 or reply.header("accept-ranges") == "bytes"
        total = offer.size if offer.size is not None else start + len(body)
        self.log("download", f"bytes {start}-{start + len(body)} of {total}")
        cut: Optional[float] = None
        kind = "done"
        if plan.offline_during == "download" and "download" not in self.offline_phase_done:
            self.offline_phase_done.add("download")
            cut, kind = 0.5, "offline"
        elif plan.drop_at is not None and self.drops < plan.drops:
            self.drops += 1
            cut, kind = plan.drop_at, "drop"
        elif plan.stall_at is not None and self.stalls < plan.stalls:
            self.stalls += 1
            cut, kind = plan.stall_at, "stall"
        if cut is not None:
            body = body[:int(len(body) * cut)]
        self.data += body
        bps = plan.link_bps or self.profile.link_bps
        elapsed = len(body) / bps if bps else 0.0
        if kind == "stall":
            elapsed += self.profile.stall_timeout
        self.inflight = (kind, elapsed)
        return elapsed

    def _landed(self) -> float:
        kind, _ = self.inflight  # type: ignore[misc]
        self.inflight = None
        if kind == "offline":
            self.log("download_interrupted", f"went offline at byte {len(self.data)}")
            self.offline_until = self.now + self.plan.offline_for
            return 0.0
        if kind in ("drop", "stall"):
            self.attempts += 1
            self.log("download_interrupted", f"{kind} at byte {len(self.data)}")
            if self.attempts >= self.profile.download_attempts:
                return self._finish(False, "download failed")
            return self.profile.retry_wait
        return self._verify()

    def _verify(self) -> float:
        offer = self.offer
        assert offer is not None
        data = self.data
        if self.corrupted < self.plan.corrupt and data:
            self.corrupted += 1
            data[len(data) // 2] ^= 0xFF
        problem = ""
        if offer.size is not None and len(data) != offer.size:
            problem = f"size {len(data)} != {offer.size}"
        elif offer.sha256 and hashlib.sha256(data).hexdigest() != offer.sha256.lower():
            problem = "sha256 mismatch"
        elif not offer.sha256 and offer.md5 and hashlib.md5(data).hexdigest() != offer.md5.lower():
            problem = "md5 mismatch"
        if problem:
            self.attempts += 1
            self.data = bytearray()
            self.log("hash_mismatch", problem)
            if self.attempts >= self.profile.download_attempts:
                return self._finish(False, "download failed: " + problem)
            return self.profile.retry_wait
        self.log("downloaded", f"{len(data)} bytes")
        self.data = bytearray()  # written to the update partition: the agent need not keep it
        self.state = "installing"
        self._phase_offline("install")
        return self.profile.install_time

    def _url_refused(self, exc: UrlRefused) -> float:
        """The signed URL expired or was refused: poll again for a fresh one, keep the bytes."""
        self.refusals += 1
        self.log("url_refused", str(exc.status))
        if self.state != "downloading" or self.refusals > 3:
            return self._error(str(exc.status), exc.retry_after)
        self.state = "idle"
        return 0.0

    # -- installing, rebooting, reporting ------------------------------------------------------

    def _phase_offline(self, phase: str) -> None:
        if self.plan.offline_during == phase and phase not in self.offline_phase_done:
            self.offline_phase_done.add(phase)
            self.offline_until = self.now + self.plan.offline_for
            self.log("connection_lost", f"during {phase}")

    def _installing(self) -> float:
        if self.plan.install_fails:
            self.log("install_failed")
            return self._finish(False, "install failed")
        self.log("rebooting")
        self.state = "rebooting"
        self._phase_offline("reboot")
        return self.profile.reboot_time

    def _rebooting(self) -> float:
        offer = self.offer
        assert offer is not None
        if self.plan.boot_loop:
            self.log("boot_loop", f"{self.plan.boot_loop} crashed boots")
            self.log("rolled_back", str(self.version))
            elapsed = self.plan.boot_loop * self.profile.reboot_time
            return self._finish(False, "boot loop, rolled back") + elapsed
        self.version, self.ref = offer.version, offer.ref
        self.log("booted", offer.version)
        return self._finish(True)

    def _finish(self, ok: bool, reason: str = "") -> float:
        offer = self.offer
        assert offer is not None
        if not ok:
            failures = self.update_failures.get(offer.ref, 0) + 1
            self.update_failures[offer.ref] = failures
            if failures >= self.profile.update_attempts:
                self.rejected.add(offer.ref)
            self.failed = offer.version
        self.outcome = Outcome(ok=ok, version=self.version, target=offer.version, reason=reason,
                               device_time=self.device_time)
        self.offer = None
        self.data = bytearray()
        self.inflight = None
        self.state = "reporting"
        return 0.0

    def _reporting(self) -> float:
        outcome = self.outcome
        assert outcome is not None
        reply = self.protocol.report(self, outcome)
        self.errors = 0
        self.log("reported", "success" if outcome.ok else f"failed: {outcome.reason}")
        self.outcome = None
        self.state = "idle"
        if reply is None:
            return 0.0
        return self._consider(reply)

    def to_json(self) -> dict[str, Any]:
        return {"serial": self.identity.serial, "dialect": self.protocol.dialect,
                "state": self.state, "version": self.version, "failed": self.failed,
                "identity": self.identity.to_json(),
                "plan": [p.describe() for p in self.plans],
                "history": [{"t": t, "event": e, "detail": d} for t, e, d in self.history or ()]}
