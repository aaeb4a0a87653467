"""The app's shared behaviour: control plane, error formats per dialect, faults, journal."""

import json

import pytest


def test_health(client):
    body = client.get("/__fleetsim__/health").get_json()
    assert body["status"] == "ok"
    assert body["dialects"] == ["balena", "fl33t", "memfault"]
    assert body["clock"] == {"virtual": True, "now": "2026-01-01T00:00:00.000000+00:00"}


@pytest.mark.parametrize("path, check", [
    ("/team/t/nowhere", lambda r: r.get_json() == {"error": "no such endpoint: GET /team/t/nowhere"}),
    ("/api/v0/nowhere", lambda r: r.get_json()["error"]["http_code"] == 404),
    ("/v6/nowhere", lambda r: r.get_json() == "no such endpoint: GET /v6/nowhere"),
    ("/elsewhere", lambda r: r.get_json()["error"]["status"] == 404),
])
def test_unknown_routes_answer_in_the_owning_dialects_format(client, path, check):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert check(response)


def test_the_vendor_host_picks_the_dialect_when_the_path_does_not(client):
    response = client.get("/nowhere", base_url="https://api.memfault.com")
    assert response.get_json()["error"]["http_code"] == 404


def test_method_not_allowed_is_405_with_allow(client):
    response = client.put("/__fleetsim__/health")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.get_json()["error"]["status"] == 405


def test_uncaught_errors_are_500_json_in_the_dialect_format(app, caplog):
    app.add_url_rule("/team/boom", "boom", lambda: 1 / 0)
    response = app.test_client().get("/team/boom")
    assert response.status_code == 500
    assert "ZeroDivisionError" in response.get_json()["error"]
    assert "unhandled error on GET /team/boom" in caplog.text


def test_malformed_and_oversize_bodies(app, client):
    bad = client.post("/__fleetsim__/restore", data="{nope", content_type="application/json")
    assert bad.status_code == 400 and "not valid JSON" in bad.get_json()["error"]["message"]
    wrong = client.post("/__fleetsim__/restore", json=[1, 2])
    assert wrong.status_code == 400 and "JSON object, not array" in wrong.get_json()["error"]["message"]
    app.config["MAX_CONTENT_LENGTH"] = 10
    big = client.post("/__fleetsim__/restore", data="x" * 100)
    assert big.status_code == 413
    assert big.get_json()["error"]["status"] == 413


def test_reset_snapshot_restore_over_http(app, client):
    app.cloud.store.table("demo.things")["a"] = {"id": "a"}
    snap = client.get("/__fleetsim__/snapshot").get_json()
    assert snap["tables"]["demo.things"] == {"a": {"id": "a"}}
    assert client.post("/__fleetsim__/reset", json={"seed": 9}).get_json()["seed"] == 9
    assert len(app.cloud.store.table("demo.things")) == 0
    assert client.post("/__fleetsim__/restore", json=snap).status_code == 200
    assert app.cloud.store.table("demo.things")["a"] == {"id": "a"}
    assert app.cloud.seed == 0
    refused = client.post("/__fleetsim__/restore", json={"tables": {}})
    assert refused.status_code == 400 and "not a fleetsim snapshot" in refused.get_json()["error"]["message"]
    assert client.post("/__fleetsim__/reset", json={"seed": "x"}).status_code == 400


def test_clock_over_http(client):
    assert client.post("/__fleetsim__/clock", json={"advance": 3600}).get_json()["now"].startswith(
        "2026-01-01T01:00:00")
    assert client.post("/__fleetsim__/clock", json={"set": "2027-01-01T00:00:00Z"}).get_json()["now"] \
        == "2027-01-01T00:00:00.000000+00:00"
    for bad in ({"advance": "soon"}, {"advance": -5}, {"set": "tomorrow"}, {}):
        response = client.post("/__fleetsim__/clock", json=bad)
        assert response.status_code == 400, bad
    assert client.get("/__fleetsim__/clock").get_json()["now"].startswith("2027-01-01")


def test_faults_over_http_act_in_the_dialect_format(client):
    created = client.post("/__fleetsim__/faults", json={
        "dialect": "memfault", "path": "/api/v0/*", "status": 503, "retry_after": 7, "times": 1})
    assert created.status_code == 201
    rule = created.get_json()
    hit = client.get("/api/v0/anything")
    assert hit.status_code == 503 and hit.headers["Retry-After"] == "7"
    assert hit.get_json()["error"]["http_code"] == 503
    assert client.get("/api/v0/anything").status_code == 404  # times=1: expired
    listed = client.get("/__fleetsim__/faults").get_json()["faults"]
    assert listed[0]["id"] == rule["id"] and listed[0]["hits"] == 1
    assert client.delete(f"/__fleetsim__/faults/{rule['id']}").status_code == 204
    assert client.delete(f"/__fleetsim__/faults/{rule['id']}").status_code == 404
    assert client.post("/__fleetsim__/faults", json={"status": 999}).status_code == 400
    assert client.post("/__fleetsim__/faults", json={"colour": "red", "status": 500}).status_code == 400


def test_fault_with_custom_body_and_virtual_latency(app, client):
    app.cloud.faults.add(dialect="fl33t", latency=30, virtual=True, status=200,
                         body={"devices": [], "device_count": 0})
    response = client.get("/team/t/devices")
    assert response.get_json() == {"devices": [], "device_count": 0}
    assert app.cloud.clock.isoformat().startswith("2026-01-01T00:00:30")


def test_control_plane_is_never_faulted(app, client):
    app.cloud.faults.add(status=500)
    assert client.get("/__fleetsim__/health").status_code == 200


def test_journal_records_and_filters(app, client):
    client.get("/team/t/x?limit=2")
    client.get("/api/v0/y")
    entries = client.get("/__fleetsim__/journal?dialect=fl33t").get_json()["entries"]
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in entries] == [
        ("GET", "/team/t/x", "limit=2", 404)]
    assert client.delete("/__fleetsim__/journal").status_code == 204
    assert len(app.cloud.journal) == 1  # the DELETE itself


def test_scenario_endpoint(client):
    assert client.post("/__fleetsim__/scenario", json={"name": "empty"}).status_code == 200
    missing = client.post("/__fleetsim__/scenario", json={"name": "no-such-thing"})
    assert missing.status_code == 400 and "shipped names" in missing.get_json()["error"]["message"]
    unknown = client.post("/__fleetsim__/scenario", json={"aws": {}})
    assert "unknown scenario section" in unknown.get_json()["error"]["message"]


def test_dashboard_is_html(app, client):
    app.cloud.store.table("fl33t.devices")["d"] = {}
    page = client.get("/__fleetsim__/")
    assert page.mimetype == "text/html" and "fl33t.devices" in page.get_data(as_text=True)


def test_same_seed_same_bytes(app):
    from fake_api.app import create_app

    other = create_app()
    for a in (app, other):
        a.cloud.ids.token("fl33t.session", "", 20)
    assert json.dumps(app.cloud.snapshot()) == json.dumps(other.cloud.snapshot())
