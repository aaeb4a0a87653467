"""The three ways to point balena-sdk at the fake (fixture, intercept, balena.cfg), the
balena-basic scenario, seeding helpers, snapshots and determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from balena import Balena


def test_fixture_is_logged_in_through_login(balena_sdk: Any, fleetsim: Any) -> None:
    assert balena_sdk.auth.get_user_info()["username"] == balena_sdk.fleetsim_user.username
    fleetsim.journal.assert_called("POST", "/login_", times=1)


def test_intercept_with_the_sdk_default_settings(fleetsim: Any) -> None:
    user = fleetsim.balena.user("gh_user", password="pw-12345")
    with fleetsim.intercept():
        sdk = Balena({"data_directory": False})
        assert sdk.settings.get("api_endpoint") == "https://api.balena-cloud.com/"
        sdk.auth.login(username="gh_user", password="pw-12345")
        app = sdk.models.application.create("intercepted", "raspberrypi4-64", user.username)
        assert sdk.models.application.get(app["slug"])["id"] == app["id"]
        assert sdk.models.config.get_all()["deviceUrlsBase"] == "balena-devices.com"


@pytest.mark.fleetsim(intercept=True)
def test_intercept_marker(fleetsim: Any) -> None:
    fleetsim.balena.user("gh_user", password="pw-12345")
    sdk = Balena({"data_directory": False})
    sdk.auth.login(username="gh_user", password="pw-12345")
    assert sdk.auth.is_logged_in()


def test_balena_cfg_points_an_unmodified_program_at_the_fake(fleetsim: Any, tmp_path: Path) -> None:
    fleetsim.load_scenario("balena-basic")
    home = tmp_path / "home"
    done = subprocess.run(
        [sys.executable, "-m", "fake_api.cli", "balena-cfg", "--url", fleetsim.url,
         "--dir", str(home / ".balena")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    program = textwrap.dedent("""
        from balena import Balena
        sdk = Balena()
        sdk.auth.login(username="gh_user", password="fleetsim-password")
        print(sorted(a["slug"] for a in sdk.models.application.get_all()))
    """)
    env = dict(os.environ, BALENA_SETTINGS_HOME_DIRECTORY=str(home),
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         env=env, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "['acme/smart-sink']"
    assert "invalid" not in ran.stderr.lower()  # the SDK accepted the file as complete
    assert "token" in (home / ".balena" / "balena.cfg").read_text()


def test_balena_basic_scenario(fleetsim: Any) -> None:
    seeded = fleetsim.load_scenario("balena-basic")["balena"]
    assert set(seeded["users"]) == {"gh_user", "gh_member"}
    creds = seeded["users"]["gh_member"]
    sdk = fleetsim.balena.sdk()
    sdk.auth.login(username="gh_member", password=creds["password"])
    app = sdk.models.application.get("acme/smart-sink")
    devices = sdk.models.device.get_all_by_application(app["id"])
    assert [d["device_name"] for d in devices] == ["sink-bathroom", "sink-garage", "sink-kitchen"]
    kitchen = sdk.models.device.get("d1e5c0a3b7f94e2a8c6d0b4f2e8a1c3d")
    assert sdk.models.device.get_status(kitchen["uuid"]) == "updating"  # runs 1.0.0, target 1.1.0
    assert sdk.models.release.get_latest_by_application(app["id"])["raw_version"] == "1.1.0"
    dev = fleetsim.balena.sdk()
    dev.auth.login_with_token(seeded["devices"][kitchen["uuid"]])
    assert dev.auth.whoami()["uuid"] == kitchen["uuid"]


def test_default_scenario_includes_balena(fleetsim: Any) -> None:
    assert "balena" in fleetsim.load_scenario("default")


def test_scenario_errors(fleetsim: Any) -> None:
    with pytest.raises(ValueError, match="unknown key"):
        fleetsim.load_scenario({"balena": {"fleet": []}})
    with pytest.raises(ValueError, match="username"):
        fleetsim.load_scenario({"balena": {"users": [{"email": "x@example.com"}]}})


def test_bulk_devices_and_snapshot_restore(fleetsim: Any) -> None:
    user = fleetsim.balena.user("gh_user")
    app = fleetsim.balena.application(user, "bulkfleet")
    made = fleetsim.balena.devices(app, 50)
    assert len({d["uuid"] for d in made}) == 50 and made[0]["device_name"] == "device-0000"
    snap = json.loads(json.dumps(fleetsim.snapshot()))
    fleetsim.reset()
    assert fleetsim.balena.sdk(None).pine.get({"resource": "device"}) == []
    fleetsim.restore(snap)
    sdk = user.sdk()
    assert len(sdk.models.device.get_all_by_application(app["id"])) == 50
    sdk.models.device.tags.set(made[3]["uuid"], "k", "v")  # indexes were rebuilt
    assert sdk.models.device.tags.get(made[3]["uuid"], "k") == "v"
    dev = fleetsim.balena.sdk()
    dev.auth.login_with_token(made[7]["api_key"])  # keys survive the round trip
    assert dev.auth.whoami()["uuid"] == made[7]["uuid"]


def test_same_seed_same_ids_and_tokens(fleetsim: Any) -> None:
    def run() -> tuple:
        fleetsim.reset(seed=7)
        user = fleetsim.balena.user("gh_user")
        app = fleetsim.balena.application(user, "det-fleet")
        device = fleetsim.balena.device(app)
        return user.token, user.api_key, app["uuid"], device["uuid"], device["api_key"]

    assert run() == run()


def test_reset_brings_reference_data_back_untouched(fleetsim: Any) -> None:
    db = fleetsim.cloud.backends["balena"].db
    dt = db.find("device_type", slug="intel-nuc")[0]
    db.update("device_type", dt["id"], {"name": "Changed", "contract": {"slug": "changed"}})
    db.delete("application", db.find("application", slug="balena_os/intel-nuc")[0]["id"])
    fleetsim.reset()
    again = db.find("device_type", slug="intel-nuc")[0]
    assert again["name"] == "Intel NUC" and again["contract"]["slug"] == "intel-nuc"
    assert db.find("application", slug="balena_os/intel-nuc")
    assert fleetsim.balena.sdk().models.os.get_available_os_versions("intel-nuc")


def test_fleetsim_serve_then_balena_cfg_then_an_unmodified_program(tmp_path: Path) -> None:
    """The documented offline route: ``fleetsim serve``, ``fleetsim balena-cfg``, ``Balena()``."""
    from tests.plugin.test_cli import start, stop

    proc, url, text = start()
    try:
        assert f'b.pine.api_prefix = "{url}/v7/"' in text
        assert 'b.auth.login(username="gh_user", password="fleetsim-password")' in text
        home = tmp_path / "home"
        written = subprocess.run(
            [sys.executable, "-m", "fake_api.cli", "balena-cfg", "--url", url],
            capture_output=True, text=True, timeout=60,
            env=dict(os.environ, BALENA_SETTINGS_HOME_DIRECTORY=str(home)))
        assert written.returncode == 0 and str(home / ".balena" / "balena.cfg") in written.stdout
        program = ("from balena import Balena\n"
                   "sdk = Balena()\n"
                   "sdk.auth.login(username='gh_member', password='fleetsim-password')\n"
                   "print(len(sdk.models.device.get_all_by_application('acme/smart-sink')))\n")
        ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                             timeout=120, env=dict(os.environ, BALENA_SETTINGS_HOME_DIRECTORY=str(home),
                                                   NO_PROXY="127.0.0.1", no_proxy="127.0.0.1"))
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == "3"
    finally:
        stop(proc)
