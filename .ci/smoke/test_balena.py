"""fleetsim[balena]: the official balena SDK, logged in to the fake by the balena_sdk fixture."""

import requests


def test_balena_sdk(balena_sdk, fleetsim):
    assert balena_sdk.auth.is_logged_in()
    assert fleetsim.journal.count(dialect="balena") >= 1
    with fleetsim.intercept():
        response = requests.get("https://api.balena-cloud.com/no/such/route")
    assert response.status_code == 404 and fleetsim.journal.last().dialect == "balena"
