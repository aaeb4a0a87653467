"""The balena-sdk 14.5 (API v6) pass. It needs its own virtualenv (14.5 and 17.3 cannot share
one), which ``.ci/run`` creates as ``.venv-sdk14`` and runs this folder in. In any other
environment these files are not collected at all (not skipped), so they never count as passing
where they did not run."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pytest

try:
    SDK_VERSION = metadata.version("balena-sdk")
except metadata.PackageNotFoundError:
    SDK_VERSION = ""

if not SDK_VERSION.startswith("14."):
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def sdk(balena_sdk: Any) -> Any:
    assert balena_sdk.settings.get("api_version") == "v6"
    return balena_sdk


@pytest.fixture
def user(sdk: Any) -> Any:
    return sdk.fleetsim_user


@pytest.fixture
def models(sdk: Any) -> Any:
    return sdk.models


@pytest.fixture
def fleet(fleetsim: Any, user: Any) -> dict:
    return fleetsim.balena.application(user, "myfleet", "raspberrypi4-64")
