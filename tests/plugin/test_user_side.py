"""The user's side of the plugin: mistakes answered clearly, faults that cannot silently miss,
seeding once, requests that cannot escape. Run as a downstream project would, through pytester."""

import subprocess
import sys
import textwrap

import pytest


@pytest.mark.parametrize("marker, said", [
    ('seed="abc"', "seed must be int, not str"),
    ("seed=True", "seed must be int, not bool"),
    ('intercept="yes"', "intercept must be bool, not str"),
    ("scenario=5", "scenario must be str or a path or dict, not int"),
])
def test_marker_arguments_of_the_wrong_type_fail_clearly(pytester, marker, said):
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.fleetsim({marker})
        def test_x(fleetsim):
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.fleetsim(*{said}*"])
    result.stdout.no_fnmatch_line("*ValueError*")


UNFIRED = """
    import pytest, requests

    def test_typo_in_path(fleetsim):
        fleetsim.faults.add(dialect="fl33t", path="/team/*/device/*/chekin", status=503)
        fired = fleetsim.faults.add(dialect="fl33t", path="/team/*/devices", status=500)
        assert requests.get(fleetsim.url + "/team/acme/devices").status_code == 500
        assert fired.hits == 1

    def test_removed_rules_are_not_reported(fleetsim):
        rule = fleetsim.faults.add(dialect="fl33t", status=503)
        fleetsim.faults.remove(rule.id)
"""


def test_a_fault_rule_that_never_fired_is_a_warning_by_default(pytester):
    pytester.makepyfile(UNFIRED)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines([
        "*FleetsimWarning: 1 fleetsim fault rule(s) never fired:*",
        "*rule 1: fl33t any method /team/*/device/*/chekin -> status=503*",
    ])


@pytest.mark.parametrize("how", ["cli", "ini", "marker"])
def test_a_fault_rule_that_never_fired_is_an_error_on_request(pytester, how):
    args = []
    if how == "cli":
        args = ["--fleetsim-strict-faults"]
    elif how == "ini":
        pytester.makeini("[pytest]\nfleetsim_strict_faults = true\n")
    code = UNFIRED
    if how == "marker":
        code = ("import pytest\npytestmark = pytest.mark.fleetsim(strict_faults=True)\n"
                + textwrap.dedent(UNFIRED))
    pytester.makepyfile(code)
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_typo_in_path*", "*never fired*"])


def test_a_failing_test_is_not_also_blamed_for_its_unfired_rules(pytester):
    pytester.makepyfile("""
        def test_fails(fleetsim):
            fleetsim.faults.add(dialect="fl33t", status=503)
            assert False
    """)
    result = pytester.runpytest("--fleetsim-strict-faults")
    result.assert_outcomes(failed=1)


BLOCKED = """
    import urllib.request, urllib.error
    import pytest, requests

    def test_requests_is_blocked(fleetsim):
        with pytest.raises(requests.ConnectionError, match="intercept"):
            requests.get("https://api.fl33t.com/team/acme/devices", timeout=5)

    def test_urllib_is_blocked(fleetsim):
        said = "fleetsim blocked a request to the real vendor host device.memfault.com"
        with pytest.raises(urllib.error.URLError, match=said):
            urllib.request.urlopen("https://device.memfault.com/api/v0/releases/latest", timeout=5)

    def test_intercept_still_answers(fleetsim):
        with fleetsim.intercept():
            assert requests.get("https://api.fl33t.com/team/t/x").status_code == 404

    def test_other_hosts_resolve(fleetsim):
        import socket
        assert socket.getaddrinfo("127.0.0.1", 80)

    def test_no_block_outside_fleetsim():
        import socket
        assert socket.getaddrinfo.__module__ == "socket"
"""


def test_vendor_hosts_are_blocked_by_default_with_a_message_naming_intercept(pytester):
    pytester.makepyfile(BLOCKED)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=5)


@pytest.mark.parametrize("how", ["cli", "ini", "marker"])
def test_blocking_can_be_switched_off(pytester, how):
    args = []
    marker = ""
    if how == "cli":
        args = ["--fleetsim-allow-vendor-hosts"]
    elif how == "ini":
        pytester.makeini("[pytest]\nfleetsim_block_vendor_hosts = false\n")
    else:
        marker = "@pytest.mark.fleetsim(block_vendor_hosts=False)"
    pytester.makepyfile(f"""
        import socket, pytest

        {marker}
        def test_not_blocked(fleetsim):
            assert socket.getaddrinfo.__module__ == "socket"
    """)
    pytester.runpytest(*args).assert_outcomes(passed=1)


def test_a_baseline_is_seeded_once_per_module_and_each_test_gets_a_fresh_copy(pytester):
    pytester.makepyfile(test_a="""
        from pytest_fleetsim import FakeCloud, fleetsim_baseline

        RUNS = []

        @fleetsim_baseline(scope="module")
        def big_fleet(fleetsim: FakeCloud):
            RUNS.append(1)
            team = fleetsim.fl33t.team("acme")
            train = fleetsim.fl33t.train(team)
            fleet = fleetsim.fl33t.fleet(team, train, "prod", fleet_id="prod")
            fleetsim.fl33t.devices(team, fleet, 50)
            fleetsim.clock.advance(days=1)
            return team

        def devices(fleetsim):
            return [k for k in fleetsim.cloud.store.table("fl33t.devices")]

        def test_one(fleetsim, big_fleet):
            assert len(devices(fleetsim)) == 50 and big_fleet.team_id == "acme"
            fleetsim.fl33t.devices(big_fleet, "prod", 3, prefix="extra-")
            fleetsim.faults.add(status=500)

        def test_two(fleetsim, big_fleet):
            assert len(devices(fleetsim)) == 50          # test_one's devices are gone
            assert len(fleetsim.faults) == 0 and len(fleetsim.journal) == 0
            assert fleetsim.clock.isoformat().startswith("2026-01-02")

        def test_three_uses_the_client(fleetsim, big_fleet):
            import requests
            r = requests.get(fleetsim.url + "/team/acme/devices?limit=100",
                             headers={"Authorization": "Bearer " + big_fleet.tokens["readonly"]})
            assert r.status_code == 200 and len(r.json()["devices"]) == 50

        def test_seeded_once():
            assert RUNS == [1]
    """, test_b="""
        from test_a import big_fleet, RUNS

        def test_other_module_builds_its_own(fleetsim, big_fleet):
            assert RUNS == [1, 1]
    """)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_relative_scenario_paths_resolve_against_the_ini_file_not_the_cwd(pytester, monkeypatch):
    pytester.makeini("[pytest]\nfleetsim_scenario = scenarios/mine.json\n")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "mine.json").write_text('{"fl33t": {"teams": [{"team_id": "mine"}]}}')
    sub = pytester.mkdir("tests")
    (sub / "test_s.py").write_text(
        "def test_s(fleetsim):\n    assert 'mine' in str(fleetsim.snapshot())\n")
    monkeypatch.chdir(sub)
    pytester.runpytest(str(sub)).assert_outcomes(passed=1)


def test_a_missing_scenario_says_where_it_looked(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.fleetsim(scenario="./nowhere.json")
        def test_x(fleetsim):
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*no scenario file './nowhere.json': looked for {pytester.path}*"])


def test_a_downstream_fake_api_package_is_named_in_a_clear_error(pytester):
    pkg = pytester.mkpydir("fake_api")
    (pkg / "__init__.py").write_text("# the user's own fakes\n")
    pytester.makepyfile("""
        import fake_api   # the user's

        def test_x(fleetsim):
            pass
    """)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        f"*FakeApiShadowed*fleetsim's emulator is the top-level package `fake_api`*"
        f"found another one: {pkg}*",
        "*What to do: rename your package*",
    ])
    result.stdout.no_fnmatch_line("*cannot import name*")


def test_the_public_surface_is_typed_and_light():
    code = textwrap.dedent("""
        import sys
        import pytest_fleetsim
        assert "fake_api" not in sys.modules and "flask" not in sys.modules
        from pytest_fleetsim import (FakeCloud, FaultRule, Faults, Journal, JournalEntry, Clock,
            ScenarioError, MemfaultCli, MemfaultResult, FleetsimWarning, fleetsim_baseline,
            VendorHostBlocked, VENDOR_HOSTS)
        assert FaultRule.__module__ == "fake_api.core.faults"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
    from pathlib import Path

    import pytest_fleetsim
    assert (Path(pytest_fleetsim.__file__).parent / "py.typed").is_file()


def test_memfault_cli_failures_show_argv_stdout_and_stderr(memfault_cli):
    from pytest_fleetsim import MemfaultCliError

    result = memfault_cli("no-such-command")
    assert not result and result.returncode != 0
    text = repr(result)
    assert "no-such-command" in text and "--- stderr ---" in text and result.stderr.strip() in text
    assert memfault_cli.project.org_token not in text          # credentials are masked
    with pytest.raises(MemfaultCliError) as err:
        memfault_cli("no-such-command", check=True)
    assert result.stderr.strip() in str(err.value)
    assert memfault_cli("--help", check=True)
