"""``FakeCloud``: the handle a test gets, and ``Runtime``: the one fake per process behind it."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Optional, Union

from fake_api import scenarios
from fake_api.app import FakeCloudApp, create_app
from fake_api.core import Clock, Cloud
from fake_api.dialects import DIALECTS, by_name

from .intercept import Interceptor, block_hosts
from .server import LiveServer

#: Every real vendor host that intercept mode answers.
VENDOR_HOSTS: tuple[str, ...] = tuple(h for d in DIALECTS for h in d.hosts)


class Runtime:
    """One cloud, one app and one (lazily started) live server for the whole test session."""

    def __init__(self, seed: int = 0, host: str = "127.0.0.1") -> None:
        self.cloud = Cloud(seed=seed, clock=Clock(virtual=True))
        self.app: FakeCloudApp = create_app(self.cloud)
        self.server = LiveServer(self.app, host=host)

    @property
    def url(self) -> str:
        return self.server.start()

    def close(self) -> None:
        self.server.stop()


class Baseline:
    """A seeded state kept for reuse; restoring it costs a fraction of seeding it again."""

    __slots__ = ("snapshot", "value")

    def __init__(self, snapshot: dict[str, Any], value: Any = None) -> None:
        self.snapshot = snapshot
        self.value = value


class FakeCloud:
    """A test's view of the fake cloud, on state that was reset for this test.

    Attributes: ``url`` (live server, started on first use), ``app`` (the Flask app), ``cloud``
    (the state root), ``clock``, ``faults``, ``journal``; per-dialect seeding helpers ``fl33t``,
    ``memfault`` and ``balena``.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.app = runtime.app
        self.cloud: Cloud = runtime.cloud
        self._seeders: dict[str, Any] = {}
        self._exit_stack = contextlib.ExitStack()
        #: Folders a relative scenario path is looked up in (the plugin sets the rootdir).
        self.scenario_dirs: list[Path] = []

    # -- what every test needs -------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the live server (``http://127.0.0.1:PORT``), started on first use."""
        return self._runtime.url

    @property
    def clock(self) -> Clock:
        return self.cloud.clock

    @property
    def faults(self) -> Any:
        return self.cloud.faults

    @property
    def journal(self) -> Any:
        return self.cloud.journal

    @property
    def seed(self) -> int:
        return self.cloud.seed

    def reset(self, seed: Optional[int] = None) -> None:
        """Back to an empty cloud (what every test starts with); drops seeding helpers' caches."""
        self.cloud.reset(seed=seed)
        self._seeders.clear()

    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain JSON data; feed it to :meth:`restore` (or save it to a file)."""
        return self.cloud.snapshot()

    def restore(self, snapshot: Union[dict[str, Any], str, Path]) -> None:
        """Restore a snapshot dict, or a JSON file written from one."""
        if not isinstance(snapshot, dict):
            snapshot = json.loads(Path(snapshot).read_text(encoding="utf-8"))
        self.cloud.restore(snapshot)  # type: ignore[arg-type]

    def load_scenario(self, name_or_path: Union[str, Path, dict]) -> dict[str, Any]:
        """Load a scenario (a shipped name, a file path or a dict), all or nothing; returns what
        was seeded. A relative path is looked up in :attr:`scenario_dirs` (the pytest rootdir
        under the plugin), then the current directory. Raises ``ScenarioError``."""
        return scenarios.load(self.cloud, name_or_path, self.url, DIALECTS,
                              search=self.scenario_dirs)

    def intercept(self, hosts: Optional[tuple[str, ...]] = None) -> Interceptor:
        """Context manager: ``requests``, ``urllib.request`` and ``httpx`` calls to the vendors'
        real hosts (or ``hosts``) reach this fake in process."""
        return Interceptor(self.app, hosts if hosts is not None else VENDOR_HOSTS)

    def block_vendor_hosts(self) -> Any:
        """Context manager: any lookup of a real vendor host fails with ``VendorHostBlocked``
        (the fixtures enter it for every test unless told not to)."""
        return block_hosts(VENDOR_HOSTS)

    # -- seeding once ----------------------------------------------------------------------

    def baseline(self) -> Baseline:
        """The current state, kept to be restored cheaply into later tests (see
        :func:`pytest_fleetsim.fleetsim_baseline`)."""
        return Baseline(self.snapshot())

    def use_baseline(self, baseline: Baseline) -> None:
        """Make the state a fresh copy of ``baseline`` (journal and faults are emptied)."""
        self.cloud.restore(baseline.snapshot)
        self.cloud.journal.clear()
        self.cloud.faults.clear()
        self._seeders.clear()

    # -- per-dialect seeding helpers -------------------------------------------------------

    def _seeder(self, name: str) -> Any:
        seeder = self._seeders.get(name)
        if seeder is None:
            dialect = by_name(name)
            if dialect.make_seeder is None:
                raise NotImplementedError(f"the {name} dialect has no seeding helpers yet")
            seeder = dialect.make_seeder(self.cloud.backends[name], self.url)
            self._seeders[name] = seeder
        return seeder

    @property
    def fl33t(self) -> Any:
        return self._seeder("fl33t")

    @property
    def memfault(self) -> Any:
        return self._seeder("memfault")

    @property
    def balena(self) -> Any:
        return self._seeder("balena")

    @property
    def agents(self) -> Any:
        """Simulated devices on this fake, in process: a :class:`fake_api.sim.FleetSimulation`
        made on first use and closed when the test ends (``fleetsim.agents.spawn(...)``)."""
        sim = self.__dict__.get("_agents")
        if sim is None:
            from fake_api.sim import FleetSimulation

            sim = self.__dict__["_agents"] = self.enter(FleetSimulation(self.app))
        return sim

    # -- plumbing for the plugin ---------------------------------------------------------------

    def enter(self, context: Any) -> Any:
        """Enter ``context`` until the test ends."""
        return self._exit_stack.enter_context(context)

    def close(self) -> None:
        self._exit_stack.close()

    def __repr__(self) -> str:
        where = self._runtime.server.url if self._runtime.server.running else "not serving yet"
        return f"<FakeCloud {where} seed={self.seed} clock={self.clock.isoformat()}>"
