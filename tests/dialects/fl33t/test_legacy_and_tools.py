"""Routes of fl33t's own tools and older clients: the vendor's upload script
(``fl33t-tools/ota/upload/fl33t-upload``) replayed request by request, and the nested build and
update-check routes of fl33t-client before 0.6, with the shapes its tests expect."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.parse
import urllib.request

import requests


def _upload_script(base: str, team_id: str, token: str, train_name: str, version: str,
                   path: str) -> dict:
    """What fl33t-upload does with --train-name --create-train: urllib requests, then an
    http.client PUT with only Content-Length (no Content-Disposition, no auth)."""

    def call(url: str, data=None, method: str = "GET", **query):
        url = base + url
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Authorization": "Bearer " + token}
        if data:
            headers["Content-Type"] = "application/json"
            data = json.dumps(data).encode()
        request = urllib.request.Request(url, data=data, headers=headers)
        request.get_method = lambda: method
        return json.loads(urllib.request.urlopen(request).read().decode("utf-8"))

    trains = call(f"/team/{team_id}/trains", name=train_name)["trains"]
    assert trains == []
    train = call(f"/team/{team_id}/train", data={"train": {"name": train_name}},
                 method="POST")["train"]
    with open(path, "rb") as f:
        md5 = hashlib.md5(f.read()).hexdigest()
    build = call(f"/team/{team_id}/train/{train['train_id']}/build", method="POST",
                 data={"build": {"train_id": train["train_id"], "version": version,
                                 "md5sum": md5}})["build"]
    scheme, rest = build["upload_url"].split("//", 1)
    host, rest = rest.split("/", 1)
    conn = http.client.HTTPConnection(host)
    with open(path, "rb") as f:
        conn.request("PUT", "/" + rest, f, {"Content-Length": str(os.path.getsize(path))})
    assert conn.getresponse().status == 200
    return build


def test_the_vendor_upload_script(fleetsim, fl33t_client, team, tmp_path):
    firmware = tmp_path / "fw.bin"
    firmware.write_bytes(b"firmware 1.2.0")
    build = _upload_script(fleetsim.url, team.team_id, team.tokens["upload"], "main", "1.2.0",
                           str(firmware))
    assert build["status"] == "created" and build["version"] == "1.2.0"
    fetched = fl33t_client.get_build(build["build_id"])      # the official client sees it
    assert fetched.status == "available" and fetched.size == len(b"firmware 1.2.0")
    assert fetched.md5sum == hashlib.md5(b"firmware 1.2.0").hexdigest()
    assert requests.get(fetched.download_url, timeout=30).content == b"firmware 1.2.0"
    assert [t.name for t in fl33t_client.list_trains()] == ["main"]


def test_nested_build_routes_of_clients_before_0_6(fleetsim, team, raw):
    seed = fleetsim.fl33t
    train = seed.train(team, "main")
    other = seed.train(team, "other")
    b1 = seed.build(team, train, "0.1", data=b"one")
    b2 = seed.build(team, train, "0.2", released=True, data=b"two")
    seed.build(team, other, "9.9", data=b"elsewhere")
    tid = train["train_id"]

    listed = raw("GET", f"/train/{tid}/builds").json()
    assert listed["build_count"] == 2
    assert [b["build_id"] for b in listed["builds"]] == [b1["build_id"], b2["build_id"]]
    got = raw("GET", f"/train/{tid}/build/{b1['build_id']}").json()["build"]
    assert got["version"] == "0.1" and got["train_id"] == tid
    # a build of another train is not found under this one
    assert raw("GET", f"/train/{other['train_id']}/build/{b1['build_id']}").status_code == 404

    body = {"build": {**got, "released": True}}
    assert raw("PUT", f"/train/{tid}/build/{b1['build_id']}", json=body).status_code == 204
    assert raw("GET", f"/build/{b1['build_id']}").json()["build"]["released"] is True
    created = raw("POST", f"/train/{tid}/build", json={"build": {"version": "0.1.4"}})
    assert created.status_code == 201 and created.json()["build"]["upload_url"]
    assert created.json()["build"]["train_id"] == tid
    assert raw("DELETE", f"/train/{tid}/build/{b1['build_id']}").status_code == 204
    assert raw("GET", f"/build/{b1['build_id']}").status_code == 404
    # privileges are today's: a readonly token may read, not write
    assert raw("GET", f"/train/{tid}/builds", token="readonly").status_code == 200
    assert raw("POST", f"/train/{tid}/build", token="readonly",
               json={"build": {"version": "1"}}).status_code == 403


def test_old_update_check_route(fleetsim, team, raw):
    """``Device.upgrade_available()`` of clients <= 0.5: ``GET /device/{id}/build``."""
    seed = fleetsim.fl33t
    train = seed.train(team)
    old = seed.build(team, train, "0.1", released=True, data=b"one")
    new = seed.build(team, train, "0.2", released=True, data=b"two")
    fleet = seed.fleet(team, train)
    device = seed.device(team, fleet, "asdf")

    offered = raw("GET", "/device/asdf/build", params={"installed_build_id": old["build_id"]})
    assert offered.status_code == 200
    assert offered.json()["build"]["build_id"] == new["build_id"]
    assert offered.json()["build"]["train_id"] == train["train_id"]
    assert raw("GET", "/device/asdf/build", token=device["session_token"],
               params={"installed_build_id": new["build_id"]}).status_code == 204
    assert raw("GET", "/device/nope/build").status_code == 404
