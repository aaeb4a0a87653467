"""``fleetsim serve`` as a person runs it: prints its URL, answers health, keeps its state."""

import os
import signal
import subprocess
import sys
import time

import requests


def start(*args):
    proc = subprocess.Popen(
        [sys.executable, "-m", "fake_api.cli", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Press Ctrl+C"):
            break
    text = "".join(lines)
    assert "serving on http://127.0.0.1:" in text, text
    url = text.split("serving on ")[1].split()[0]
    return proc, url, text


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out


def test_serve_prints_its_url_and_answers_health(tmp_path):
    proc, url, text = start("--seed", "3")
    try:
        health = requests.get(url + "/__fleetsim__/health", timeout=10).json()
        assert health["status"] == "ok" and health["seed"] == 3
        assert health["clock"]["virtual"] is False
        assert "seeded credentials" in text
    finally:
        stop(proc)
    assert proc.returncode == 0


def test_serve_state_survives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    proc, url, _ = start("--state", str(state), "--virtual-clock", "--empty")
    try:
        snap = requests.get(url + "/__fleetsim__/snapshot", timeout=10).json()
        snap["tables"]["demo.things"] = {"a": {"id": "a"}}
        assert requests.post(url + "/__fleetsim__/restore", json=snap, timeout=10).ok
        requests.post(url + "/__fleetsim__/clock", json={"set": "2030-01-01T00:00:00Z"}, timeout=10)
    finally:
        out = stop(proc)
    assert "state is in" in out
    assert state.read_bytes().startswith(b"SQLite format 3")

    proc, url, text = start("--state", str(state), "--virtual-clock")
    try:
        assert "state loaded from" in text
        snap = requests.get(url + "/__fleetsim__/snapshot", timeout=10).json()
        assert snap["tables"]["demo.things"] == {"a": {"id": "a"}}
        assert snap["clock"].startswith("2030-01-01")
    finally:
        stop(proc)


def test_serve_refuses_an_unknown_scenario():
    out = subprocess.run([sys.executable, "-m", "fake_api.cli", "serve", "--port", "0",
                          "--scenario", "nope"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "no scenario 'nope'" in out.stderr


def test_scenarios_command_lists_shipped_scenarios():
    out = subprocess.run([sys.executable, "-m", "fake_api.cli", "scenarios"],
                         capture_output=True, text=True, check=True, timeout=30)
    assert "default" in out.stdout.split()
