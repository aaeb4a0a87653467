"""fleetsim[balena]: the balena SDK is importable and its host is answered by the fake."""

import requests


def test_balena_host(fleetsim):
    import balena  # noqa: F401  (installed by the extra)

    with fleetsim.intercept():
        response = requests.get("https://api.balena-cloud.com/v7/nothing-here")
    assert response.status_code == 404 and fleetsim.journal.last().dialect == "balena"
