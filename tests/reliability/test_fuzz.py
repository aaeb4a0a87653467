"""Fuzz every dialect of :mod:`.endpoints` through the Flask test client.

Each example sends one to three requests on a freshly seeded world. Each takes one endpoint of
the table and a credential, then spoils the request: junk in one body field, a dropped or extra
field, a junk body, a junk path segment or query parameter, a random method, a random path under
the dialect, a junk ``Authorization`` or ``Content-Type``. Every answer must be: no 5xx, no
redirect, no HTML, strict JSON when JSON, the vendor's error envelope on every 4xx, and a state
(``cloud.snapshot()``) unchanged by every refusal.

After an accepted write, every read endpoint is called again and every download link in their
answers is followed, so junk that was stored cannot break later requests unseen.

Bounded by default (:data:`EXAMPLES` examples per dialect, a few seconds). ``FLEETSIM_LONG=1``
runs :data:`LONG_EXAMPLES`, ``FLEETSIM_FUZZ_EXAMPLES=N`` runs N; ``FLEETSIM_FUZZ_STATS=<file>``
appends the counts as JSON lines (docs/reliability.md quotes them).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .endpoints import SUITES, Env, Suite

LONG = os.environ.get("FLEETSIM_LONG") == "1"
EXAMPLES = 200
LONG_EXAMPLES = 10_000
#: ``FLEETSIM_FUZZ_EXAMPLES=N`` sets the count outright (wins over ``FLEETSIM_LONG``)
COUNT = int(os.environ.get("FLEETSIM_FUZZ_EXAMPLES") or (LONG_EXAMPLES if LONG else EXAMPLES))

SPECIAL_TEXT = ["", " ", "\n", "x\n", "SINK-9\n", ".", "..", "%", "%00", "%2F", "\x00", "\ud800",
                "\udfff", "固件.bin", "a/b", "a//b", "-1", "0", "1e309", "NaN", "null", "[]",
                "' OR 1=1 --", "<script>", "\\", '"', "A" * 3000, "\r\nX-Injected: 1",
                "{team}", "__bytes__"]
TEXT = st.one_of(st.text(max_size=30), st.sampled_from(SPECIAL_TEXT))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT,
                   st.sampled_from([2**63, -(2**63) - 1, 10**30, 0.5, -1]))
JUNK = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4),
    st.just({"__bytes__": "AAAA"})), max_leaves=8)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "multipart/mixed", "application/xml", ""]
#: what may be spoiled in a request (repeats make a kind likelier: junk bodies matter most)
MUTATIONS = ["none", "leaf", "leaf", "leaf", "drop", "add", "body", "body", "bytes", "bytes",
             "segment", "segment", "query", "method", "path", "authorization", "content_type"]


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every position in a JSON value (``()`` is the whole value)."""
    found = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            found += _paths(value, prefix + (index,))
    return found


def _put(obj: Any, path: tuple, value: Any, drop: bool = False) -> Any:
    if not path:
        return value
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


def _segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


class Request:
    """One request being spoiled: method, path, query, headers and body."""

    def __init__(self, env: Env, endpoint: Any, credential: str) -> None:
        self.method = endpoint.method
        self.path = env.fill(endpoint.path)
        self.query: list[tuple[str, str]] = list((env.fill(endpoint.query) or {}).items())
        self.headers = dict(env.world.credentials[credential])
        self.json = env.fill(endpoint.body) if endpoint.body is not None else None
        self.raw = endpoint.raw
        if endpoint.content_type:
            self.headers["Content-Type"] = endpoint.content_type
        elif self.json is not None:
            self.headers["Content-Type"] = "application/json"

    def mutate(self, kind: str, data: st.DataObject, suite: Suite) -> None:
        draw = data.draw
        if kind in ("leaf", "drop", "add") and self.json is not None:
            self.json = copy.deepcopy(self.json)
            where = draw(st.sampled_from(_paths(self.json)))
            if kind == "leaf":
                self.json = _put(self.json, where, draw(JUNK))
            elif kind == "drop" and where:
                self.json = _put(self.json, where, None, drop=True)
            elif kind == "add":
                target = self.json
                for step in where:
                    target = target[step]
                if isinstance(target, dict):
                    target[draw(TEXT)] = draw(JUNK)
                elif isinstance(target, list):
                    target.append(draw(JUNK))
        elif kind == "body":
            self.json, self.raw = draw(JUNK), None
        elif kind == "bytes":
            self.json = None
            self.raw = draw(st.one_of(st.binary(max_size=64), st.sampled_from(
                [b"", b"{", b"[" * 5000, b'{"a": NaN}', b'"\\ud800"', b"\xff\xfe", b"null"])))
        elif kind == "segment":
            parts = self.path.split("/")
            fixed = suite.prefix.count("/") - 1  # the dialect's own prefix stays
            index = draw(st.integers(fixed + 1, len(parts) - 1))
            parts[index] = _segment(draw(TEXT))
            self.path = "/".join(parts)
        elif kind == "query":
            self.query.append((draw(st.sampled_from(
                ["offset", "limit", "page", "per_page", "sort", "train_id", "version",
                 "device_serial", "hardware_version", "software_type", "current_version",
                 "q", "expires", "signature"]) | TEXT), draw(TEXT)))
        elif kind == "method":
            self.method = draw(st.sampled_from(METHODS))
        elif kind == "path":
            segments = draw(st.lists(TEXT, min_size=1, max_size=5))
            self.path = suite.prefix + "/".join(_segment(s) for s in segments)
        elif kind == "authorization":
            self.headers["Authorization"] = draw(st.text(
                st.characters(min_codepoint=32, max_codepoint=255), max_size=60))
        elif kind == "content_type":
            self.headers["Content-Type"] = draw(st.sampled_from(CONTENT_TYPES))

    def send(self, env: Env) -> Any:
        body = self.raw
        if self.json is not None:
            body = json.dumps(self.json).encode("utf-8", "surrogatepass")
        query = "&".join(f"{_segment(k)}={_segment(v)}" for k, v in self.query)
        url = self.path + (f"?{query}" if query else "")
        return env.client.open(url, method=self.method, data=body, headers=self.headers)


def _strict(constant: str) -> Any:
    raise ValueError(f"not strict JSON: {constant}")


def check_answer(suite: Suite, method: str, response: Any) -> None:
    """What every answer must be, whatever was asked."""
    status, body = response.status_code, response.get_data()
    kind = response.headers.get("Content-Type", "")
    assert status < 500, body[:500]
    assert not 300 <= status < 400, f"redirect {status} to {response.headers.get('Location')}"
    assert "html" not in kind.lower() and not body.lstrip().startswith(b"<"), body[:200]
    if kind.startswith("application/json") and body:
        json.loads(body, parse_constant=_strict)
    if status >= 400 and method != "HEAD":
        assert kind.startswith("application/json"), kind
        suite.check_error(status, body)


STATS: Counter = Counter()
_LINK = re.compile(r'"(http://localhost(/[^"?]*)\?([^"]*))"')
_READ_ONLY = ("GET", "HEAD", "OPTIONS")


def reread(env: Env, suite: Suite, counts: Counter) -> None:
    """After an accepted write, every read of the table (and every download link they give)
    must still answer well: stored junk must not break later requests."""
    for endpoint in suite.endpoints:
        if endpoint.mutating:
            continue
        response = env.request(endpoint, suite.read_as(endpoint))
        counts["rereads"] += 1
        check_answer(suite, "GET", response)
        for _, path, query in _LINK.findall(response.get_data(as_text=True)):
            link = env.client.get(path, query_string=json.loads(f'"{query}"'))
            counts["downloads"] += 1
            assert link.status_code < 500 and link.status_code != 404, (path, link.status_code)


@pytest.mark.parametrize("suite", SUITES, ids=[s.name for s in SUITES])
def test_fuzz(suite: Suite) -> None:
    env = Env(suite)
    counts: Counter = Counter()

    @settings(max_examples=COUNT, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        env.fresh()
        for _ in range(data.draw(st.integers(1, 3), label="requests")):
            one_request(data)

    def one_request(data: st.DataObject) -> None:
        endpoint = data.draw(st.sampled_from(suite.endpoints), label="endpoint")
        # half the time a credential the endpoint accepts, so the junk gets past the auth check
        allowed = [c for c in suite.credential_kinds if suite.expected(endpoint, c) < 400]
        credential = data.draw(st.sampled_from(allowed) | st.sampled_from(suite.credential_kinds),
                               label="credential")
        request = Request(env, endpoint, credential)
        for kind in data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2),
                              label="mutations"):
            request.mutate(kind, data, suite)
        before = env.cloud.snapshot()
        response = request.send(env)
        counts["requests"] += 1
        counts[f"{response.status_code // 100}xx"] += 1
        check_answer(suite, request.method, response)
        if response.status_code >= 400:
            counts["refusals"] += 1
            assert env.cloud.snapshot() == before, "a refused request changed the state"
        elif request.method not in _READ_ONLY:
            reread(env, suite, counts)

    run()
    STATS.update({f"{suite.name}.{k}": v for k, v in counts.items()})
    target = os.environ.get("FLEETSIM_FUZZ_STATS")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"dialect": suite.name, **counts}) + "\n")
    assert counts["requests"] >= 1
    assert counts["2xx"] >= 1 and counts["4xx"] >= 1, counts  # the fuzz reaches both sides
