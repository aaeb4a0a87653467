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
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence

import pytest

MARKER_HELP = (
    "fleetsim(seed=None, scenario=None, intercept=None, strict_faults=None, "
    "block_vendor_hosts=None): configure the fleetsim fixture for this test: the id seed, a "
    "scenario to load (shipped name or path), whether requests to the vendors' real hosts are "
    "intercepted, whether a fault rule that never fired is an error (not a warning), and whether "
    "real vendor hosts are blocked"
)
#: Each marker argument and the type it must have.
_MARKER_TYPES: dict[str, tuple[type, ...]] = {
    "seed": (int,), "scenario": (str, os.PathLike, dict), "intercept": (bool,),
    "strict_faults": (bool,), "block_vendor_hosts": (bool,),
}
_MARKER_KEYS = frozenset(_MARKER_TYPES)

_runtime_key = pytest.StashKey[Any]()
_handle_key = pytest.StashKey[Any]()
_call_failed_key = pytest.StashKey[bool]()


class FleetsimWarning(UserWarning):
    """Something in a test that uses fleetsim is probably not what was meant (a fault rule that
    never fired)."""


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
    group.addoption("--fleetsim-strict-faults", action="store_true", default=None,
                    help="a fault rule that never fired fails the test instead of warning "
                         "(ini: fleetsim_strict_faults)")
    group.addoption("--fleetsim-allow-vendor-hosts", action="store_true", default=None,
                    help="do not block lookups of the vendors' real hosts in tests using fleetsim "
                         "(ini: fleetsim_block_vendor_hosts = false)")
    parser.addini("fleetsim_seed", "seed for the fake's ids (default 0)", default="0")
    parser.addini("fleetsim_scenario", "scenario loaded for every test using fleetsim", default="")
    parser.addini("fleetsim_intercept", "intercept vendor hosts for every test", type="bool",
                  default=False)
    parser.addini("fleetsim_journal_lines", "journal lines shown for a failing test", default="20")
    parser.addini("fleetsim_strict_faults", "a fault rule that never fired fails the test",
                  type="bool", default=False)
    parser.addini("fleetsim_block_vendor_hosts", "block the vendors' real hosts in tests using "
                  "fleetsim (default true)", type="bool", default=True)


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
    scenario, scenario_dirs = config.getoption("fleetsim_scenario"), _cli_dirs(config)
    if not scenario and config.getini("fleetsim_scenario"):
        scenario = config.getini("fleetsim_scenario")
        scenario_dirs = [Path(config.inipath).parent] if config.inipath else [config.rootpath]
    intercept = config.getoption("fleetsim_intercept")
    if intercept is None:
        intercept = bool(config.getini("fleetsim_intercept"))
    strict = config.getoption("fleetsim_strict_faults")
    if strict is None:
        strict = bool(config.getini("fleetsim_strict_faults"))
    block = not config.getoption("fleetsim_allow_vendor_hosts") and bool(
        config.getini("fleetsim_block_vendor_hosts"))
    settings = {"seed": seed, "scenario": scenario or None, "intercept": intercept,
                "strict_faults": strict, "block_vendor_hosts": block,
                "scenario_dirs": scenario_dirs}
    marker = request.node.get_closest_marker("fleetsim")
    if marker is not None:
        settings.update(_marker_kwargs(marker))
        if "scenario" in marker.kwargs:
            settings["scenario_dirs"] = [request.node.path.parent, config.rootpath]
    return settings


def _cli_dirs(config: pytest.Config) -> list[Path]:
    return list(dict.fromkeys([config.invocation_params.dir, config.rootpath]))


def _marker_kwargs(marker: pytest.Mark) -> dict[str, Any]:
    """The marker's arguments, each checked: a mistake fails the test with what is wrong."""
    usage = ", ".join(f"{k}=" for k in _MARKER_TYPES)
    if marker.args:
        pytest.fail(f"@pytest.mark.fleetsim takes keyword arguments only ({usage})", pytrace=False)
    unknown = set(marker.kwargs) - _MARKER_KEYS
    if unknown:
        pytest.fail(f"@pytest.mark.fleetsim got unknown argument(s) {sorted(unknown)}; "
                    f"it takes {sorted(_MARKER_KEYS)}", pytrace=False)
    for key, value in marker.kwargs.items():
        types = _MARKER_TYPES[key]
        wrong_bool = isinstance(value, bool) and bool not in types
        if value is not None and (wrong_bool or not isinstance(value, types)):
            wanted = " or ".join("a path" if t is os.PathLike else t.__name__ for t in types)
            pytest.fail(f"@pytest.mark.fleetsim({key}={value!r}): {key} must be {wanted}, "
                        f"not {type(value).__name__}", pytrace=False)
    return {k: v for k, v in marker.kwargs.items() if v is not None}


def _runtime(config: pytest.Config) -> Any:
    runtime = config.stash.get(_runtime_key, None)
    if runtime is None:
        from ._shadow import ensure_fake_api

        ensure_fake_api()
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
    settings = _settings(request)
    runtime = _runtime(request.config)
    from .cloud import FakeCloud

    handle = FakeCloud(runtime)
    handle.reset(seed=settings["seed"])
    handle.scenario_dirs = settings["scenario_dirs"]
    request.node.stash[_handle_key] = handle
    try:
        if settings["block_vendor_hosts"]:
            handle.enter(handle.block_vendor_hosts())
        if settings["scenario"]:
            handle.load_scenario(settings["scenario"])
        if settings["intercept"]:
            handle.enter(handle.intercept())
        yield handle
        if not request.node.stash.get(_call_failed_key, False):
            _report_unfired(handle, strict=settings["strict_faults"])
    finally:
        handle.close()


def _report_unfired(handle: Any, strict: bool) -> None:
    """As ``responses`` does with ``assert_all_requests_are_fired``: a fault the test added but
    that never fired means the test did not test what it meant to."""
    unfired = handle.faults.unfired()
    if not unfired:
        return
    lines = "\n".join(f"  rule {r.id}: {r.where()} -> {r.describe()}" for r in unfired)
    message = (f"{len(unfired)} fleetsim fault rule(s) never fired:\n{lines}\n"
               "No request matched them: check the dialect, method and path (the journal shows "
               "what was requested), or remove the rule.")
    if strict:
        pytest.fail(message, pytrace=False)
    warnings.warn(FleetsimWarning(message + " (fail instead: --fleetsim-strict-faults, ini "
                                  "fleetsim_strict_faults, or @pytest.mark.fleetsim(strict_faults=True))"),
                  stacklevel=1)


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
    fl33t = pytest.importorskip(
        "fl33t", reason='the fl33t client is not installed (pip install "fleetsim[fl33t]")')
    team = fleetsim.fl33t.team()
    client = fl33t.Fl33tClient(team.team_id, team.tokens["admin"], base_uri=fleetsim.url)
    client.team = team
    return client


@pytest.fixture
def balena_sdk(fleetsim: Any) -> Any:
    """A ``balena.Balena({"data_directory": False})`` pointed at the fake and logged in (through
    ``/login_``) as a freshly seeded user, also on ``balena_sdk.fleetsim_user`` (username,
    email, password, token, api_key, org)."""
    pytest.importorskip("balena", reason='balena-sdk is not installed (pip install "fleetsim[balena]")')
    user = fleetsim.balena.user()
    client = fleetsim.balena.sdk()
    client.auth.login(username=user.username, password=user.password)
    client.fleetsim_user = user
    return client


class MemfaultCliError(subprocess.CalledProcessError):
    """``memfault`` exited non-zero; the message carries the command, its stdout and stderr."""

    def __str__(self) -> str:
        return _describe_run(self.cmd, self.returncode, self.stdout, self.stderr)


class MemfaultResult(subprocess.CompletedProcess):
    """A ``memfault`` run: ``returncode``, ``stdout``, ``stderr``, ``args`` (credentials masked in
    the text). ``bool(result)`` is true on success; ``check_returncode()`` raises
    :class:`MemfaultCliError` with the whole output."""

    def __bool__(self) -> bool:
        return self.returncode == 0

    def check_returncode(self) -> None:
        if self.returncode:
            raise MemfaultCliError(self.returncode, self.args, self.stdout, self.stderr)

    def __repr__(self) -> str:
        return _describe_run(self.args, self.returncode, self.stdout, self.stderr)


def _describe_run(argv: Sequence[str], code: int, stdout: Any, stderr: Any) -> str:
    shown = list(map(str, argv))
    for i, arg in enumerate(shown[:-1]):
        if arg in ("--org-token", "--project-key", "--password"):
            shown[i + 1] = "***"
    return (f"memfault exited with {code}: {' '.join(shown)}\n"
            f"--- stdout ---\n{(stdout or '').rstrip()}\n--- stderr ---\n{(stderr or '').rstrip()}")


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
                 input: Optional[str] = None, timeout: float = 120) -> MemfaultResult:
        """Run ``memfault <args>``; with ``check=True`` a non-zero exit raises
        :class:`MemfaultCliError`, whose message holds the command, stdout and stderr."""
        full_env = dict(os.environ)
        full_env["NO_PROXY"] = full_env["no_proxy"] = "127.0.0.1,localhost"
        full_env.update(env or {})
        done = subprocess.run(self.argv(*args), capture_output=True, text=True,
                              env=full_env, input=input, timeout=timeout)
        result = MemfaultResult(done.args, done.returncode, done.stdout, done.stderr)
        if check:
            result.check_returncode()
        return result


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
        pytest.skip('memfault-cli is not installed (pip install "fleetsim[memfault]")')
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
    if call.when == "call":
        item.stash[_call_failed_key] = report.failed
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
