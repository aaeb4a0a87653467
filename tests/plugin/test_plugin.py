"""The plugin as a downstream project sees it, run through pytester with no conftest."""

import subprocess
import sys
import textwrap

import pytest


def test_a_downstream_test_file_needs_no_conftest(pytester):
    pytester.makepyfile("""
        import requests

        def test_health(fleetsim):
            assert fleetsim.url.startswith("http://127.0.0.1:")
            assert requests.get(fleetsim.url + "/__fleetsim__/health").json()["status"] == "ok"
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_each_test_starts_from_fresh_state_on_one_server(pytester):
    pytester.makepyfile("""
        URLS = set()

        def test_write(fleetsim):
            URLS.add(fleetsim.url)
            fleetsim.cloud.store.table("demo.t")["x"] = {}
            fleetsim.clock.advance(days=3)
            fleetsim.faults.add(status=500)

        def test_read(fleetsim):
            URLS.add(fleetsim.url)
            assert len(fleetsim.cloud.store.table("demo.t")) == 0
            assert fleetsim.clock.isoformat().startswith("2026-01-01T00:00:00")
            assert len(fleetsim.faults) == 0 and len(fleetsim.journal) == 0

        def test_one_server(fleetsim):
            assert len(URLS | {fleetsim.url}) == 1
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_marker_seed_scenario_and_intercept(pytester):
    pytester.makepyfile("""
        import pytest, requests

        @pytest.mark.fleetsim(seed=42, scenario="empty", intercept=True)
        def test_marked(fleetsim):
            assert fleetsim.seed == 42
            r = requests.get("https://api.fl33t.com/team/t/none")
            assert r.status_code == 404 and r.json() == {"error": "no such endpoint: GET /team/t/none"}

        def test_unmarked(fleetsim):
            assert fleetsim.seed == 0
    """)
    pytester.runpytest("--strict-markers").assert_outcomes(passed=2)


def test_marker_with_unknown_arguments_fails_clearly(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.fleetsim(sead=1)
        def test_typo(fleetsim):
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown argument(s) ?'sead'?*"])


def test_ini_and_command_line_options(pytester):
    pytester.makeini("""
        [pytest]
        fleetsim_seed = 7
        fleetsim_intercept = true
    """)
    pytester.makepyfile("""
        import requests

        def test_options(fleetsim, pytestconfig):
            expected = pytestconfig.getoption("fleetsim_seed") or 7
            assert fleetsim.seed == expected
            assert requests.get("https://api.memfault.com/api/v0/x").status_code == 404
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest("--fleetsim-seed", "11").assert_outcomes(passed=1)


def test_bad_scenario_option_errors_with_the_shipped_names(pytester):
    pytester.makepyfile("def test_x(fleetsim): pass")
    result = pytester.runpytest("--fleetsim-scenario", "nope")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no scenario 'nope'*shipped names*empty*"])


def test_a_failing_test_report_shows_the_journal(pytester):
    pytester.makepyfile("""
        import requests

        def test_fails(fleetsim):
            requests.get(fleetsim.url + "/team/acme/devices?limit=3")
            assert False
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*fleetsim journal (last requests)*",
        "*  401  fl33t    GET    /team/acme/devices?limit=3",  # no token: fl33t answers 401
    ])


def test_intercept_leaves_other_hosts_alone_and_unpatches(pytester):
    pytester.makepyfile("""
        import requests
        from requests.adapters import HTTPAdapter

        ORIGINAL = HTTPAdapter.send

        def test_passthrough(fleetsim):
            with fleetsim.intercept():
                assert HTTPAdapter.send is not ORIGINAL
                # the live server is on 127.0.0.1, not a vendor host: a real socket call
                assert requests.get(fleetsim.url + "/__fleetsim__/health").status_code == 200
            assert HTTPAdapter.send is ORIGINAL
            assert fleetsim.journal.count(path="/__fleetsim__/health") == 1
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_xdist_workers_get_their_own_server_and_state(pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(**{f"test_w{i}": f"""
        import os, pathlib, requests

        def test_{i}(fleetsim):
            fleetsim.cloud.store.table("demo.t")["{i}"] = {{}}
            assert list(fleetsim.cloud.store.table("demo.t")) == ["{i}"]
            snap = requests.get(fleetsim.url + "/__fleetsim__/snapshot").json()
            assert list(snap["tables"]["demo.t"]) == ["{i}"]
            pathlib.Path("{i}.url").write_text(os.environ["PYTEST_XDIST_WORKER"] + " " + fleetsim.url)
    """ for i in range(4)})
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2")
    result.assert_outcomes(passed=4)
    seen = {}
    for i in range(4):
        worker, url = (pytester.path / f"{i}.url").read_text().split()
        seen.setdefault(worker, set()).add(url)
    assert len(seen) == 2, seen  # both workers ran tests
    assert all(len(urls) == 1 for urls in seen.values())  # one server per worker
    assert len(set.union(*seen.values())) == 2  # and not the same one


def test_importing_the_plugin_imports_nothing_heavy():
    code = textwrap.dedent("""
        import sys
        import pytest_fleetsim.plugin
        heavy = sorted(m for m in ("flask", "werkzeug", "requests", "faker", "fake_api")
                       if m in sys.modules)
        print(",".join(heavy))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_client_fixtures_skip_with_a_reason_when_the_client_is_missing(pytester):
    pytester.makepyfile("""
        import sys

        def test_no_memfault(fleetsim, monkeypatch, request):
            monkeypatch.setattr("shutil.which", lambda name: None)
            request.getfixturevalue("memfault_cli")
    """)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*memfault-cli is not installed*"])
