"""``fleetsim`` command mistakes get one clear line, and its output serves people and scripts."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

CLI = [sys.executable, "-m", "fake_api.cli"]


def run(*args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)


def start_json(*args):
    proc = subprocess.Popen([*CLI, "serve", "--port", "0", "--json", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return proc, json.loads(line)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return out, err


@pytest.mark.parametrize("port, said", [("99999", "99999 is not a port"), ("-1", "-1 is not a port"),
                                        ("http", "'http' is not a port number")])
def test_bad_ports_are_refused_in_one_line(port, said):
    out = run("serve", "--port", port)
    assert out.returncode == 2 and said in out.stderr and "Traceback" not in out.stderr


def test_a_port_in_use_suggests_port_0():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        out = run("serve", "--port", str(taken.getsockname()[1]))
    assert out.returncode == 1
    assert "--port 0" in out.stderr and "Traceback" not in out.stderr


def test_empty_with_a_scenario_is_refused():
    out = run("serve", "--empty", "--scenario", "fl33t-basic")
    assert out.returncode == 2 and "--empty" in out.stderr and "fl33t-basic" in out.stderr


def test_scenarios_lists_names_with_descriptions():
    lines = run("scenarios").stdout.splitlines()
    by_name = {line.split()[0]: line for line in lines}
    assert "nothing: an empty cloud" in by_name["empty"]
    assert "Memfault project" in by_name["memfault-basic"]


def test_json_banner_and_credentials_survive_a_state_restart(tmp_path):
    state = tmp_path / "state.json"
    proc, info = start_json("--state", str(state))
    try:
        assert info["url"].startswith("http://127.0.0.1:") and info["clock"] == "real"
        creds = info["credentials"]
        acme = creds["default"]["fl33t"]["teams"]["acme"]
        assert acme["tokens"]["admin"] == "acme-admin-token"
        [project] = creds["default"]["memfault"]["projects"]
        assert project["hardware_versions"] == ["evt"] and project["software_types"] == ["main"]
        assert project["devices"][:2] == ["SINK-0001", "SINK-0002"]
    finally:
        out, err = stop(proc)
    assert out == "" and "state is in" in err       # stdout carries only the JSON line

    proc, again = start_json("--state", str(state))
    try:
        assert again["credentials"] == creds
        printed = run("credentials", "--url", again["url"])
        assert printed.returncode == 0 and json.loads(printed.stdout) == creds
    finally:
        stop(proc)


def test_text_banner_prints_memfault_names_and_how_to_get_credentials_again():
    proc = subprocess.Popen([*CLI, "serve", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    lines = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or line.startswith("Press Ctrl+C"):
                break
    finally:
        stop(proc)
    text = "".join(lines)
    assert "fleetsim credentials --url" in text
    assert '"SINK-0005"' in text and '"hardware_versions"' in text


def test_credentials_without_a_server_says_what_to_do():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = run("credentials", "--url", f"http://127.0.0.1:{port}")
    assert out.returncode == 1 and "is `fleetsim serve` running there?" in out.stderr


def test_scenario_files_over_http_only_when_allowed(tmp_path):
    mine = tmp_path / "mine.json"
    mine.write_text('{"fl33t": {"teams": [{"team_id": "mine"}]}}')
    for flag, expected in (((), 400), (("--scenario-files",), 200)):
        proc, info = start_json("--empty", *flag)
        try:
            response = requests.post(info["url"] + "/__fleetsim__/scenario", json={"name": str(mine)},
                                     timeout=10)
            assert response.status_code == expected, response.text
        finally:
            stop(proc)
