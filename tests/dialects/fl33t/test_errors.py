"""Every error the official client maps to an exception, and bad input that must never hurt."""

from __future__ import annotations

import pytest
import requests
from fl33t.exceptions import (
    BuildUploadError,
    DuplicateDeviceIdError,
    Fl33tApiException,
    Fl33tClientException,
    InvalidBuildIdError,
    InvalidDeviceIdError,
    InvalidFleetIdError,
    InvalidSessionIdError,
    InvalidTrainIdError,
    NoUploadUrlProvidedError,
    UnprivilegedToken,
)
from fl33t.models import Session


@pytest.mark.parametrize("getter, error", [
    ("get_session", InvalidSessionIdError),
    ("get_train", InvalidTrainIdError),
    ("get_build", InvalidBuildIdError),
    ("get_fleet", InvalidFleetIdError),
    ("get_device", InvalidDeviceIdError),
])
def test_unknown_ids_raise_the_models_id_error(fl33t_client, raw, getter, error):
    with pytest.raises(error):
        getattr(fl33t_client, getter)("nope")
    kind = getter.split("_")[1]
    answer = raw("GET", f"/{kind}/nope")
    assert answer.status_code == 404
    assert answer.json() == {"error": f"Invalid {kind} ID: nope"}


def test_updating_or_deleting_unknown_ids(fl33t_client):
    with pytest.raises(InvalidFleetIdError):
        fl33t_client.Fleet(fleet_id="ghost", train_id="t", unreleased=True).update()
    with pytest.raises(InvalidTrainIdError):
        fl33t_client.Train(train_id="ghost").delete()
    with pytest.raises(InvalidBuildIdError):
        fl33t_client.Build(build_id="ghost").delete()
    with pytest.raises(InvalidSessionIdError):
        fl33t_client.Session(session_token="ghost").update()


def test_unknown_token_is_401_unprivileged(fleetsim, client_as, raw, team):
    with pytest.raises(UnprivilegedToken):
        client_as("made-up-token").get_own_session()
    answer = raw("GET", "/trains", token="made-up-token")
    assert answer.status_code == 401 and set(answer.json()) == {"error"}
    assert raw("GET", "/trains", token=None).status_code == 401
    assert raw("GET", "/trains", token=None,
               headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401
    other = fleetsim.fl33t.team()  # another team's admin token is unknown here
    assert raw("GET", "/trains", token=other.tokens["admin"]).status_code == 401


def test_insufficient_privilege_is_403_unprivileged(client_as, raw):
    with pytest.raises(UnprivilegedToken):
        client_as("readonly").Train(name="nope").create()
    answer = raw("POST", "/train", token="readonly", json={"train": {"name": "x"}})
    assert answer.status_code == 403 and set(answer.json()) == {"error"}


def test_server_errors_raise_fl33t_api_exception(fleetsim, fl33t_client):
    fleetsim.faults.add(dialect="fl33t", method="GET", path="*/trains", status=503, times=1)
    with pytest.raises(Fl33tApiException, match="returned a 503 error"):
        list(fl33t_client.list_trains())
    assert list(fl33t_client.list_trains()) == []


def test_an_uncaught_error_is_a_500_in_fl33t_format(fl33t_client, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("fake_api.fl33t.fleets.paged", boom)
    with pytest.raises(Fl33tApiException, match='returned a 500 error: {"error": '):
        list(fl33t_client.list_fleets())


def test_duplicate_device_id_is_409(fleetsim, fl33t_client, team, state):
    train = fleetsim.fl33t.train(team)
    fleet = fleetsim.fl33t.fleet(team, train)
    fleetsim.fl33t.device(team, fleet, "dev-1")
    before = state()
    with pytest.raises(DuplicateDeviceIdError):
        fl33t_client.Device(device_id="dev-1", fleet_id=fleet["fleet_id"]).create()
    assert state() == before


def test_409_on_other_creates_is_an_api_exception(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    fleetsim.fl33t.pin("train", train["train_id"])  # the next generated id is already taken
    with pytest.raises(Fl33tApiException, match="already exists"):
        fl33t_client.Train(name="again").create()


def test_upload_failure_raises_build_upload_error(fleetsim, fl33t_client, team, firmware):
    train = fleetsim.fl33t.train(team)
    fleetsim.faults.add(dialect="fl33t", method="PUT", path="*/upload", status=500, times=1)
    with pytest.raises(BuildUploadError):
        fl33t_client.Build(train_id=train["train_id"], version="1",
                           filename=firmware(b"fw")).create()


def test_missing_upload_url_raises_no_upload_url(fleetsim, fl33t_client, team, firmware):
    fleetsim.faults.add(dialect="fl33t", method="POST", path="*/build", status=201, times=1,
                        body={"build": {"build_id": "b", "upload_url": None}})
    with pytest.raises(NoUploadUrlProvidedError):
        fl33t_client.Build(train_id="t", version="1", filename=firmware(b"fw")).create()


def test_a_model_without_client_raises_client_exception():
    with pytest.raises(Fl33tClientException):
        Session(name="x").create()


def test_a_400_on_create_returns_false_and_changes_nothing(fl33t_client, state):
    before = state()
    assert fl33t_client.Fleet(name="no train", train_id="nope", unreleased=False).create() is False
    assert fl33t_client.Device(device_id="d", fleet_id="nope").create() is False
    assert fl33t_client.Session(name="bad", type="robot").create() is False
    assert state() == before


BAD_BODIES = [
    ("POST", "/train", "{not json"),
    ("POST", "/train", '["train"]'),
    ("POST", "/train", '{"train": "main"}'),
    ("POST", "/train", '{"train": {"name": 5}}'),
    ("POST", "/train", ""),
    ("POST", "/fleet", '{"fleet": {"train_id": "nope", "unreleased": true}}'),
    ("POST", "/fleet", '{"fleet": {"train_id": "T", "unreleased": "yes"}}'),
    ("POST", "/build", '{"build": {"train_id": "T", "version": ""}}'),
    ("POST", "/build", '{"build": {"train_id": "T", "version": "1", "md5sum": "xyz"}}'),
    ("POST", "/build", '{"build": {"train_id": "T", "version": "1", "released": "no"}}'),
    ("POST", "/device", '{"device": {"device_id": "", "fleet_id": "F"}}'),
    ("POST", "/device", '{"device": {"device_id": "a/b", "fleet_id": "F"}}'),
    ("POST", "/device", '{"device": {"device_id": 7, "fleet_id": "F"}}'),
    ("POST", "/device", '{"device": {"device_id": "d", "fleet_id": "nope"}}'),
    ("PUT", "/fleet/F", '{"fleet": {"build_id": "nope"}}'),
    ("PUT", "/fleet/F", '{"fleet": {"unreleased": [1]}}'),
    ("PUT", "/device/D", '{"device": {"fleet_id": "nope"}}'),
    ("PUT", "/device/D", '{"device": {"name": {"a": 1}}}'),
    ("PUT", "/build/B", '{"build": {"version": null}}'),
    ("PUT", "/session/S", '{"session": {"admin": "yes"}}'),
    ("POST", "/session", '{"session": {"type": "robot"}}'),
    ("GET", "/devices?offset=-1", ""),
    ("GET", "/devices?limit=0", ""),
    ("GET", "/builds?limit=ten", ""),
]


@pytest.mark.parametrize("method, path, body", BAD_BODIES)
def test_bad_input_is_400_in_fl33t_format_and_changes_nothing(
        fleetsim, team, raw, state, method, path, body):
    seed = fleetsim.fl33t
    train = seed.train(team, train_id="T")
    seed.build(team, train, build_id="B")
    fleet = seed.fleet(team, train, fleet_id="F")
    seed.device(team, fleet, "D")
    token = seed.session(team, "readonly", token="S")
    path = path.replace("/session/S", f"/session/{token}")
    before = state()
    answer = raw(method, path, data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    assert set(answer.json()) == {"error"} and answer.json()["error"]
    assert state() == before


def test_unknown_routes_and_methods_answer_in_fl33t_format(raw):
    missing = raw("GET", "/gadgets")
    assert missing.status_code == 404 and set(missing.json()) == {"error"}
    wrong = raw("PATCH", "/trains")
    assert wrong.status_code == 405 and set(wrong.json()) == {"error"}


def test_an_oversize_upload_is_413_in_fl33t_format(fleetsim, team, monkeypatch, state):
    build = fleetsim.fl33t.build(team, fleetsim.fl33t.train(team), "1", upload=False)
    monkeypatch.setitem(fleetsim.app.config, "MAX_CONTENT_LENGTH", 1024)
    before = state()
    answer = requests.put(build["upload_url"], data=b"x" * 4096, timeout=30)
    assert answer.status_code == 413 and set(answer.json()) == {"error"}
    assert state() == before
