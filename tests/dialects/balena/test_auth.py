"""Auth with balena-sdk 17.3 unchanged: login, tokens, whoami for every actor, 2FA."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from balena import exceptions


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_login_gives_a_jwt_with_the_claims_the_sdk_reads(fleetsim: Any) -> None:
    user = fleetsim.balena.user("gh_user", "gh_user+testsdk@example.com", "s3cret-pass")
    sdk = fleetsim.balena.sdk()
    sdk.auth.login(username="gh_user", password="s3cret-pass")
    token = sdk.auth.get_token()
    claims = _claims(token)
    assert claims["id"] == user.id and claims["iat"] == int(fleetsim.clock.time())
    assert claims["exp"] > claims["iat"] and claims["permissions"] == []
    assert "twoFactorRequired" not in claims
    assert sdk.auth.is_logged_in() is True
    assert sdk.auth.whoami() == {"id": user.actor, "actorType": "user", "actorTypeId": user.id,
                                 "username": "gh_user", "email": "gh_user+testsdk@example.com"}
    assert sdk.auth.get_user_info() == {"id": user.id, "actor": user.actor,
                                        "email": "gh_user+testsdk@example.com",
                                        "username": "gh_user"}
    assert sdk.auth.get_actor_id() == user.actor


def test_login_by_email_and_wrong_passwords(fleetsim: Any) -> None:
    fleetsim.balena.user("gh_user", "gh_user+testsdk@example.com", "s3cret-pass")
    sdk = fleetsim.balena.sdk()
    assert sdk.auth.authenticate(username="gh_user+testsdk@example.com", password="s3cret-pass")
    with pytest.raises(exceptions.LoginFailed):
        sdk.auth.login(username="gh_user", password="wrong")
    with pytest.raises(exceptions.LoginFailed):
        sdk.auth.login(username="nobody", password="s3cret-pass")
    assert sdk.auth.get_token() is None


def test_no_login_rate_limit_tighter_than_balenacloud(fleetsim: Any) -> None:
    """open-balena allows 10 tries per 2 h per username; fleetsim never refuses a login."""
    fleetsim.balena.user("gh_user", password="s3cret-pass")
    sdk = fleetsim.balena.sdk()
    for _ in range(12):
        sdk.auth.login(username="gh_user", password="s3cret-pass")
    assert sdk.auth.is_logged_in()


def test_logout_and_anonymous(sdk: Any) -> None:
    sdk.auth.logout()
    assert sdk.auth.is_logged_in() is False
    with pytest.raises(exceptions.NotLoggedIn):
        sdk.auth.whoami()


@pytest.mark.parametrize("token", [
    "not-a-key",
    "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MSwiaWF0IjoxfQ.forged",
])
def test_bad_tokens_are_not_logged_in(fleetsim: Any, token: str) -> None:
    sdk = fleetsim.balena.sdk()
    sdk.auth.login_with_token(token)
    assert sdk.auth.is_logged_in() is False
    with pytest.raises(exceptions.NotLoggedIn):
        sdk.auth.get_user_info()


def test_forged_signature_and_other_secret_rejected(fleetsim: Any, raw: Any, user: Any) -> None:
    header, payload, _sig = user.token.split(".")
    assert raw("GET", "/actor/v1/whoami", token=f"{header}.{payload}.AAAA").status_code == 401
    claims = _claims(user.token)
    claims["id"] = 999
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    r = raw("GET", "/actor/v1/whoami", token=f"{header}.{forged}.{_sig}")
    assert r.status_code == 401 and r.json() == "Unauthorized"


def test_expired_jwt_is_rejected_and_refresh_refused(fleetsim: Any, sdk: Any, raw: Any) -> None:
    token = sdk.auth.get_token()
    assert raw("GET", "/whoami", token=token).status_code == 200
    fleetsim.clock.advance(days=8)
    assert sdk.auth.is_logged_in() is False
    assert raw("GET", "/whoami", token=token).status_code == 401


def test_refresh_gives_a_newer_token(fleetsim: Any, sdk: Any, raw: Any) -> None:
    token = sdk.auth.get_token()
    fleetsim.clock.advance(hours=2)
    r = raw("GET", "/whoami", token=token)
    assert r.status_code == 200
    assert _claims(r.text)["iat"] == _claims(token)["iat"] + 7200
    assert raw("GET", "/whoami", token=sdk.fleetsim_user.api_key).status_code == 401


def test_user_v1_whoami(raw: Any, user: Any) -> None:
    r = raw("GET", "/user/v1/whoami")
    assert r.json() == {"id": user.id, "username": user.username, "email": user.email}
    assert raw("GET", "/user/v1/whoami", token=None).status_code == 401


def test_login_with_user_api_key(fleetsim: Any, sdk: Any, user: Any) -> None:
    key = sdk.models.api_key.create("ci", "for CI")
    other = fleetsim.balena.sdk()
    other.auth.login_with_token(key)
    assert other.auth.is_logged_in()
    assert other.auth.get_user_info()["username"] == user.username
    with pytest.raises(exceptions.UnsupportedFeature):
        other.auth.two_factor.is_enabled()


def test_provisioning_key_actor(fleetsim: Any, sdk: Any, fleet: dict) -> None:
    key = sdk.models.application.generate_provisioning_key(fleet["id"], "k1", "desc")
    assert len(key) == 32
    app_sdk = fleetsim.balena.sdk()
    app_sdk.auth.login_with_token(key)
    assert app_sdk.auth.whoami() == {"id": fleet["actor"], "actorType": "application",
                                     "actorTypeId": fleet["id"], "slug": fleet["slug"]}
    with pytest.raises(Exception, match="not of a user"):
        app_sdk.auth.get_user_info()


def test_device_key_actor(fleetsim: Any, fleet: dict) -> None:
    device = fleetsim.balena.device(fleet)
    dev_sdk = fleetsim.balena.sdk()
    dev_sdk.auth.login_with_token(device["api_key"])
    assert dev_sdk.auth.whoami() == {"id": device["actor"], "actorType": "device",
                                     "actorTypeId": device["id"], "uuid": device["uuid"]}
    assert dev_sdk.auth.get_actor_id() == device["actor"]


def test_two_factor_setup_enable_challenge_disable(fleetsim: Any, sdk: Any, user: Any) -> None:
    tfa = sdk.auth.two_factor
    assert tfa.is_enabled() is False and tfa.is_passed() is True
    secret = tfa.get_setup_key()
    assert len(secret) == 32
    # a wrong code is refused and the SDK stores the error text as its token (reference §3)
    token = tfa.enable(fleetsim.balena.totp_code(user))
    assert tfa.is_enabled() is True and tfa.is_passed() is True
    assert sdk.auth.get_token() == token

    fresh = fleetsim.balena.sdk()
    fresh.auth.login(username=user.username, password=user.password)
    assert fresh.auth.two_factor.is_enabled() and fresh.auth.two_factor.is_passed() is False
    assert fresh.auth.is_logged_in() is False  # a pending challenge opens nothing else
    fresh.auth.two_factor.challenge(fleetsim.balena.totp_code(user))
    assert fresh.auth.two_factor.is_passed() and fresh.auth.is_logged_in()

    fresh.auth.two_factor.disable(user.password)
    assert fresh.auth.two_factor.is_enabled() is False and fresh.auth.is_logged_in()


def test_two_factor_wrong_code(fleetsim: Any, sdk: Any, raw: Any) -> None:
    sdk.auth.two_factor.get_setup_key()
    r = raw("POST", "/auth/totp/verify", json={"code": "000000"},
            token=sdk.auth.get_token())
    assert r.status_code == 401
    assert sdk.auth.two_factor.is_enabled() is False


def test_register_user(fleetsim: Any) -> None:
    sdk = fleetsim.balena.sdk()
    token = sdk.auth.register(email="new+testsdk@example.com", password="long-password")
    sdk.auth.login_with_token(token)
    assert sdk.auth.get_user_info()["email"] == "new+testsdk@example.com"
    assert sdk.models.organization.get("new_testsdk")["handle"] == "new_testsdk"


def test_register_refusals_leave_nothing_behind(fleetsim: Any, raw: Any, state: Any) -> None:
    fleetsim.balena.organization("Taken", "taken_handle")
    before = state()["tables"]
    r = raw("POST", "/user/register", token=None,
            json={"email": "taken_handle@example.com", "password": "long-password"})
    assert r.status_code == 409 and "unique" in r.json()  # the personal org's handle is taken
    after = state()["tables"]
    assert {k: v for k, v in after.items() if k != "_core.counters"} == \
        {k: v for k, v in before.items() if k != "_core.counters"}
    assert raw("POST", "/user/register", token=None,
               json={"email": "x@example.com", "password": "short"}).status_code == 400
