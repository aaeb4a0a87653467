"""fleetsim[yaml]: YAML scenario files, relative to the rootdir."""

import pytest


@pytest.mark.fleetsim(scenario="fleet.yaml")
def test_yaml_scenario(fleetsim):
    assert "yaml-team" in str(fleetsim.snapshot())
