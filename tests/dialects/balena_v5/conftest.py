"""The balena-sdk 9.5.0 (API v5) pass, the older SDK of the seed document. It needs its own
virtualenv (9.5 cannot share one with 17.3), which ``.ci/run`` creates as ``.venv-sdk9`` and
runs this folder in. Elsewhere these files are not collected at all (not skipped).

9.5 keeps its settings in ``~/.balena/balena.cfg`` (the home directory is read when ``balena``
is imported), so the fixture points ``HOME`` at a temporary directory holding a ``balena.cfg``
for the live server before the first import."""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

try:
    SDK_VERSION = metadata.version("balena-sdk")
except metadata.PackageNotFoundError:
    SDK_VERSION = ""

if not SDK_VERSION.startswith("9."):
    collect_ignore_glob = ["test_*.py"]

_HOME: list[Path] = []  # one home directory per test session, made on first use


def _home() -> Path:
    if not _HOME:
        _HOME.append(Path(tempfile.mkdtemp(prefix="fleetsim-sdk9-")))
    return _HOME[0]


def _write_cfg(url: str) -> None:
    data = _home() / ".balena"
    data.mkdir(exist_ok=True)
    settings = {
        "pine_endpoint": f"{url}/v5/", "api_endpoint": f"{url}/", "builder_url": f"{url}/",
        "api_version": "v5", "device_actions_endpoint_version": "v1",
        "data_directory": str(data), "image_cache_time": "604800000",
        "token_refresh_interval": "3600000", "cache_directory": str(data / "cache"),
        "timeout": "30000",
    }
    lines = ["[Settings]"] + [f"{k} = {v}" for k, v in settings.items()]
    (data / "balena.cfg").write_text("\n".join(lines) + "\n")


@pytest.fixture
def sdk(fleetsim: Any) -> Any:
    """A ``balena.Balena()`` of balena-sdk 9.5.0 logged in (``/login_``) as a seeded user."""
    os.environ["HOME"] = str(_home())
    _write_cfg(fleetsim.url.rstrip("/"))
    if "balena" not in sys.modules:
        importlib.import_module("balena")
    balena = sys.modules["balena"]
    user = fleetsim.balena.user()
    client = balena.Balena()
    assert client.settings.get("pine_endpoint") == f"{fleetsim.url.rstrip('/')}/v5/"
    client.auth.login(username=user.username, password=user.password)
    client.fleetsim_user = user
    return client


@pytest.fixture
def user(sdk: Any) -> Any:
    return sdk.fleetsim_user


@pytest.fixture
def models(sdk: Any) -> Any:
    return sdk.models


@pytest.fixture
def fleet(fleetsim: Any, user: Any) -> dict:
    return fleetsim.balena.application(user, "myfleet", "raspberrypi3")
