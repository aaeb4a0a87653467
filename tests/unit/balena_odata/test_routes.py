"""The /v6 and /v7 mounts over HTTP (Flask test client, anonymous actor)."""

from __future__ import annotations

import json


def test_pine_answers_over_http(client):
    r = client.get("/v7/device_type?$select=slug&$orderby=slug%20asc&$top=1")
    assert r.status_code == 200 and r.get_json() == {"d": [{"slug": "beaglebone-black"}]}
    r = client.get("/v7/device_type/$count?$filter=startswith(slug,'raspberry')")
    assert r.status_code == 200 and r.get_json()["d"] >= 4
    r = client.get("/v6/device_type(slug='raspberrypi3')?$select=slug")
    assert r.get_json() == {"d": [{"slug": "raspberrypi3"}]}
    r = client.get("/v7/device(uuid='a%2Fb''c')")  # %2F and '' inside a key
    assert r.status_code == 200 and r.get_json() == {"d": []}


def test_errors_are_json_strings_with_400(client):
    r = client.get("/v7/nothing?$filter=a%20eq%201")
    assert r.status_code == 404 and r.get_json() == "no such endpoint: GET /v7/nothing"
    for url in ["/v7/device?$filter=bogus%20eq%201", "/v7/device_type?$filter=%ff",
                "/v7/device_type?$filter=(((", "/v7/device_type?$expand=x(", "/v7/device_type(1"]:
        r = client.get(url)
        assert r.status_code == 400, url
        assert isinstance(json.loads(r.data), str), url
    r = client.post("/v7/device_tag", data="{bad", content_type="application/json")
    assert r.status_code == 400 and isinstance(json.loads(r.data), str)
    r = client.get("/v7/device_type?" + "$filter=" + "(" * 3000 + "1 eq 1" + ")" * 3000)
    assert r.status_code == 400


def test_head_is_a_get_without_a_body(client):
    r = client.head("/v7/device_type?$top=1")
    assert r.status_code == 200 and r.data == b""


def test_writes_answer_an_empty_200(client):
    r = client.patch("/v7/device_tag(1)", json={"value": "x"})
    assert r.status_code == 200 and r.data == b""
