"""Seeding once: what a test pays to start from a large fleet, seeded again vs. restored.

Run by hand: ``python bench/bench_baseline.py [devices]``. It prints figures; it asserts nothing.
A "large fleet" is one fl33t team with 3 builds and ``devices`` devices in one fleet, plus one
Memfault project with ``devices // 10`` devices: what a downstream suite might build in a
module-scoped fixture. Compared: seeding it through the seeding helpers in every test, creating
the fl33t devices through the HTTP API (as a suite using the official client would), and
``fleetsim_baseline`` (a snapshot taken once, restored per test).
"""

from __future__ import annotations

import statistics
import sys
import time


def _median(fn, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from pytest_fleetsim.cloud import FakeCloud, Runtime

    devices = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runtime = Runtime()
    handle = FakeCloud(runtime)

    def seed() -> None:
        handle.reset()
        fl33t = handle.fl33t
        team = fl33t.team("acme")
        train = fl33t.train(team, "main", train_id="main")
        for version in ("1.0.0", "1.1.0", "1.2.0"):
            fl33t.build(team, train, version, released=True)
        fleet = fl33t.fleet(team, train, "prod", fleet_id="prod")
        fl33t.devices(team, fleet, devices)
        project = handle.memfault.project()
        handle.memfault.devices(project, [f"SINK-{i:05d}" for i in range(devices // 10)])

    seeded = _median(seed, 3)
    baseline = handle.baseline()
    rows = sum(len(t) for t in baseline.snapshot["tables"].values())
    taken = _median(handle.baseline, 5)

    def restore() -> None:
        handle.reset()
        handle.use_baseline(baseline)

    restored = _median(restore, 9)

    import requests

    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + handle.fl33t.team("http").tokens["admin"]
    handle.fl33t.train("http", "main", train_id="main")
    handle.fl33t.fleet("http", "main", "prod", fleet_id="prod")
    sample = min(devices, 200)
    start = time.perf_counter()
    for i in range(sample):
        session.post(f"{handle.url}/team/http/device",
                     json={"device": {"device_id": f"h-{i}", "fleet_id": "prod"}}).raise_for_status()
    per_device_http = (time.perf_counter() - start) / sample
    handle.reset()
    handle.use_baseline(baseline)
    assert handle.snapshot()["tables"] == baseline.snapshot["tables"]
    print(f"fleetsim baseline bench (python {sys.version.split()[0]}): {devices} fl33t devices + "
          f"{devices // 10} Memfault devices, {rows} rows")
    print(f"  seed per test (helpers)        {seeded * 1000:8.1f} ms")
    print(f"  take the baseline (once)       {taken * 1000:8.1f} ms")
    print(f"  reset + restore per test       {restored * 1000:8.1f} ms  ({seeded / restored:.0f}x faster)")
    print(f"  the same devices over HTTP     {per_device_http * devices * 1000:8.1f} ms  "
          f"(measured on {sample}: {per_device_http * 1000:.2f} ms a device)")
    runtime.close()


if __name__ == "__main__":
    main()
