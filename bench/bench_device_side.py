"""Device-side figures: what a fleet of polling supervisors costs the fake.

Run by hand: ``python bench/bench_device_side.py [devices]``. Through the models (no HTTP), over a
fleet of ``devices`` devices on a 3-service release with variables at every level, it prints the
median and best (of 15) of: a v3 target-state poll, a v2 poll, a v3 state report with download
progress, the heartbeat sweep when nothing is due (what every request pays) and when every
device goes quiet at once. It asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any, Callable

from fake_api.app import create_app
from fake_api.balena.auth import Actor
from fake_api.balena.device_state import DEFAULT_POLL_INTERVAL_MS, POLL_JITTER_FACTOR
from fake_api.balena.routes_device import attach
from fake_api.core.cloud import Cloud


def timed(fn: Callable[[], Any], runs: int = 15) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main(devices: int) -> None:
    cloud = Cloud(seed=3)
    create_app(cloud)
    backend = cloud.backends["balena"]
    side = attach(backend)
    db = backend.db  # rows through the backend's db, with its rules
    user = backend.create_user("bench", "bench@example.com", "bench-password")
    org = db.find("organization", handle="bench")[0]
    dt = db.find("device_type", slug="raspberrypi4-64")[0]
    app = db.insert("application", {"app_name": "benchfleet", "organization": org["id"],
                                    "is_for__device_type": dt["id"]})
    release = db.insert("release", {"belongs_to__application": app["id"], "status": "success",
                                    "semver": "1.0.0"})
    for name in ("api", "worker", "proxy"):
        svc = db.insert("service", {"application": app["id"], "service_name": name})
        img = db.insert("image", {"is_a_build_of__service": svc["id"]})
        db.insert("release_image", {"image": img["id"], "is_part_of__release": release["id"]})
        db.insert("service_environment_variable", {"service": svc["id"], "name": "SVC",
                                                   "value": name})
    for i in range(5):
        db.insert("application_environment_variable", {"application": app["id"],
                                                        "name": f"FLEET_{i}", "value": str(i)})
        db.insert("application_config_variable", {"application": app["id"],
                                                   "name": f"BALENA_HOST_CONFIG_{i}",
                                                   "value": str(i)})
    actors = []
    for i in range(devices):
        d = db.insert("device", {"uuid": f"{i:032x}", "belongs_to__application": app["id"],
                                 "is_of__device_type": dt["id"], "belongs_to__user": user["id"]})
        db.insert("device_environment_variable", {"device": d["id"], "name": "DEV",
                                                  "value": str(i)})
        actors.append(Actor("device", d["id"], d["actor"], "api_key", uuid=d["uuid"],
                            application=app["id"]))
    state = side.state
    one, uuid = actors[devices // 2], actors[devices // 2].uuid
    state.state_v3(one, uuid)  # first poll: service installs
    images = state.state_v3(one, uuid)[uuid]["apps"][app["uuid"]]["releases"][release["commit"]]
    report = {uuid: {"status": "Downloading", "apps": {app["uuid"]: {"releases": {
        release["commit"]: {"update_status": "downloading", "services": {
            name: {"image": svc["image"], "status": "Downloading", "download_progress": 50}
            for name, svc in images["services"].items()}}}}}}}
    rows = [
        ("GET /device/v3/<uuid>/state (3 services, 4 variable levels)",
         lambda: state.state_v3(one, uuid)),
        ("GET /device/v2/<uuid>/state", lambda: state.state_v2(one, uuid)),
        ("PATCH /device/v3/state (3 image installs with progress)",
         lambda: state.report_v3(one, report)),
    ]
    print(f"{devices} devices in one fleet")
    for label, fn in rows:
        med, best = timed(fn)
        print(f"  {label}: {med:.2f} ms median, {best:.2f} ms best")
    start = time.perf_counter()
    for a in actors:
        state.heartbeat(db.get("device", a.id), a)
    print(f"  first contact of every device: {(time.perf_counter() - start) * 1000:.0f} ms")
    med, best = timed(state.sweep, runs=101)
    print(f"  heartbeat sweep, nothing due (every request pays it): {med * 1000:.1f} us median")
    quiet = DEFAULT_POLL_INTERVAL_MS * POLL_JITTER_FACTOR / 1000 + 16
    start = time.perf_counter()
    cloud.clock.advance(seconds=quiet)
    gone = sum(1 for a in actors if not db.get("device", a.id)["is_online"])
    print(f"  every device quiet at once -> {gone} offline in "
          f"{(time.perf_counter() - start) * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
