"""The heartbeat sweep runs on every clock move but scans only when a device may be due: checked
against a plain scan over random contact times, clock moves and devices brought online late."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from fake_api.balena.db import format_date
from fake_api.balena.devices import HEARTBEAT_TIMEOUT


@pytest.mark.parametrize("seed", range(6))
def test_the_sweep_agrees_with_a_plain_scan(fleetsim: Any, seed: int) -> None:
    rng = random.Random(seed)
    backend = fleetsim.app.cloud.backends["balena"]
    user = fleetsim.balena.user()
    fleet = fleetsim.balena.application(user, "sweep-fleet")
    devices = [fleetsim.balena.device(fleet, online=rng.random() < 0.5) for _ in range(12)]
    for _ in range(25):
        fleetsim.clock.advance(minutes=rng.randint(1, 20))
        for device in rng.sample(devices, 3):
            # contact now, or a late write of an older contact time (the sweep must not skip it)
            seen = fleetsim.clock.now() - timedelta(minutes=rng.choice([0, 0, 10, 40]))
            with backend.lock:
                backend.db.update("device", device["id"], {
                    "is_online": True, "last_connectivity_event": format_date(seen)})
        fleetsim.clock.advance(seconds=1)  # the sweep runs on the move
        limit = format_date(fleetsim.clock.now() - HEARTBEAT_TIMEOUT)
        for row in backend.db.tables["device"].values():
            if row.get("is_online"):
                assert row["last_connectivity_event"] > limit, row["uuid"]


def test_the_sweep_does_not_scan_while_nothing_is_due(fleetsim: Any, monkeypatch: Any) -> None:
    backend = fleetsim.app.cloud.backends["balena"]
    fleet = fleetsim.balena.application(fleetsim.balena.user(), "quiet-fleet")
    fleetsim.balena.devices(fleet, 50, online=True)
    fleetsim.clock.advance(minutes=1)  # learns the earliest contact
    scans = []
    table = backend.db.tables["device"]
    monkeypatch.setattr(type(table), "values", lambda self: scans.append(1) or dict.values(self))
    for _ in range(20):
        fleetsim.clock.advance(seconds=30)
    assert scans == []
    fleetsim.clock.advance(minutes=30)
    assert scans and not any(d["is_online"] for d in dict.values(table))
