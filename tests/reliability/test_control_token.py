"""``fleetsim serve`` off loopback: the control plane needs a token, and is never left open."""

from __future__ import annotations

import subprocess
import sys

import requests

from .test_sigkill_state import kill


def test_an_empty_token_off_loopback_is_refused_before_listening():
    out = subprocess.run([sys.executable, "-m", "fake_api.cli", "serve", "--host", "0.0.0.0",
                          "--port", "0", "--control-token", ""],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "without a token" in out.stderr and "serving on" not in out.stdout


def test_a_given_token_is_printed_and_required(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "fake_api.cli", "serve", "--port", "0", "--empty",
         "--control-token", "s3cret-token"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        text = "".join(lines)
        assert "control token: s3cret-token" in text
        url = text.split("serving on ")[1].split()[0]
        refused = requests.post(url + "/__fleetsim__/reset", timeout=10)
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == 401
        allowed = requests.post(url + "/__fleetsim__/reset", timeout=10,
                                headers={"Authorization": "Bearer s3cret-token"})
        assert allowed.status_code == 200
        assert requests.get(url + "/__fleetsim__/health", timeout=10).json()["status"] == "ok"
    finally:
        kill(proc)
