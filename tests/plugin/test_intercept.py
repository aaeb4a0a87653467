"""Intercept mode: vendor hosts answered in process, no sockets; everything else untouched."""

import pytest
import requests
from requests.adapters import HTTPAdapter

from pytest_fleetsim.cloud import VENDOR_HOSTS


@pytest.mark.parametrize("url, dialect", [
    ("https://api.fl33t.com/team/t/x", "fl33t"),
    ("https://api.memfault.com/api/v0/x", "memfault"),
    ("https://device.memfault.com/api/v0/x", "memfault"),
    ("https://chunks.memfault.com/api/v0/x", "memfault"),
    ("https://files.memfault.com/api/v0/x", "memfault"),
    ("https://api.balena-cloud.com/v7/x", "balena"),
])
def test_vendor_hosts_reach_the_fake(fleetsim, url, dialect):
    with fleetsim.intercept():
        response = requests.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert fleetsim.journal.last().dialect == dialect
    assert response.url == url and response.request.url == url


def test_the_host_list_covers_every_dialect():
    for host in ("api.fl33t.com", "api.balena-cloud.com", "*.memfault.com"):
        assert host in VENDOR_HOSTS


def test_request_bodies_headers_and_query_arrive_intact(fleetsim):
    fleetsim.faults.add(dialect="fl33t", status=418, body="teapot",
                        headers={"X-Echo": "1", "Content-Type": "text/plain"})
    with fleetsim.intercept():
        response = requests.post("https://api.fl33t.com/team/t/x?a=1&b=2", data=iter([b"ab", b"cd"]),
                                  headers={"Authorization": "Bearer tok"})
    assert response.status_code == 418
    assert response.text == "teapot" and response.headers["x-echo"] == "1"
    entry = fleetsim.journal.last()
    assert (entry.method, entry.path, entry.query) == ("POST", "/team/t/x", "a=1&b=2")


def test_streamed_responses_can_be_iterated(fleetsim):
    with fleetsim.intercept():
        response = requests.get("https://api.memfault.com/api/v0/x", stream=True)
        chunks = b"".join(response.iter_content(4))
    assert b"http_code" in chunks


def test_dropped_connections_raise_connection_error(fleetsim):
    fleetsim.faults.add(dialect="memfault", drop=True, times=1)
    with fleetsim.intercept():
        with pytest.raises(requests.ConnectionError, match="connection dropped"):
            requests.get("https://api.memfault.com/api/v0/x")
        assert requests.get("https://api.memfault.com/api/v0/x").status_code == 404


def test_sessions_with_their_own_adapters_are_intercepted_too(fleetsim):
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=3))
    with fleetsim.intercept():
        assert session.get("https://api.fl33t.com/team/t/x").status_code == 404


def test_nested_intercepts_and_custom_hosts(fleetsim):
    original = HTTPAdapter.send
    with fleetsim.intercept(hosts=("example.invalid",)):
        with fleetsim.intercept():
            assert requests.get("https://api.fl33t.com/team/t/x").status_code == 404
        assert requests.get("https://example.invalid/team/t/x").status_code == 404
        assert HTTPAdapter.send is not original
    assert HTTPAdapter.send is original


def test_outside_intercept_vendor_hosts_are_not_touched(fleetsim, monkeypatch):
    calls = []

    def fake_send(self, request, **kw):
        calls.append(request.url)
        raise requests.ConnectionError("no network in tests")

    monkeypatch.setattr(HTTPAdapter, "send", fake_send)
    with pytest.raises(requests.ConnectionError):
        requests.get("https://api.fl33t.com/team/t/x")
    assert calls == ["https://api.fl33t.com/team/t/x"]
    assert len(fleetsim.journal) == 0


def test_urllib_calls_to_vendor_hosts_reach_the_fake(fleetsim):
    import json
    import urllib.error
    import urllib.request

    fleetsim.faults.add(dialect="fl33t", method="POST", status=201, body={"ok": 1},
                        headers={"X-Echo": "yes"}, times=1)
    with fleetsim.intercept():
        request = urllib.request.Request("https://api.fl33t.com/team/t/x?a=1", data=b'{"k": 1}',
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 201 and response.headers["X-Echo"] == "yes"
            assert json.loads(response.read()) == {"ok": 1}
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen("https://api.memfault.com/api/v0/x")
        assert err.value.code == 404 and json.loads(err.value.read())["error"]["http_code"] == 404
    entries = fleetsim.journal.entries()
    assert [(e.dialect, e.method, e.path, e.query) for e in entries] == [
        ("fl33t", "POST", "/team/t/x", "a=1"), ("memfault", "GET", "/api/v0/x", "")]


def test_urllib_dropped_connections_raise_url_error(fleetsim):
    import urllib.error
    import urllib.request

    fleetsim.faults.add(dialect="fl33t", drop=True)
    with fleetsim.intercept(), pytest.raises(urllib.error.URLError, match="connection dropped"):
        urllib.request.urlopen("https://api.fl33t.com/team/t/x")


def test_httpx_calls_to_vendor_hosts_reach_the_fake(fleetsim):
    httpx = pytest.importorskip("httpx")
    import asyncio

    with fleetsim.intercept():
        response = httpx.post("https://api.fl33t.com/team/t/x", json={"a": 1})
        assert response.status_code == 404
        assert response.json() == {"error": "no such endpoint: POST /team/t/x"}

        async def fetch():
            async with httpx.AsyncClient() as client:
                return await client.get("https://device.memfault.com/api/v0/releases/latest")

        assert asyncio.run(fetch()).status_code == 403
        fleetsim.faults.add(dialect="memfault", drop=True, times=1)
        with pytest.raises(httpx.ConnectError, match="connection dropped"):
            httpx.get("https://api.memfault.com/api/v0/x")
    assert [e.dialect for e in fleetsim.journal.entries()] == ["fl33t", "memfault", "memfault"]
    original = httpx.HTTPTransport.handle_request
    assert original.__qualname__ == "HTTPTransport.handle_request"   # unpatched again
