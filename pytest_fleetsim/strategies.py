"""Hypothesis strategies for fleets, releases, versions, failures, faults and rollout plans.

Import them in your tests (``from pytest_fleetsim import strategies as fs``); the plugin never
imports this module, so hypothesis costs nothing to users who do not use it.

Every strategy shrinks towards the plainest case: version ``0.0.0``-like strings, one device on
one hardware revision, no failure plan, no fault, a one-stage rollout, the shortest clock step.
A failing example therefore shrinks to a small fleet with one failure that still breaks it.

Versions follow each vendor's ordering, which is the ordering the fake itself uses
(:func:`fake_api.core.rollout.release_key`): balena releases are semver (``1.2.3``,
``1.2.3-rc.1``); Memfault's natural ordering puts a release above its pre-releases
(``1.0.0rc1 < 1.0.0 < 1.0.1-dev < 1.0.1``); fl33t versions are free-form text that the fake
orders the same natural way. :func:`version_sequences` draws strictly increasing versions.

Determinism: :func:`seeds` draws the fake's seed from hypothesis's own data, so the same example
gives the same ids, devices, plan membership and jitter, and a failure replays exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from hypothesis import strategies as st

from fake_api.agents.plans import FailurePlan
from fake_api.core.rollout import release_key

DIALECTS = ("balena", "fl33t", "memfault")
#: Hardware revisions the fleets draw from (Memfault hardware versions; fl33t trains).
HARDWARE = ("evt", "dvt", "pvt")


# -- versions ----------------------------------------------------------------------------------

_numbers = st.integers(min_value=0, max_value=30)


@st.composite
def _semver(draw: Any) -> str:
    core = ".".join(str(draw(_numbers)) for _ in range(3))
    pre = draw(st.one_of(st.none(), st.tuples(st.sampled_from(("alpha", "beta", "rc")),
                                                st.integers(0, 9))))
    return core if pre is None else f"{core}-{pre[0]}.{pre[1]}"


@st.composite
def _memfault(draw: Any) -> str:
    parts = draw(st.lists(_numbers, min_size=1, max_size=4))
    core = ".".join(map(str, parts))
    pre = draw(st.one_of(st.none(), st.tuples(st.sampled_from(("rc", "-rc", "-dev", "-beta", "b")),
                                                st.integers(0, 9))))
    return core if pre is None else f"{core}{pre[0]}{pre[1]}"


@st.composite
def _freeform(draw: Any) -> str:
    parts = draw(st.lists(_numbers, min_size=1, max_size=4))
    sep = draw(st.sampled_from((".", "-", "_")))
    text = sep.join(map(str, parts))
    prefix = draw(st.sampled_from(("", "v", "build-", "fw")))
    return prefix + text


_VERSIONS = {"balena": _semver, "memfault": _memfault, "fl33t": _freeform}


def versions(dialect: str = "memfault") -> st.SearchStrategy[str]:
    """A version string as ``dialect`` writes them (see the module docstring)."""
    try:
        return _VERSIONS[dialect]()
    except KeyError:
        raise ValueError(f"unknown dialect {dialect!r}; one of {', '.join(DIALECTS)}") from None


def version_key(version: str) -> tuple[Any, ...]:
    """The ordering every dialect of the fake uses (natural order, releases above pre-releases).

    balena's semver precedence agrees with it for the versions :func:`versions` draws.
    """
    return release_key(version)


def version_sequences(dialect: str = "memfault", min_size: int = 2,
                      max_size: int = 5) -> st.SearchStrategy[list[str]]:
    """Strictly increasing versions in the vendor's order (distinct under that order too)."""
    def ordered(items: list[str]) -> list[str]:
        by_key: dict[Any, str] = {}
        for item in items:
            by_key.setdefault(version_key(item), item)
        return [by_key[k] for k in sorted(by_key)]

    return (st.lists(versions(dialect), min_size=min_size, max_size=max_size * 3)
            .map(ordered).filter(lambda vs: len(vs) >= min_size).map(lambda vs: vs[:max_size]))


# -- fleets and releases -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseSpec:
    """A release to publish: its version, the hardware revisions it has an artifact for and
    the artifact size in bytes."""

    version: str
    hardware: tuple[str, ...] = ("evt",)
    size: int = 2048


@dataclass(frozen=True)
class FleetSpec:
    """A fleet to simulate: ``hardware`` is ``((revision, count), ...)``; every device starts
    on ``installed``. ``groups`` splits each revision across that many device groups
    (Memfault cohorts / fl33t fleets); the first group is the production one."""

    dialect: str
    hardware: tuple[tuple[str, int], ...] = (("evt", 1),)
    installed: str = "1.0.0"
    groups: int = 1

    @property
    def size(self) -> int:
        return sum(n for _, n in self.hardware)

    @property
    def revisions(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.hardware)

    def describe(self) -> str:
        mix = ", ".join(f"{n} {hw}" for hw, n in self.hardware)
        return f"{self.size} {self.dialect} devices ({mix}) running {self.installed}"


def releases(dialect: str = "memfault", hardware: Sequence[str] = ("evt",),
             version: Optional[st.SearchStrategy[str]] = None) -> st.SearchStrategy[ReleaseSpec]:
    """A release with an artifact for a non-empty subset of ``hardware`` (all of it first)."""
    revisions = tuple(hardware)
    subsets = st.lists(st.sampled_from(revisions), min_size=1, unique=True).map(
        lambda xs: tuple(sorted(xs, key=revisions.index)))
    return st.builds(ReleaseSpec, version=versions(dialect) if version is None else version,
                     hardware=st.one_of(st.just(revisions), subsets),
                     size=st.sampled_from((2048, 512, 16384)))


@st.composite
def fleets(draw: Any, dialect: str = "memfault", min_size: int = 1, max_size: int = 20,
           hardware: Sequence[str] = HARDWARE, installed: Optional[str] = "1.0.0",
           max_groups: int = 1) -> FleetSpec:
    """A fleet of ``min_size``..``max_size`` devices over a prefix of ``hardware`` revisions.

    Shrinks towards ``min_size`` devices, all on the first revision, one group.
    """
    revisions = draw(st.integers(1, len(hardware)))
    size = draw(st.integers(max(min_size, revisions), max(max_size, revisions)))
    counts = [1] * revisions
    for _ in range(size - revisions):
        counts[draw(st.integers(0, revisions - 1))] += 1
    mix = tuple((hardware[i], counts[i]) for i in range(revisions))
    start = installed if installed is not None else draw(versions(dialect))
    groups = draw(st.integers(1, max_groups)) if max_groups > 1 else 1
    return FleetSpec(dialect, mix, start, groups)


def seeds() -> st.SearchStrategy[int]:
    """The fake's seed, drawn from hypothesis's data (shrinks to 0, replays exactly)."""
    return st.integers(min_value=0, max_value=2**32 - 1)


# -- failures and faults -----------------------------------------------------------------------

_fractions = st.sampled_from((1.0, 0.5, 0.25, 0.1))


def failure_plans(hardware: Sequence[str] = HARDWARE,
                  release: Optional[str] = None) -> st.SearchStrategy[FailurePlan]:
    """One of the simulated devices' failure modes (:class:`fake_api.agents.FailurePlan`),
    hitting a fraction of the fleet, maybe one hardware revision, maybe one release."""
    kinds = st.one_of(
        st.just({"install_fails": True}),
        st.builds(lambda n: {"boot_loop": n}, st.integers(1, 5)),
        st.builds(lambda at, n: {"drop_at": at, "drops": n},
                  st.sampled_from((0.5, 0.1, 0.9)), st.integers(1, 3)),
        st.builds(lambda n: {"corrupt": n}, st.integers(1, 6)),
        st.builds(lambda phase, s: {"offline_during": phase, "offline_for": s},
                  st.sampled_from(("download", "install", "reboot")),
                  st.sampled_from((600.0, 60.0, 3600.0))),
        st.builds(lambda at, s: {"offline_at": at, "offline_for": s},
                  st.sampled_from((0.0, 300.0, 1800.0)), st.sampled_from((600.0, 3600.0))),
        st.builds(lambda bps: {"link_bps": bps}, st.sampled_from((2000.0, 200.0))),
    )
    return st.builds(
        lambda knobs, fraction, hw: FailurePlan(**knobs, fraction=fraction, hardware=hw,
                                                release=release),
        kinds, _fractions, st.one_of(st.none(), st.sampled_from(tuple(hardware))))


#: The device-side paths each dialect's devices use (for fault rules that hit devices only).
DEVICE_PATHS = {
    "fl33t": (r"^/team/[^/]+/device/[^/]+/checkin$", r"^/team/[^/]+/build/[^/]+/download$"),
    "memfault": (r"^/api/v0/releases/latest$", r"^/api/v0/(chunks|attributes)",
                 r"^/api/v0/storage/artifacts/"),
    "balena": (r"^/device/v\d/[^/]+/state$", r"^/v\d/device\("),
}


@dataclass(frozen=True)
class FaultSpec:
    """A server fault rule for ``cloud.faults.add(**spec.rule())``."""

    path_regex: str
    status: Optional[int] = None
    retry_after: Optional[int] = None
    drop: bool = False
    times: Optional[int] = None
    probability: float = 1.0

    def rule(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path_regex": self.path_regex, "probability": self.probability}
        for name in ("status", "retry_after", "times"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.drop:
            out["drop"] = True
        return out

    def describe(self) -> str:
        what = "drop" if self.drop else f"{self.status}" + (
            f" Retry-After {self.retry_after}s" if self.retry_after else "")
        extra = f", {self.times} times" if self.times else ""
        extra += f", p={self.probability}" if self.probability < 1 else ""
        return f"{what} on {self.path_regex}{extra}"


def fault_rules(dialect: str = "memfault") -> st.SearchStrategy[FaultSpec]:
    """A server fault on one of the dialect's device-side paths: 503 with Retry-After, 500,
    429, or a dropped connection; maybe limited in hits, maybe probabilistic."""
    paths = st.sampled_from(DEVICE_PATHS[dialect])
    action = st.one_of(
        st.builds(lambda s: {"status": 503, "retry_after": s}, st.sampled_from((60, 900))),
        st.just({"status": 500}),
        st.builds(lambda s: {"status": 429, "retry_after": s}, st.sampled_from((30, 300))),
        st.just({"drop": True}),
    )
    return st.builds(lambda path, act, times, p: FaultSpec(path, times=times, probability=p, **act),
                     paths, action, st.one_of(st.none(), st.integers(1, 20)),
                     st.sampled_from((1.0, 0.5)))


# -- rollout plans and time --------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutPlan:
    """A staged rollout: percentages that end at 100, the failure share that halts it, the
    time each stage gets, and how many reports a stage needs before it may be judged."""

    stages: tuple[int, ...] = (100,)
    threshold: float = 0.2
    stage_seconds: float = 1800.0
    min_reports: int = 1

    def describe(self) -> str:
        return (f"stages {'/'.join(map(str, self.stages))}%, halt above {self.threshold:.0%} "
                f"failed, {self.stage_seconds / 60:.0f} min per stage, judge after "
                f"{self.min_reports} report(s)")


@st.composite
def rollout_plans(draw: Any, max_stages: int = 4) -> RolloutPlan:
    """Stages (strictly increasing, ending at 100), a threshold, time per stage."""
    inner = draw(st.lists(st.integers(1, 99), max_size=max_stages - 1, unique=True))
    stages = tuple(sorted(inner)) + (100,)
    threshold = draw(st.sampled_from((0.2, 0.0, 0.1, 0.5)))
    seconds = draw(st.sampled_from((1800.0, 600.0, 3600.0)))
    return RolloutPlan(stages, threshold, seconds, draw(st.integers(1, 3)))


def clock_advances(max_seconds: int = 6 * 3600) -> st.SearchStrategy[float]:
    """Seconds of virtual time to move: common steps first, any whole minute otherwise."""
    common = st.sampled_from((60.0, 300.0, 900.0, 3600.0))
    return st.one_of(common, st.integers(1, max(1, max_seconds // 60)).map(lambda m: m * 60.0))


__all__ = [
    "DEVICE_PATHS", "DIALECTS", "HARDWARE", "FaultSpec", "FleetSpec", "ReleaseSpec",
    "RolloutPlan", "clock_advances", "failure_plans", "fault_rules", "fleets", "releases",
    "rollout_plans", "seeds", "version_key", "version_sequences", "versions",
]

