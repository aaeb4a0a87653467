"""Foundation figures: per-test reset cost, plugin start-up cost, control-plane request rates.

Run by hand: ``python bench/bench_core.py``. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def _per_call(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def _wall(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t


def plugin_import_cost(runs: int = 7) -> tuple[float, float]:
    """Median wall time of ``python -c 'import pytest'`` with and without the plugin module."""
    base = statistics.median(_wall("import pytest") for _ in range(runs))
    with_plugin = statistics.median(_wall("import pytest, pytest_fleetsim.plugin") for _ in range(runs))
    return base, with_plugin


def main() -> None:
    import requests

    from fake_api.core import Cloud
    from pytest_fleetsim.cloud import FakeCloud, Runtime

    print(f"fleetsim foundation bench (python {sys.version.split()[0]})")

    base, with_plugin = plugin_import_cost()
    print(f"plugin import, unused: {1000 * (with_plugin - base):+.1f} ms over a bare "
          f"'import pytest' ({1000 * base:.0f} ms -> {1000 * with_plugin:.0f} ms, median of 7)")

    bare = statistics.median(_wall("pass") for _ in range(5))
    first = statistics.median(
        _wall("from pytest_fleetsim.cloud import Runtime; Runtime()") for _ in range(5))
    print(f"first use in a session (import Flask, the fake, build the app): "
          f"{1000 * (first - bare):.0f} ms, once per session (or xdist worker)")
    runtime = Runtime()
    t = time.perf_counter()
    url = runtime.url
    print(f"live server start: {1000 * (time.perf_counter() - t):.1f} ms")

    cloud: Cloud = runtime.cloud
    n = 20_000
    print(f"reset, empty state: {1e6 * _per_call(cloud.reset, n):.1f} us")

    def reset_after_seeding() -> None:
        for i in range(50):
            cloud.store.table("bench.devices")[str(i)] = {"id": i}
        cloud.reset()

    print(f"reset after writing 50 records: {1e6 * _per_call(reset_after_seeding, 2000):.1f} us")

    def fixture_setup() -> None:
        handle = FakeCloud(runtime)
        handle.reset(seed=0)
        handle.close()

    print(f"fleetsim fixture set-up + tear-down (no server call): "
          f"{1e6 * _per_call(fixture_setup, 5000):.1f} us")

    client = runtime.app.test_client()
    n = 3000
    rate = 1 / _per_call(lambda: client.get("/__fleetsim__/health"), n)
    print(f"GET /__fleetsim__/health in process (Flask test client): {rate:,.0f} req/s")

    handle = FakeCloud(runtime)
    with handle.intercept(hosts=("api.fleetsim.invalid",)):
        rate = 1 / _per_call(lambda: requests.get("https://api.fleetsim.invalid/__fleetsim__/health"), n)
    print(f"GET /__fleetsim__/health through intercept (requests, no socket): {rate:,.0f} req/s")

    session = requests.Session()
    rate = 1 / _per_call(lambda: session.get(url + "/__fleetsim__/health"), n)
    print(f"GET /__fleetsim__/health over the live server (requests.Session, keep-alive): {rate:,.0f} req/s")
    rate = 1 / _per_call(lambda: requests.get(url + "/__fleetsim__/health"), 1000)
    print(f"GET /__fleetsim__/health over the live server (new connection each): {rate:,.0f} req/s")

    t = time.perf_counter()
    runtime.close()
    print(f"live server stop: {1000 * (time.perf_counter() - t):.1f} ms")


if __name__ == "__main__":
    main()
