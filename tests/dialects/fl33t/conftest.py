"""fl33t-specific fixtures. ``fleetsim`` and ``fl33t_client`` come from the plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import requests

fl33t = pytest.importorskip("fl33t")


@pytest.fixture
def team(fl33t_client: Any) -> Any:
    """The seeded team behind ``fl33t_client`` (``team_id`` and ``tokens``)."""
    return fl33t_client.team


@pytest.fixture
def client_as(fleetsim: Any, team: Any) -> Callable[..., Any]:
    """``client_as("readonly")`` (or a raw token): an official client with that token."""

    def make(privilege_or_token: str, **kwargs: Any) -> Any:
        token = team.tokens.get(privilege_or_token, privilege_or_token)
        return fl33t.Fl33tClient(team.team_id, token, base_uri=fleetsim.url, **kwargs)

    return make


@pytest.fixture
def firmware(tmp_path: Path) -> Callable[..., str]:
    """``firmware(b"bytes", "fw.bin")``: a firmware file on disk (the client uploads from a path)."""

    def make(data: bytes, name: str = "fw.bin") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return make


@pytest.fixture
def raw(fleetsim: Any, team: Any) -> Callable[..., requests.Response]:
    """Hand-written requests, only for what the client cannot send. ``token=None`` sends no
    Authorization header; the default is the team's admin token."""

    def call(method: str, path: str, token: Any = "admin", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {team.tokens.get(token, token)}"
        url = path if path.startswith("http") else f"{fleetsim.url}/team/{team.team_id}{path}"
        return requests.request(method, url, headers=headers, timeout=30, **kwargs)

    return call


@pytest.fixture
def state(fleetsim: Any) -> Callable[[], dict]:
    """The whole fake state (tables and id counters), to prove a refused request changed nothing."""
    return fleetsim.snapshot
