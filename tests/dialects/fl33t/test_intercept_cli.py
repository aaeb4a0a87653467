"""The client with its default base URI (intercept mode), and the ``fl33t`` CLI."""

from __future__ import annotations

import hashlib

import fl33t
import fl33t.cli
import fl33t.client
import pytest
import requests
from click.testing import CliRunner


def test_intercept_mode_with_the_default_base_uri(fleetsim, team, firmware):
    with fleetsim.intercept():
        client = fl33t.Fl33tClient(team.team_id, team.tokens["admin"])  # https://api.fl33t.com
        assert client.base_uri == "https://api.fl33t.com"
        train = client.Train(name="main").create()
        build = client.Build(train_id=train.train_id, version="1.0", released=True,
                             filename=firmware(b"intercepted firmware")).create()
        assert build.upload_url.startswith("https://api.fl33t.com/team/")
        fleet = client.Fleet(name="prod", train_id=train.train_id, unreleased=False).create()
        device = client.Device(device_id="d1", fleet_id=fleet.fleet_id).create()

        offered = client.device_checkin(device.device_id)
        assert offered.build_id == build.build_id
        assert offered.download_url.startswith("https://api.fl33t.com/team/")
        data = requests.get(offered.download_url, timeout=30).content
        assert hashlib.md5(data).hexdigest() == offered.md5sum
        assert data == b"intercepted firmware"
    assert fleetsim.journal.count(dialect="fl33t", method="PUT", path="*/upload") == 1


@pytest.fixture
def cli(fleetsim, team, monkeypatch):
    """Runs ``fl33t -T <team> -S <token> ...`` against the fake, in process."""
    monkeypatch.setattr(fl33t.client, "API_HOST", fleetsim.url)
    monkeypatch.setattr(fl33t.cli, "CLIENTS", {})  # the CLI caches clients per token

    def run(*args: str, privilege: str = "admin") -> str:
        result = CliRunner().invoke(
            fl33t.cli.cli, ["-T", team.team_id, "-S", team.tokens[privilege], *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    return run


def test_cli_against_the_fake(fleetsim, team, cli, tmp_path):
    assert "created" in cli("trains", "create", "main").lower()
    train_id = next(iter(fleetsim.cloud.backends["fl33t"].trains.values()))["train_id"]
    assert f"Train {train_id}: main" in cli("trains", "list")

    firmware = tmp_path / "fw.bin"
    firmware.write_bytes(b"from the cli")
    cli("builds", "create", str(firmware), "-v", "1.2", "-t", train_id, "-r",
        privilege="upload")
    listed = cli("builds", "list")
    assert "1.2" in listed and "Status: available" in listed and "Released" in listed

    build_id = listed.split("Build ")[1].split(":")[0]
    cli("fleets", "create", "prod", "-t", train_id, "-b", build_id)
    assert "prod" in cli("fleets", "list")
    assert "Session upload (Type: api Privilege: upload)" in cli("sessions", "list")


def test_cli_in_intercept_mode(fleetsim, team, monkeypatch):
    monkeypatch.setattr(fl33t.cli, "CLIENTS", {})
    fleetsim.fl33t.train(team, "intercepted")
    with fleetsim.intercept():
        result = CliRunner().invoke(
            fl33t.cli.cli, ["-T", team.team_id, "-S", team.tokens["readonly"], "trains", "list"])
    assert result.exit_code == 0 and "intercepted" in result.output
