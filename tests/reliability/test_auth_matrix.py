"""The auth matrix: every endpoint of every dialect in :mod:`.endpoints` x every credential kind
-> the expected status; a refused request changes nothing, an allowed write changes something.

The expected statuses come from the table (written from the dialects' docs), not from the code
under test. Each cell runs on a freshly seeded world, so cells cannot leak into each other.
"""

from __future__ import annotations

import pytest

from .endpoints import SUITES, Env

CELLS = [(suite, endpoint, credential)
         for suite in SUITES for endpoint in suite.endpoints
         for credential in suite.credential_kinds]


@pytest.fixture(scope="module")
def envs():
    return {suite.name: Env(suite) for suite in SUITES}


@pytest.mark.parametrize(("suite", "endpoint", "credential"), CELLS,
                         ids=[f"{s.name}:{e.name}:{c}" for s, e, c in CELLS])
def test_auth_matrix(envs, suite, endpoint, credential):
    env = envs[suite.name]
    env.fresh()
    before = env.cloud.snapshot()
    response = env.request(endpoint, credential)
    expected = suite.expected(endpoint, credential)
    assert response.status_code == expected, response.get_data(as_text=True)
    after = env.cloud.snapshot()
    if expected >= 400:
        suite.check_error(response.status_code, response.get_data())
        assert after == before, "a refused request changed the state"
    elif endpoint.mutating:
        assert after != before, "an acknowledged write changed nothing"
    else:
        assert after["tables"] == before["tables"], "a read changed the state"
    text = response.get_data(as_text=True)
    for secret in suite.secrets(env.world, credential):
        assert secret not in text, f"{credential} was shown {secret!r}"


def test_every_route_is_in_the_table(envs):
    """A route added to a dialect without a table entry fails here, so it cannot skip the suites."""
    for suite in SUITES:
        app = envs[suite.name].app
        listed = {(e.method, _rule(e.path)) for e in suite.endpoints}
        for rule in app.url_map.iter_rules():
            if not str(rule).startswith(suite.prefix.rstrip("/")) or "/storage/" in str(rule):
                continue
            if suite.name == "fl33t" and str(rule).endswith(("/upload", "/download")):
                continue  # signed URLs, not tokens: see test_signed_urls_ignore_tokens
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, _rule(str(rule))) in listed, f"{suite.name}: {method} {rule}"


def _rule(path: str) -> str:
    """``/team/{team}/build/{build}`` and ``/team/<team_id>/build/<obj_id>`` -> one shape."""
    import re

    return re.sub(r"\{[^}]+\}|<[^>]+>", "*", path)


@pytest.mark.parametrize("credential", ["none", "admin", "readonly", "upload"])
def test_signed_urls_ignore_tokens(envs, credential):
    """fl33t's upload and download URLs: the signature is the credential, a token is not."""
    env = envs["fl33t"]
    world = env.fresh()
    headers = world.credentials[credential]
    base = f"/team/{world.values['team']}/build"
    before = env.cloud.snapshot()
    upload = env.client.put(f"{base}/{world.values['pending']}/upload", data=b"x", headers=headers)
    download = env.client.get(f"{base}/{world.values['build']}/download", headers=headers)
    for response in (upload, download):
        assert response.status_code == 403
        SUITES[0].check_error(403, response.get_data())
    assert env.cloud.snapshot() == before
