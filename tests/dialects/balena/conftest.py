"""balena-specific fixtures. ``fleetsim`` and ``balena_sdk`` come from the plugin."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import requests

balena = pytest.importorskip("balena", reason="balena-sdk is not installed")


@pytest.fixture
def sdk(balena_sdk: Any) -> Any:
    """The logged-in SDK (user on ``sdk.fleetsim_user``)."""
    return balena_sdk


@pytest.fixture
def user(sdk: Any) -> Any:
    return sdk.fleetsim_user


@pytest.fixture
def models(sdk: Any) -> Any:
    return sdk.models


@pytest.fixture
def other(fleetsim: Any) -> Any:
    """A second user (its own personal org) with an SDK client: for refusals."""
    user = fleetsim.balena.user("other_user")
    client = user.sdk()
    client.fleetsim_user = user
    return client


@pytest.fixture
def fleet(fleetsim: Any, user: Any) -> dict:
    """A fleet ``<username>/myfleet`` on raspberrypi4-64 in the user's personal org."""
    return fleetsim.balena.application(user, "myfleet", "raspberrypi4-64")


@pytest.fixture
def raw(fleetsim: Any, user: Any) -> Callable[..., requests.Response]:
    """Hand-written requests, only for what the SDK cannot send. ``token=None`` sends none."""

    def call(method: str, path: str, token: Any = "user", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token == "user":
            token = user.token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"{fleetsim.url}{path}", headers=headers, timeout=30,
                                **kwargs)

    return call


@pytest.fixture
def state(fleetsim: Any) -> Callable[[], dict]:
    """The whole fake state, to prove a refused request changed nothing."""
    return fleetsim.snapshot
