"""Bodies are read before the lock and bounded; one strict JSON reader; doubled slashes."""

from __future__ import annotations

import dataclasses
import math

import pytest

from fake_api.core import jsontext
from fake_api.dialects import BALENA, FL33T, MEMFAULT

# One JSON route per dialect (the body is parsed before auth or lookups can refuse it, or the
# refusal is a 400 anyway), and how to recognise that dialect's error body.
JSON_ROUTES = [
    pytest.param("POST", "/team/acme/devices",
                 lambda r: set(r.get_json()) == {"error"}, id="fl33t"),
    pytest.param("POST", "/api/v0/organizations/acme/projects/smart-sink/releases",
                 lambda r: r.get_json()["error"]["http_code"] == 400, id="memfault"),
    pytest.param("POST", "/__fleetsim__/clock",
                 lambda r: r.get_json()["error"]["status"] == 400, id="control"),
]

BAD_BODIES = [
    pytest.param(b"[" * 100_000, "nested deeper", id="deep-100000"),
    pytest.param(b"[" * 65 + b"]" * 65, "nested deeper", id="deep-65"),
    pytest.param(b'{"a": NaN}', "NaN", id="nan"),
    pytest.param(b'{"a": Infinity}', "Infinity", id="infinity"),
    pytest.param(b'{"a": -Infinity}', "Infinity", id="-infinity"),
    pytest.param(b'{"a": 1e999}', "too large", id="overflow"),
    pytest.param(b'{"a": "\xff\xfe"}', "UTF-8", id="bad-utf8"),
    pytest.param(b'{"a": "\xed\xa0\x80"}', "UTF-8", id="utf8-encoded-surrogate"),
    pytest.param(b'{"a": "\\ud800"}', "surrogate", id="lone-surrogate"),
    pytest.param(b'{"\\udfff": 1}', "surrogate", id="lone-surrogate-key"),
    pytest.param(b'{"a": 1', "not valid JSON", id="truncated"),
]


@pytest.fixture
def auth(app):
    """Credentials that pass every route's auth, so that the body is what gets refused."""
    project = MEMFAULT.make_seeder(app.cloud.backends["memfault"], "http://localhost").project()
    fl33t = FL33T.make_seeder(app.cloud.backends["fl33t"], "http://localhost").team("acme")
    return {"/tea": f"Bearer {fl33t.tokens['admin']}", "/api": f"Bearer {project.org_token}",
            "/__f": ""}


@pytest.mark.parametrize("method, path, is_dialect_error", JSON_ROUTES)
@pytest.mark.parametrize("body, words", BAD_BODIES)
def test_bad_json_is_a_400_in_the_dialect_format(client, auth, method, path, is_dialect_error,
                                                 body, words):
    before = client.get("/__fleetsim__/snapshot").get_json()
    headers = {"Content-Type": "application/json", "Authorization": auth[path[:4]]}
    response = client.open(path, method=method, data=body, headers=headers)
    assert response.status_code == 400, response.data[:300]
    assert response.mimetype == "application/json"
    assert is_dialect_error(response)
    assert words in response.get_data(as_text=True)
    assert client.get("/__fleetsim__/snapshot").get_json() == before


@pytest.mark.parametrize("body, words", BAD_BODIES)
def test_the_control_plane_refuses_bad_json_with_the_reason(client, body, words):
    response = client.post("/__fleetsim__/clock", data=body)
    assert response.status_code == 400
    assert words in response.get_json()["error"]["message"]


def test_the_strict_reader_accepts_what_strict_json_allows():
    text = '{"a": [1, 2.5, -3e10, "\\ud83d\\ude00", "\u00e9", null, true]}'
    assert jsontext.loads(text.encode()) == {"a": [1, 2.5, -3e10, "\U0001F600", "\u00e9", None, True]}
    assert jsontext.loads(b"\xef\xbb\xbf[1]") == [1]  # a UTF-8 byte order mark
    nested = b"[" * 64 + b"]" * 64
    assert jsontext.loads(nested) is not None
    assert jsontext.loads(b'["[[[[' + b"[" * 100 + b'"]') == ["[[[[" + "[" * 100]


def test_nothing_ever_renders_nan():
    with pytest.raises(ValueError):
        jsontext.dumps({"a": math.nan})
    with pytest.raises(ValueError):
        jsontext.dumps([math.inf])


def test_a_body_shorter_than_its_content_length_is_a_400(client):
    response = client.post("/team/acme/devices", data=b'{"a": 1}',
                           environ_overrides={"CONTENT_LENGTH": "1000"})
    assert response.status_code == 400
    assert "Content-Length" in response.get_json()["error"]


def test_a_body_over_the_limit_is_a_413_in_the_dialect_format(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = client.post("/api/v0/chunks/DEV1", data=b"x" * 101,
                           headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 413
    assert response.get_json()["error"]["http_code"] == 413


def test_routes_still_read_the_body_once_it_was_read_before_the_lock(client):
    response = client.post("/__fleetsim__/clock", json={"advance": 60})
    assert response.status_code == 200
    assert response.get_json()["now"] == "2026-01-01T00:01:00.000000+00:00"


def test_the_body_is_read_before_the_store_lock_is_taken(app, client):
    """The view runs under the lock; the body must already be in memory by then."""
    seen = {}

    @app.before_request
    def _spy():
        from flask import request

        seen["cached_before_view"] = getattr(request, "_cached_data", None)
        seen["lock_free"] = app.cloud.store.lock.acquire(blocking=False)
        if seen["lock_free"]:
            app.cloud.store.lock.release()

    client.post("/__fleetsim__/clock", json={"advance": 1})
    assert seen == {"cached_before_view": b'{"advance": 1}', "lock_free": True}


@pytest.mark.parametrize("path, is_dialect_error", [
    ("/team/acme//trains", lambda r: set(r.get_json()) == {"error"}),
    ("/api/v0//organizations/acme/projects/smart-sink/releases",
     lambda r: r.get_json()["error"]["http_code"] == 404),
    ("/__fleetsim__//health", lambda r: r.get_json()["error"]["status"] == 404),
])
def test_a_doubled_slash_is_a_404_in_the_dialect_format_never_a_redirect(client, path,
                                                                       is_dialect_error):
    response = client.get(path)
    assert response.status_code == 404
    assert "Location" not in response.headers
    assert response.mimetype == "application/json"
    assert is_dialect_error(response)


def test_a_dialect_whose_vendor_merges_slashes_serves_the_route(client, app):
    merging = dataclasses.replace(FL33T, merge_slashes=True)
    app.dialects = (BALENA, merging, MEMFAULT)
    assert client.get("/__fleetsim__/health").status_code == 200
    plain = client.get("/team/acme/trains")
    doubled = client.get("/team/acme//trains")
    assert doubled.status_code == plain.status_code != 308
    assert doubled.get_json() == plain.get_json()
    assert app.cloud.journal.last().path == "/team/acme/trains"


@pytest.mark.parametrize("method, path", [
    ("OPTIONS", "/team/acme/trains"),
    ("DELETE", "/__fleetsim__/faults"),
    ("DELETE", "/__fleetsim__/journal"),
])
def test_empty_answers_are_not_html(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code < 300 and response.get_data() == b""
    assert "html" not in response.headers.get("Content-Type", "")
