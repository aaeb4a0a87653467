"""Intercept's hand-built WSGI environ equals what werkzeug's ``EnvironBuilder`` builds."""

from __future__ import annotations

import io
import sys
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.test import EnvironBuilder

from fake_api.wsgi import wsgi_environ
from pytest_fleetsim.intercept import _body_bytes


@pytest.mark.parametrize("method, url, body, headers", [
    ("GET", "https://api.fl33t.com/team/acme/devices?limit=5&offset=0", None, {}),
    ("POST", "https://api.fl33t.com/team/acme/device/d%201/checkin", b'{"checkin": {}}',
     {"Content-Type": "application/json", "Authorization": "Bearer x"}),
    ("PUT", "http://api.memfault.com:8080/api/v0/organizations/o/projects/p/hardware_versions/"
     "evt%2Fv2%20%C3%A9?q=%C3%A9", "s\u00e9", {"X-Multi-Word": "a, b"}),
    ("DELETE", "https://chunks.memfault.com/", b"", {"Content-Length": "0"}),
])
def test_environ_matches_werkzeug_environ_builder(method, url, body, headers):
    prepared = requests.Request(method, url, data=body, headers=headers).prepare()
    parts = urlsplit(prepared.url)
    builder = EnvironBuilder(path=parts.path or "/", base_url=f"{parts.scheme}://{parts.netloc}",
                             query_string=parts.query, method=prepared.method,
                             headers=list(prepared.headers.items()),
                             data=_body_bytes(prepared.body), errors_stream=sys.stderr)
    expected = builder.get_environ()
    got = wsgi_environ(prepared.method, prepared.url, prepared.headers.items(),
                   _body_bytes(prepared.body))
    expected_body, got_body = expected.pop("wsgi.input").read(), got.pop("wsgi.input").read()
    assert got_body == expected_body
    assert isinstance(got["wsgi.errors"], io.TextIOBase) or got["wsgi.errors"] is sys.stderr
    assert got == expected
