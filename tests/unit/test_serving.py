"""The live server's HTTP layer: keep-alive with exact lengths, JSON errors, read timeouts."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from fake_api.serving import make_fleetsim_server
from pytest_fleetsim.server import LiveServer


@pytest.fixture
def live(app):
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


def _raw(server: LiveServer, data: bytes, timeout: float = 5) -> bytes:
    """Send ``data`` on a fresh socket and read until the server closes it."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_one_connection_serves_many_requests_even_when_a_body_is_left_unread(live):
    conn = http.client.HTTPConnection(live.host, live.port, timeout=5)
    conn.request("GET", "/__fleetsim__/health")
    first = conn.getresponse()
    assert first.status == 200 and int(first.headers["Content-Length"]) == len(first.read())
    sock = conn.sock
    # 401 before the body is read: the server must drain it, not parse it as the next request.
    conn.request("POST", "/team/acme/train", body=b'{"train": {"name": "x"}}' * 100,
                 headers={"Content-Type": "application/json"})
    refused = conn.getresponse()
    assert refused.status == 401 and json.loads(refused.read())["error"]
    conn.request("GET", "/__fleetsim__/health")
    again = conn.getresponse()
    assert again.status == 200 and again.read()
    assert conn.sock is sock  # never reconnected
    conn.close()


def test_head_keeps_the_length_and_sends_no_body(live):
    conn = http.client.HTTPConnection(live.host, live.port, timeout=5)
    conn.request("GET", "/__fleetsim__/health")
    first = conn.getresponse()
    length = int(first.headers["Content-Length"])
    first.read()
    conn.request("HEAD", "/__fleetsim__/health")
    head = conn.getresponse()
    assert int(head.headers["Content-Length"]) == length and head.read() == b""
    conn.request("GET", "/__fleetsim__/health")
    assert conn.getresponse().status == 200


def test_client_asking_to_close_gets_connection_close(live):
    raw = _raw(live, b"GET /__fleetsim__/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, headers, body = _parse(raw)
    assert status == 200 and headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)


def test_chunked_request_body_is_read_and_the_connection_closed(live):
    body = b'{"train": {"name": "x"}}'
    raw = _raw(live, b"POST /team/acme/train HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Type: application/json\r\n\r\n"
               + f"{len(body):x}".encode() + b"\r\n" + body + b"\r\n0\r\n\r\n")
    status, headers, _ = _parse(raw)
    assert status == 401 and headers["connection"] == "close"


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET /team/acme/trains HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    (b"GET /team/acme/trains HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150))
     + b"\r\n", 431),
    (b"NONSENSE\r\n\r\n", 400),
    (b"GET / HTTP/7.0\r\n\r\n", 505),
    (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
])
def test_http_layer_errors_are_json_never_html(live, request_bytes, status):
    got, headers, body = _parse(_raw(live, request_bytes))
    assert got == status
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert b"<" not in body and json.loads(body)


def test_http_layer_error_on_a_dialect_path_uses_that_dialect_format(live):
    _, _, body = _parse(_raw(live, b"GET /team/acme/trains HTTP/1.1\r\nX-Big: "
                                   + b"a" * 70_000 + b"\r\n\r\n"))
    assert isinstance(json.loads(body)["error"], str)  # fl33t's {"error": "..."}


def test_empty_answers_carry_no_html_media_type(app, client, live):
    from fake_api.fl33t.seed import Fl33tSeeder

    seed = Fl33tSeeder(app.cloud.backends["fl33t"], "http://x")
    team = seed.team("acme")
    seed.device(team, seed.fleet(team, seed.train(team)), "d1")
    auth = {"Authorization": f"Bearer {team.tokens['admin']}"}
    in_process = client.post("/team/acme/device/d1/checkin", json={}, headers=auth)
    assert in_process.status_code == 204 and "Content-Type" not in in_process.headers
    conn = http.client.HTTPConnection(live.host, live.port, timeout=5)
    conn.request("POST", "/team/acme/device/d1/checkin", body=b"{}",
                 headers={**auth, "Content-Type": "application/json"})
    answer = conn.getresponse()
    assert answer.status == 204 and answer.read() == b""
    assert answer.headers.get("Content-Type") is None
    assert answer.headers.get("Content-Length") is None  # a 204 has no length to give
    conn.request("DELETE", f"/team/acme/session/{team.tokens['readonly']}", headers=auth)
    deleted = conn.getresponse()
    assert deleted.status == 204 and deleted.read() == b""
    assert deleted.headers.get("Content-Type") is None


def test_silent_client_is_cut_off_after_the_read_timeout(app):
    server = make_fleetsim_server("127.0.0.1", 0, app, quiet=True, read_timeout=0.3)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"POST /team/acme/train HTTP/1.1\r\nContent-Le")  # stalls in the headers
            while sock.recv(65536):
                pass
        assert time.monotonic() - started < 3
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            while sock.recv(65536):  # idle: nothing sent at all
                pass
        assert time.monotonic() - started < 5
    finally:
        server.shutdown()
        server.server_close()
