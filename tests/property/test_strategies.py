"""The strategies draw what they promise: vendor-ordered versions, valid plans and faults."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_fleetsim import strategies as fs


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(("balena", "fl33t", "memfault")).flatmap(fs.version_sequences))
def test_version_sequences_strictly_increase(versions):
    keys = [fs.version_key(v) for v in versions]
    assert keys == sorted(keys) and len(set(keys)) == len(keys) >= 2


@settings(max_examples=30, deadline=None)
@given(fs.fleets("memfault", max_size=12), fs.failure_plans(), fs.fault_rules("fl33t"),
       fs.rollout_plans())
def test_fleets_plans_faults_and_rollouts_are_well_formed(fleet, plan, fault, rollout):
    assert 1 <= fleet.size <= 12 and all(n >= 1 for _, n in fleet.hardware)
    assert 0 < plan.fraction <= 1
    assert fault.rule()["path_regex"] in fs.DEVICE_PATHS["fl33t"]
    assert rollout.stages[-1] == 100 and list(rollout.stages) == sorted(set(rollout.stages))


@settings(max_examples=5, deadline=None)
@given(seed=fs.seeds())
def test_factory_gives_a_fresh_fake_per_example(fleetsim_factory, seed):
    with fleetsim_factory.fresh(seed=seed) as fleetsim:
        assert fleetsim.seed == seed and len(fleetsim.journal) == 0
        fleetsim.memfault.project()
