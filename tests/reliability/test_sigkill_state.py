"""``fleetsim serve --state FILE`` loses nothing a client saw succeed, whenever it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ADMIN = {"Authorization": "Bearer acme-admin-token"}  # fixed by the fl33t-basic scenario


def start(state: Path) -> tuple[subprocess.Popen, str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fake_api.cli", "serve", "--port", "0", "--state", str(state),
         "--virtual-clock", "--scenario", "fl33t-basic"],
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
    return proc, text.split("serving on ")[1].split()[0], text


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()


def create_device(session: requests.Session, url: str, device_id: str) -> bool:
    """True when the fake acknowledged the write (answered 201)."""
    response = session.post(f"{url}/team/acme/device", headers=ADMIN, timeout=10,
                            json={"device": {"device_id": device_id, "fleet_id": "beta"}})
    return response.status_code == 201


def test_sigkill_after_acknowledged_writes_loses_none(tmp_path):
    state = tmp_path / "state.db"
    proc, url, _ = start(state)
    try:
        session = requests.Session()
        acknowledged = [d for d in (f"unit-{n}" for n in range(20)) if create_device(session, url, d)]
        assert len(acknowledged) == 20
        renamed = session.put(f"{url}/team/acme/device/unit-3", headers=ADMIN, timeout=10,
                              json={"device": {"name": "renamed"}})
        assert renamed.status_code < 300
        moved = session.post(url + "/__fleetsim__/clock", json={"advance": 3600}, timeout=10)
        assert moved.status_code == 200
    finally:
        kill(proc)

    proc, url, text = start(state)
    try:
        assert "state loaded from" in text
        for device_id in acknowledged:
            got = requests.get(f"{url}/team/acme/device/{device_id}", headers=ADMIN, timeout=10)
            assert got.status_code == 200, device_id
        got = requests.get(f"{url}/team/acme/device/unit-3", headers=ADMIN, timeout=10).json()
        assert got["device"]["name"] == "renamed"
        clock = requests.get(url + "/__fleetsim__/clock", timeout=10).json()
        assert clock["now"].startswith("2026-01-01T01:00:00")
    finally:
        kill(proc)


def test_sigkill_during_heavy_writes_loses_no_acknowledged_one(tmp_path):
    state = tmp_path / "state.db"
    proc, url, _ = start(state)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(worker: int) -> None:
        session = requests.Session()
        n = 0
        while not stop.is_set():
            device_id = f"w{worker}-{n}"
            n += 1
            try:
                if create_device(session, url, device_id):
                    with lock:
                        acknowledged.append(device_id)
            except requests.RequestException:
                return  # the server died under us: this write was never acknowledged

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            if len(acknowledged) >= 60:
                break
        time.sleep(0.05)
    kill(proc)  # mid-stream: requests are in flight in every thread
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= 60

    proc, url, _ = start(state)
    try:
        session = requests.Session()
        missing = [d for d in acknowledged if session.get(
            f"{url}/team/acme/device/{d}", headers=ADMIN, timeout=10).status_code != 200]
        assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
    finally:
        kill(proc)


def test_a_corrupt_state_file_is_refused_with_a_clear_message(tmp_path):
    state = tmp_path / "state.db"
    state.write_text('{"fleetsim_snapshot": 2, "tables": {"fl33t.devices": []}}')
    out = subprocess.run([sys.executable, "-m", "fake_api.cli", "serve", "--port", "0",
                          "--state", str(state)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert str(state) in out.stderr and "Traceback" not in out.stderr


def test_two_quick_ctrl_c_lose_nothing(tmp_path):
    state = tmp_path / "state.db"
    proc, url, _ = start(state)
    session = requests.Session()
    assert create_device(session, url, "kept-1") and create_device(session, url, "kept-2")
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    proc.stdout.close()

    proc, url, _ = start(state)
    try:
        for device_id in ("kept-1", "kept-2"):
            got = requests.get(f"{url}/team/acme/device/{device_id}", headers=ADMIN, timeout=10)
            assert got.status_code == 200, device_id
    finally:
        kill(proc)
