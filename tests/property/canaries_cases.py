"""docs/property-testing.md, worked examples: a Memfault canary controller (memfault-cli
``deploy-release``) tested by the RolloutMachine; the planted bug found and shrunk."""

from __future__ import annotations

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from pytest_fleetsim.rollout import RolloutViolation, machine_settings

from .controllers import Fl33tCanary, MemfaultCanary, SmallBlind

MemfaultCanary.TestCase.settings = machine_settings(max_examples=10, steps=8)
TestMemfaultCanary = MemfaultCanary.TestCase

Fl33tCanary.TestCase.settings = machine_settings(max_examples=10, steps=8)
TestFl33tCanary = Fl33tCanary.TestCase


def test_the_machine_finds_the_blind_promotion_and_shrinks_it():
    """The controller that widens on the clock is caught by the ``evidence`` invariant; the
    shrunk story is one release, one unreported offer, on a fleet of at most 6 devices."""
    with pytest.raises(RolloutViolation) as caught:
        run_state_machine_as_test(SmallBlind, settings=settings(
            max_examples=150, stateful_step_count=12, deadline=None, derandomize=True,
            phases=[Phase.generate, Phase.shrink], database=None))
    story = str(caught.value)
    assert "widened while 1 device(s) had been offered it since the last stage" in story
    fleet_line = next(line for line in story.splitlines() if line.startswith("fleet: "))
    assert int(fleet_line.split()[1]) <= SmallBlind.max_devices
    assert story.count(" publish ") == 1
    assert "request journal" in story and "/api/v0/releases/latest" in story
