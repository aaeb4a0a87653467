"""Threads of mixed writes through the live server (``fleetsim.url``), then every acknowledged
write checked: nothing a client saw succeed is missing, nothing refused is there, and contested
creations have exactly one winner.

Bounded by default (:data:`THREADS` x :data:`OPS` requests); ``FLEETSIM_LONG=1`` runs more.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any, Callable

import pytest
import requests

LONG = os.environ.get("FLEETSIM_LONG") == "1"
THREADS = 8 if LONG else 4
OPS = 400 if LONG else 40
TIMEOUT = 30


def _run(workers: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def guard(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not errors, errors


def test_fl33t_acknowledged_writes_survive_concurrency(fleetsim: Any) -> None:
    team = fleetsim.fl33t.team()
    train = fleetsim.fl33t.train(team)
    fleet = fleetsim.fl33t.fleet(team, train, "main")
    base = f"{fleetsim.url}/team/{team.team_id}"
    acked: dict[str, str] = {}  # device_id -> last acknowledged name
    deleted: set[str] = set()
    trains: list[str] = []
    contested: Counter = Counter()
    lock = threading.Lock()

    def worker(n: int) -> Callable[[], None]:
        def work() -> None:
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {team.tokens['admin']}"
            mine: list[str] = []
            for i in range(OPS):
                step = i % 5
                if step == 0:
                    device_id = f"t{n}-d{i}"
                    r = http.post(f"{base}/device", timeout=TIMEOUT, json={"device": {
                        "device_id": device_id, "fleet_id": fleet["fleet_id"], "name": "new"}})
                    assert r.status_code == 201, r.text
                    mine.append(device_id)
                    with lock:
                        acked[device_id] = "new"
                elif step == 1 and mine:
                    name = f"renamed-{i}"
                    r = http.put(f"{base}/device/{mine[-1]}", timeout=TIMEOUT,
                                 json={"device": {"name": name}})
                    assert r.status_code == 204, r.text
                    with lock:
                        acked[mine[-1]] = name
                elif step == 2:
                    # every thread races for the same id: one 201, the others 409
                    r = http.post(f"{base}/device", timeout=TIMEOUT, json={"device": {
                        "device_id": f"shared-{i}", "fleet_id": fleet["fleet_id"]}})
                    assert r.status_code in (201, 409), r.text
                    with lock:
                        contested[(f"shared-{i}", r.status_code)] += 1
                elif step == 3:
                    r = http.post(f"{base}/train", timeout=TIMEOUT,
                                  json={"train": {"name": f"t{n}-{i}"}})
                    assert r.status_code == 201, r.text
                    with lock:
                        trains.append(r.json()["train"]["train_id"])
                elif step == 4 and len(mine) > 1:
                    victim = mine.pop(0)
                    r = http.delete(f"{base}/device/{victim}", timeout=TIMEOUT)
                    assert r.status_code == 204, r.text
                    with lock:
                        deleted.add(victim)
                        acked.pop(victim)
        return work

    _run([worker(n) for n in range(THREADS)])

    client = team.client(base_uri=fleetsim.url)
    listed = {d.device_id: d.name for d in client.list_devices()}
    for device_id, name in acked.items():
        assert listed.get(device_id) == name, device_id
    assert not deleted & set(listed)
    winners = [key for (key, status), count in contested.items() if status == 201]
    for key in {k for k, _ in contested}:
        assert contested[(key, 201)] == 1, (key, contested)
        assert contested[(key, 409)] == THREADS - 1, (key, contested)
        assert key in listed
    assert set(listed) == set(acked) | set(winners)
    assert {t.train_id for t in client.list_trains()} >= set(trains)
    assert client.get_fleet(fleet["fleet_id"]).size == len(listed)


def test_memfault_acknowledged_writes_survive_concurrency(fleetsim: Any) -> None:
    project = fleetsim.memfault.project()
    fleetsim.memfault.hardware_version(project, "evt")
    prefix = f"{fleetsim.url}/api/v0/organizations/{project.org}/projects/{project.project}"
    devices: dict[str, str] = {}  # serial -> acknowledged owner_ref
    chunks: Counter = Counter()
    cohorts: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> Callable[[], None]:
        def work() -> None:
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {project.org_token}"
            device = requests.Session()
            device.headers["Memfault-Project-Key"] = project.project_key
            mine: list[str] = []
            for i in range(OPS):
                step = i % 4
                if step == 0:
                    serial = f"T{n}-D{i}"
                    r = http.post(f"{prefix}/devices", timeout=TIMEOUT, json={
                        "device_serial": serial, "owner_ref": "o", "hardware_version": "evt"})
                    assert r.status_code == 200, r.text
                    mine.append(serial)
                    with lock:
                        devices[serial] = "o"
                elif step == 1 and mine:
                    r = http.patch(f"{prefix}/devices/{mine[-1]}", timeout=TIMEOUT,
                                   json={"owner_ref": f"owner-{i}"})
                    assert r.status_code == 200, r.text
                    with lock:
                        devices[mine[-1]] = f"owner-{i}"
                elif step == 2:
                    serial = f"SHARED-{i % 3}"  # every thread posts chunks for the same devices
                    r = device.post(f"{fleetsim.url}/api/v0/chunks/{serial}", timeout=TIMEOUT,
                                    data=f"{n}:{i}".encode(),
                                    headers={"Content-Type": "application/octet-stream"})
                    assert r.status_code == 202, r.text
                    with lock:
                        chunks[serial] += 1
                elif step == 3:
                    r = http.post(f"{prefix}/cohorts", timeout=TIMEOUT,
                                  json={"name": f"Cohort {n} {i}"})
                    assert r.status_code == 200, r.text
                    with lock:
                        cohorts.append(r.json()["data"]["slug"])
        return work

    _run([worker(n) for n in range(THREADS)])

    for serial, owner in devices.items():
        r = requests.get(f"{prefix}/devices/{serial}", timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {project.org_token}"})
        assert r.status_code == 200 and r.json()["data"]["owner_ref"] == owner, serial
    for serial, count in chunks.items():
        stored = fleetsim.memfault.chunks(project, serial)
        assert len(stored) == count, serial
        assert len(set(stored)) == count  # each acknowledged chunk once, none lost or doubled
    listed = requests.get(f"{prefix}/cohorts", params={"per_page": 100, "page": 1},
                          timeout=TIMEOUT, headers={"Authorization": f"Bearer {project.org_token}"})
    total = listed.json()["paging"]["total_count"]
    assert total == len(cohorts) + 1  # and the default cohort
    assert len(set(cohorts)) == len(cohorts)


@pytest.mark.parametrize("dialect", ["fl33t", "memfault"])
def test_the_server_still_answers_after_the_storm(fleetsim: Any, dialect: str) -> None:
    """A cheap liveness probe after the concurrent tests (a deadlock would hang here)."""
    path = "/team/x/trains" if dialect == "fl33t" else "/api/v0/releases/latest"
    r = requests.get(fleetsim.url + path, timeout=TIMEOUT)
    assert r.status_code in (401, 403) and r.headers["Content-Type"].startswith("application/json")
