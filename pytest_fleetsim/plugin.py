"""The fleetsim pytest plugin: fixtures, the ``fleetsim`` marker, ini and command-line options.

This module is imported by every pytest run in an environment where fleetsim is installed, so
it imports only the standard library and pytest. Flask, requests and the fake itself are
imported the first time a test asks for a fleetsim fixture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any, Optional

import pytest

MARKER_HELP = (
    "fleetsim(seed=None, scenario=None, intercept=None): configure the fleetsim fixture for "
    "this test: the id seed, a scenario to load (shipped name or path) and whether requests "
    "to the vendors' real hosts are intercepted"
)
_MARKER_KEYS = frozenset({"seed", "scenario", "intercept"})

_runtime_key = pytest.StashKey[Any]()
_handle_key = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fleetsim", "fleetsim fake fleet cloud")
    group.addoption("--fleetsim-seed", type=int, default=None, metavar="N",
                    help="seed for the fake's ids and random choices (ini: fleetsim_seed)")
    group.addoption("--fleetsim-scenario", default=None, metavar="NAME_OR_PATH",
                    help="scenario loaded for every test using fleetsim (ini: fleetsim_scenario)")
    group.addoption("--fleetsim-intercept", action="store_true", default=None,
                    help="route requests to the vendors' real hosts into the fake for every test "
                         "using fleetsim (ini: fleetsim_intercept)")
    group.addoption("--fleetsim-journal-lines", type=int, default=None, metavar="N",
                    help="how many journal lines a failing test's report shows (default 20, 0 off)")
    parser.addini("fleetsim_seed", "seed for the fake's ids (default 0)", default="0")
    parser.addini("fleetsim_scenario", "scenario loaded for every test using fleetsim", default="")
    parser.addini("fleetsim_intercept", "intercept vendor hosts for every test", type="bool",
                  default=False)
    parser.addini("fleetsim_journal_lines", "journal lines shown for a failing test", default="20")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)


def pytest_unconfigure(config: pytest.Config) -> None:
    runtime = config.stash.get(_runtime_key, None)
    if runtime is not None:
        runtime.close()
        del config.stash[_runtime_key]


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Marker beats command line beats ini."""
    config = request.config
    seed = config.getoption("fleetsim_seed")
    if seed is None:
        text = config.getini("fleetsim_seed") or "0"
        try:
            seed = int(text)
        except ValueError:
            raise pytest.UsageError(f"fleetsim_seed must be an integer, not {text!r}") from None
    scenario = config.getoption("fleetsim_scenario") or config.getini("fleetsim_scenario") or None
    intercept = config.getoption("fleetsim_intercept")
    if intercept is None:
        intercept = bool(config.getini("fleetsim_intercept"))
    settings = {"seed": seed, "scenario": scenario, "intercept": intercept}
    marker = request.node.get_closest_marker("fleetsim")
    if marker is not None:
        if marker.args:
            pytest.fail("@pytest.mark.fleetsim takes keyword arguments only "
                        "(seed=, scenario=, intercept=)", pytrace=False)
        unknown = set(marker.kwargs) - _MARKER_KEYS
        if unknown:
            pytest.fail(f"@pytest.mark.fleetsim got unknown argument(s) {sorted(unknown)}; "
                        f"it takes {sorted(_MARKER_KEYS)}", pytrace=False)
        settings.update(marker.kwargs)
    return settings


def _runtime(config: pytest.Config) -> Any:
    runtime = config.stash.get(_runtime_key, None)
    if runtime is None:
        from .cloud import Runtime

        runtime = Runtime()
        config.stash[_runtime_key] = runtime
    return runtime


@pytest.fixture
def fleetsim(request: pytest.FixtureRequest) -> Any:
    """A :class:`pytest_fleetsim.cloud.FakeCloud` on freshly reset state.

    One fake (and one live server, started on first use of ``.url``) serves the whole session,
    or each xdist worker; each test only resets its state.
    """
    from .cloud import FakeCloud

    settings = _settings(request)
    handle = FakeCloud(_runtime(request.config))
    handle.reset(seed=settings["seed"])
    request.node.stash[_handle_key] = handle
    try:
        if settings["scenario"]:
            handle.load_scenario(settings["scenario"])
        if settings["intercept"]:
            handle.enter(handle.intercept())
        yield handle
    finally:
        handle.close()


@pytest.fixture(scope="session")
def fleetsim_factory(request: pytest.FixtureRequest) -> Any:
    """For ``@given`` tests: ``with fleetsim_factory.fresh(seed=...) as fleetsim:`` gives a
    fake on fresh state per example (the ``fleetsim`` fixture is per test, which hypothesis's
    function-scoped-fixture health check rejects). See docs/property-testing.md."""
    from .factory import FleetsimFactory

    return FleetsimFactory(_runtime(request.config))


@pytest.fixture
def fl33t_client(fleetsim: Any) -> Any:
    """An ``fl33t.Fl33tClient`` on the fake, holding an admin token of a freshly seeded team
    (also on ``client.team``)."""
    fl33t = pytest.importorskip("fl33t", reason="the fl33t client is not installed (pip install fl33t)")
    team = fleetsim.fl33t.team()
    client = fl33t.Fl33tClient(team.team_id, team.tokens["admin"], base_uri=fleetsim.url)
    client.team = team
    return client


@pytest.fixture
def balena_sdk(fleetsim: Any) -> Any:
    """A ``balena.Balena({"data_directory": False})`` pointed at the fake and logged in (through
    ``/login_``) as a freshly seeded user, also on ``balena_sdk.fleetsim_user`` (username,
    email, password, token, api_key, org)."""
    pytest.importorskip("balena", reason="balena-sdk is not installed (pip install balena-sdk)")
    user = fleetsim.balena.user()
    client = fleetsim.balena.sdk()
    client.auth.login(username=user.username, password=user.password)
    client.fleetsim_user = user
    return client


class MemfaultCli:
    """Runs the real ``memfault`` command against the fake, as the seeded project's org."""

    def __init__(self, executable: str, url: str, project: Any) -> None:
        self.executable = executable
        self.url = url
        self.project = project

    def argv(self, *args: str) -> list[str]:
        return [
            self.executable, "--url", self.url, "--org", self.project.org,
            "--project", self.project.project, "--org-token", self.project.org_token,
            *map(str, args),
        ]

    def __call__(self, *args: str, check: bool = False, env: Optional[dict[str, str]] = None,
                 input: Optional[str] = None, timeout: float = 120) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        full_env["NO_PROXY"] = full_env["no_proxy"] = "127.0.0.1,localhost"
        full_env.update(env or {})
        return subprocess.run(self.argv(*args), capture_output=True, text=True, check=check,
                              env=full_env, input=input, timeout=timeout)


def _find_memfault() -> Optional[str]:
    """``memfault`` on PATH, else the one installed beside this interpreter (an unactivated venv)."""
    found = shutil.which("memfault")
    if found is None:
        beside = os.path.join(os.path.dirname(sys.executable), "memfault")
        found = shutil.which(beside)
    return found


@pytest.fixture
def memfault_cli(fleetsim: Any) -> MemfaultCli:
    """A callable that runs ``memfault <args>`` against the fake for a freshly seeded project
    (``memfault_cli.project``); it returns a ``subprocess.CompletedProcess`` with text output."""
    executable = _find_memfault()
    if executable is None:
        pytest.skip("memfault-cli is not installed (pip install memfault-cli)")
    return MemfaultCli(executable, fleetsim.url, fleetsim.memfault.project())


@pytest.fixture
def fleet_sim(fleetsim: Any) -> Any:
    """Simulated devices on the fake (``fleetsim.agents``): a ``FleetSimulation`` driving the
    app in process on the virtual clock; ``fleet_sim.spawn("memfault", 100, project=...)``."""
    return fleetsim.agents


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """On failure, show what the fake was asked: the last lines of the request journal."""
    outcome = yield
    report = outcome.get_result()
    handle = item.stash.get(_handle_key, None)
    if handle is not None and report.failed and call.when == "call":
        lines = item.config.getoption("fleetsim_journal_lines")
        if lines is None:
            lines = int(item.config.getini("fleetsim_journal_lines") or 20)
        entries = list(handle.journal)[-lines:] if lines > 0 else []
        if entries:
            text = "\n".join(
                f"{e.time}  {e.status:>3}  {e.dialect:<8} {e.method:<6} {e.path}"
                + (f"?{e.query}" if e.query else "") + (f"  [fault: {e.fault}]" if e.fault else "")
                for e in entries
            )
            report.sections.append(("fleetsim journal (last requests)", text))
