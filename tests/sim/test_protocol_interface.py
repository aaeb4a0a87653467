"""A new vendor is one DeviceProtocol subclass and one line in PROTOCOLS: a toy vendor here,
which also dictates its poll interval (as balena's appUpdatePollInterval will)."""

from __future__ import annotations

import hashlib

import pytest

from fake_api import agents
from fake_api.agents import DeviceProtocol, Offer, PollReply, Reply, Transport
from fake_api.sim import FleetSimulation

IMAGE = b"toy firmware 2" * 100


class ToyTransport(Transport):
    """Serves the image with Range support; counts requests."""

    def __init__(self) -> None:
        self.requests = 0

    def request(self, method, url, headers=None, body=b""):
        self.requests += 1
        start = int((headers or {}).get("Range", "bytes=0-")[6:-1] or 0)
        return Reply(206 if start else 200, {"accept-ranges": "bytes"}, IMAGE[start:])


class ToyProtocol(DeviceProtocol):
    dialect = "toy"

    def __init__(self, transport, *, interval=900.0, release_at=0.0):
        super().__init__(transport)
        self.interval = interval
        self.release_at = release_at
        self.reports = []
        self.polls = []

    @staticmethod
    def initial(installed):
        return installed, installed

    def register(self, device):
        device.creds = "token"

    def poll(self, device):
        self.polls.append(device.now)
        if device.now - device.spawned_at < self.release_at:
            return PollReply(interval=self.interval)
        offer = Offer("2", "2", "http://toy/image", len(IMAGE), hashlib.md5(IMAGE).hexdigest())
        return PollReply(offer, interval=self.interval)

    def report(self, device, outcome):
        self.reports.append((device.identity.serial, outcome.ok, outcome.reason))


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(agents.PROTOCOLS, "toy", ToyProtocol)
    with FleetSimulation(transport=ToyTransport(), seed=9) as sim:
        yield sim


def test_a_new_vendor_is_one_module(toy):
    group = toy.spawn("toy", 5, installed="1", release_at=2000,
                      plans=[agents.FailurePlan(drop_at=0.5, fraction=1.0)])
    assert toy.run(until=lambda s: s.converged("2"), limit=86400)
    assert group.versions() == {"2": 5}
    assert sorted(r[1] for r in group.protocol.reports) == [True] * 5
    ranges = [d for _, e, d in toy.history(group.serials[0]) if e == "download"]
    assert ranges == [f"bytes 0-{len(IMAGE)} of {len(IMAGE)}",
                      f"bytes {len(IMAGE) // 2}-{len(IMAGE)} of {len(IMAGE)}"]


def test_the_server_interval_is_used_between_polls(toy):
    group = toy.spawn("toy", 1, installed="1", release_at=10**9, interval=900.0)
    toy.run(limit=20000)
    polls = group.protocol.polls
    gaps = [b - a for a, b in zip(polls[1:], polls[2:])]  # the first poll had no interval yet
    assert gaps and all(810 <= g <= 990 for g in gaps)  # 900 s ± 10 % jitter, not 300 s
    assert len(polls) == pytest.approx(20000 / 900, abs=3)


def test_unknown_dialect_is_a_clear_error(toy):
    with pytest.raises(ValueError, match="no simulated devices for dialect 'balena' yet"):
        toy.spawn("balena", 1)
