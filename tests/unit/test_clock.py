from datetime import datetime, timedelta, timezone

import pytest

from fake_api.core import Clock, parse_when
from fake_api.core.clock import DEFAULT_START


def test_virtual_clock_stands_still_until_advanced():
    clock = Clock()
    assert clock.now() == DEFAULT_START == clock.now()
    clock.advance(90, minutes=1, hours=1, days=1)
    assert clock.now() - DEFAULT_START == timedelta(days=1, hours=1, minutes=1, seconds=90)


def test_set_and_reset():
    clock = Clock(start="2030-05-01T00:00:00Z")
    clock.set("2030-05-02T12:00:00+00:00")
    assert clock.isoformat() == "2030-05-02T12:00:00.000000+00:00"
    clock.set(0)
    assert clock.time() == 0
    clock.reset()
    assert clock.now() == datetime(2030, 5, 1, tzinfo=timezone.utc)


def test_advance_refuses_to_go_back():
    with pytest.raises(ValueError, match="only moves forward"):
        Clock().advance(-1)


def test_real_clock_follows_wall_time_plus_offset():
    clock = Clock(virtual=False)
    before = datetime.now(timezone.utc)
    clock.advance(hours=2)
    assert clock.now() - before >= timedelta(hours=2)
    clock.reset()
    assert abs((clock.now() - datetime.now(timezone.utc)).total_seconds()) < 5


def test_listeners_hear_every_move():
    clock, heard = Clock(), []
    clock.on_change(heard.append)
    clock.advance(1)
    clock.set("2026-02-01T00:00:00Z")
    assert [h.isoformat() for h in heard] == [
        "2026-01-01T00:00:01+00:00", "2026-02-01T00:00:00+00:00"]


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", [], None])
def test_parse_when_rejects_garbage(bad):
    with pytest.raises((ValueError, TypeError)):
        parse_when(bad)


def test_a_listener_can_be_removed() -> None:
    from fake_api.core import Clock

    clock = Clock(virtual=True)
    seen: list = []
    clock.on_change(seen.append)
    clock.advance(1)
    clock.off_change(seen.append)
    clock.off_change(seen.append)  # twice is harmless
    clock.advance(1)
    assert len(seen) == 1
