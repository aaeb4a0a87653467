"""One slow client must not freeze the server: bodies are read before the store lock is taken."""

from __future__ import annotations

import json
import select
import socket
import time
from typing import Iterator

import pytest
import requests

from fake_api.app import create_app
from pytest_fleetsim.server import LiveServer

BODY_TIMEOUT = 1.0


@pytest.fixture
def server() -> Iterator[LiveServer]:
    app = create_app()
    app.config["FLEETSIM_BODY_TIMEOUT"] = BODY_TIMEOUT
    live = LiveServer(app)
    live.start()
    yield live
    live.stop()


def _start_slow_request(server: LiveServer, method: str, path: str, sent: bytes,
                        length: int = 100_000, content_type: str = "application/json") -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    head = (f"{method} {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n")
    sock.sendall(head.encode() + sent)
    return sock


def _answer(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith((b"}", b'"')):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"chunked" in head.lower():
        body = body.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
    return status, json.loads(body)


@pytest.mark.parametrize("method, path, content_type", [
    ("PUT", "/team/acme/build/b1/upload", "application/octet-stream"),
    ("POST", "/__fleetsim__/faults", "application/json"),
    ("POST", "/api/v0/chunks/DEV1", "application/octet-stream"),
])
def test_a_stalled_body_holds_nobody_but_its_sender(server, method, path, content_type):
    slow = [_start_slow_request(server, method, path, b"0123456789", content_type=content_type)
            for _ in range(3)]
    try:
        started = time.monotonic()
        # Every other request answers at once, health and writes alike, while the bodies stall.
        assert requests.get(server.url + "/__fleetsim__/health", timeout=BODY_TIMEOUT / 2).ok
        moved = requests.post(server.url + "/__fleetsim__/clock", json={"advance": 5},
                              timeout=BODY_TIMEOUT / 2)
        assert moved.status_code == 200
        assert time.monotonic() - started < BODY_TIMEOUT
        # The stalled requests end in a 408, in the error format of the dialect they called.
        for sock in slow:
            status, body = _answer(sock)
            assert status == 408
            message = body["error"] if isinstance(body["error"], str) else body["error"]["message"]
            assert "stalled" in message
    finally:
        for sock in slow:
            sock.close()
    assert requests.get(server.url + "/__fleetsim__/health", timeout=5).ok


def test_a_body_cut_short_is_a_400_and_changes_nothing(server):
    before = requests.get(server.url + "/__fleetsim__/snapshot", timeout=5).json()
    sock = _start_slow_request(server, "POST", "/__fleetsim__/clock", b'{"advance": 5}', length=500)
    sock.shutdown(socket.SHUT_WR)  # the client is gone before the 500 bytes it announced
    status, body = _answer(sock)
    sock.close()
    assert status == 400
    assert "Content-Length" in body["error"]["message"]
    assert requests.get(server.url + "/__fleetsim__/snapshot", timeout=5).json() == before


def test_a_trickling_body_is_cut_at_the_deadline(server):
    server.app.config["FLEETSIM_BODY_DEADLINE"] = 1.0
    sock = _start_slow_request(server, "POST", "/__fleetsim__/faults", b"{")
    try:
        for _ in range(40):  # a byte every 0.1 s: never silent for the 1 s stall timeout
            readable, _, _ = select.select([sock], [], [], 0.1)
            if readable:
                break  # the answer came
            sock.sendall(b" ")
        status, body = _answer(sock)
    finally:
        sock.close()
    assert status == 408 and "longer than 1 s" in body["error"]["message"]
    assert requests.get(server.url + "/__fleetsim__/faults", timeout=5).json() == {"faults": []}
