"""Memfault's own "Adding a Device to a Cohort - API" tutorial, replayed request by request
(docs-repo ``add-device-to-cohort-api``): its captured requests must be accepted and its
responses' shapes and values matched. HTTP Basic auth, as the tutorial's prerequisites say."""

from __future__ import annotations

import base64

from .memfault_helpers import Api


def basic(user: str, secret: str) -> dict:
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def test_adding_a_device_to_a_cohort_tutorial(fleetsim):
    project = fleetsim.memfault.project("memfault", "demo")      # "A Project must already exist"
    api = Api(fleetsim.url, project, auth=basic(project.user_email, project.user_api_key))

    # "Make sure the Device Exists": not yet, so it is created
    assert api.get("/devices/ABCD1234").status_code == 404
    created = api.post("/devices", data='{\n\t  "device_serial": "ABCD1234",\n'
                                        '\t  "hardware_version": "proto"\n  }')
    assert created.status_code == 200                              # "Response - HTTP 200"
    device = created.json()["data"]
    assert device["device_serial"] == "ABCD1234" and device["hardware_version"] == "proto"
    assert device["owner_ref"] == ""
    assert device["last_seen"] is None and device["last_seen_release"] is None
    assert {k: device["cohort"][k] for k in ("name", "slug")} == {"name": "default",
                                                                  "slug": "default"}
    # "we can also always create a Device and check for either a 200 - OK or a 409 - CONFLICT"
    assert api.post("/devices", json={"device_serial": "ABCD1234",
                                      "hardware_version": "proto"}).status_code == 409

    # "Make Sure Cohort Exists"
    cohort = api.post("/cohorts", json={"name": "Beta", "slug": "f8e70b92"})
    assert cohort.status_code == 200
    body = cohort.json()["data"]
    assert (body["name"], body["slug"], body["count_devices"], body["last_deployment"]) == (
        "Beta", "f8e70b92", 0, None)
    assert api.post("/cohorts", json={"name": "Beta", "slug": "f8e70b92"}).status_code == 409

    # "Add Device to Cohort"
    moved = api.patch("/devices/ABCD1234", json={"cohort": "f8e70b92"})
    assert moved.status_code == 200
    data = moved.json()["data"]
    assert data["cohort"]["name"] == "Beta" and data["owner_ref"] == ""   # "now is Beta"


def test_auto_created_devices_have_an_empty_owner_ref(fleetsim, mf, device, api):
    assert device("AUTO-1").check("1.0.0").status_code == 204
    assert api.get("/devices/AUTO-1").json()["data"]["owner_ref"] == ""
    # and "" can be written back
    assert api.patch("/devices/AUTO-1", json={"owner_ref": ""}).status_code == 200


def test_a_normal_deployment_posted_back_as_rendered_is_accepted(fleetsim, mf, api):
    fleetsim.memfault.release(mf, "1.0.0")
    first = api.post("/deployments", json={"type": "normal", "release": "1.0.0",
                                           "cohort": "default"}).json()["data"]
    assert first["rollout_percent"] == 0                # Memfault's example renders it so
    again = api.post("/deployments", json={"type": first["type"], "release": "1.0.0",
                                           "cohort": "default",
                                           "rollout_percent": first["rollout_percent"]})
    assert again.status_code == 200, again.text
