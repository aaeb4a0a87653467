"""Fixtures for the Memfault conformance tests (helpers live in memfault_helpers.py)."""

from __future__ import annotations

from typing import Any

import pytest

from .memfault_helpers import Api, Device


@pytest.fixture
def mf(fleetsim: Any) -> Any:
    """A seeded project with an ``evt`` hardware version and the ``main`` software type."""
    project = fleetsim.memfault.project()
    fleetsim.memfault.hardware_version(project, "evt")
    return project


@pytest.fixture
def api(fleetsim: Any, mf: Any) -> Api:
    return Api(fleetsim.url, mf)


@pytest.fixture
def device(fleetsim: Any, mf: Any):
    """``device(serial, ...)`` -> a polling :class:`Device` of the seeded project."""
    def make(serial: str, **kw: Any) -> Device:
        return Device(fleetsim.url, mf.project_key, serial, **kw)
    return make
