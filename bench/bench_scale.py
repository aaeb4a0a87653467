"""Fleet-scale figures: per-request cost at 100 / 1,000 / 10,000 / 100,000 devices, the live
server with keep-alive, SDK calls through intercept, and moto side by side when it is installed.

Run by hand: ``python bench/bench_scale.py`` (about two minutes; ``--sizes 100,10000`` and
``--quick`` make it shorter). It prints figures; it asserts nothing.

Each request is timed through the Flask test client (the app's own cost, no socket): the mean of
the best of three rounds. "growth" is the cost at the largest size over the cost at the smallest:
device-side and keyed requests should stay near 1.0, list requests should not follow the fleet.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import logging
import os
import subprocess
import sys
import time
from typing import Any, Callable, Optional

SIZES = (100, 1_000, 10_000, 100_000)
ROTATE = 256  # how many distinct devices the device-side requests cycle through
BASE = "http://localhost"

Case = tuple[str, str, Callable[[int], Any]]  # (label, kind, call(i))


def _time(call: Callable[[int], Any], rounds: int = 3, budget: float = 0.15,
          clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds per call: the best of ``rounds`` rounds of about ``budget`` seconds each.

    ``clock=time.process_time`` measures the CPU the process spent (for in-process paths on a
    shared machine, where wall time mostly measures the neighbours).
    """
    for i in range(10):
        call(i)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < budget / 3:
        call(n)
        n += 1
    best = float("inf")
    for _ in range(rounds):
        t = clock()
        for i in range(n):
            call(i)
        best = min(best, (clock() - t) / n)
    return best


def _check(response: Any, *ok: int) -> Any:
    if response.status_code not in ok:
        raise SystemExit(f"bench: unexpected {response.status_code} {response.get_data()[:300]!r}")
    return response


# -- fl33t ---------------------------------------------------------------------------------------


def fl33t_cases(n: int) -> tuple[float, list[Case]]:
    from fake_api.app import create_app
    from fake_api.core import Cloud
    from fake_api.fl33t.seed import Fl33tSeeder

    cloud = Cloud(seed=1)
    app = create_app(cloud)
    seed = Fl33tSeeder(cloud.backends["fl33t"], BASE)
    started = time.perf_counter()
    team = seed.team("big")
    train = seed.train(team)
    old = seed.build(team, train, "1.0.0", released=True)
    for i in range(max(1, n // 100)):  # 1,000 builds in the train at 100,000 devices
        seed.build(team, train, f"2.0.{i}", released=True)
    fleet = seed.fleet(team, train, "all")
    other = seed.fleet(team, train, "other")
    tokens = []
    for i in range(n):
        made = seed.device(team, fleet if i % 10 else other, f"d{i:06d}")
        if i < ROTATE:
            tokens.append(made["session_token"])
    small = seed.team("small")
    strain = seed.train(small)
    sfleet = seed.fleet(small, strain)
    for i in range(10):
        seed.device(small, sfleet, f"s{i:02d}")
    seeded = time.perf_counter() - started

    client = app.test_client()
    admin = {"Authorization": f"Bearer {team.tokens['admin']}"}
    small_admin = {"Authorization": f"Bearer {small.tokens['admin']}"}
    t = "/team/big"
    body = {"checkin": {"build_id": old["build_id"]}}
    rot = min(n, ROTATE)
    fid = other["fleet_id"]
    cases: list[Case] = [
        ("fl33t GET /devices?limit=25", "list",
         lambda i: _check(client.get(f"{t}/devices?limit=25", headers=admin), 200)),
        ("fl33t GET /devices?fleet_id=&limit=10", "list",
         lambda i: _check(client.get(f"{t}/devices?fleet_id={fid}&limit=10", headers=admin), 200)),
        ("fl33t GET /devices of a 10-device team", "list",
         lambda i: _check(client.get("/team/small/devices", headers=small_admin), 200)),
        ("fl33t GET /device/<id>", "keyed",
         lambda i: _check(client.get(f"{t}/device/d{i % rot:06d}", headers=admin), 200)),
        ("fl33t POST check-in (build due)", "device",
         lambda i: _check(client.post(f"{t}/device/d{i % rot:06d}/checkin", json=body,
                                      headers={"Authorization": f"Bearer {tokens[i % rot]}"}),
                          200)),
    ]
    return seeded, cases


# -- Memfault ------------------------------------------------------------------------------------


def memfault_cases(n: int) -> tuple[float, list[Case]]:
    import base64

    from fake_api.app import create_app
    from fake_api.core import Cloud
    from fake_api.memfault.seed import MemfaultSeeder

    cloud = Cloud(seed=1)
    app = create_app(cloud)
    seed = MemfaultSeeder(cloud.backends["memfault"], BASE)
    started = time.perf_counter()
    project = seed.project("acme", "sink")
    seed.cohort(project, "Beta", "beta")
    seed.release(project, "2.0.0")
    seed.deploy(project, "2.0.0", "default")
    seed.deploy(project, "2.0.0", "beta")
    for i in range(n):
        seed.device(project, f"m{i:06d}", current_version="1.0.0",
                    cohort="beta" if i % 10 == 0 else "default")
    seeded = time.perf_counter() - started

    client = app.test_client()
    basic = base64.b64encode(f":{project.org_token}".encode()).decode()
    mgmt = {"Authorization": f"Basic {basic}"}
    key = {"Memfault-Project-Key": project.project_key}
    p = "/api/v0/organizations/acme/projects/sink"
    rot = min(n, ROTATE)
    hw = project_hardware(seed)

    def poll(i: int) -> Any:
        return _check(client.get(
            f"/api/v0/releases/latest?device_serial=m{i % rot:06d}&hardware_version={hw}"
            "&software_type=main&current_version=1.0.0", headers=key), 200)

    cases: list[Case] = [
        ("Memfault GET /releases/latest (OTA poll)", "device", poll),
        ("Memfault POST /chunks/<serial>", "device",
         lambda i: _check(client.post(f"/api/v0/chunks/m{i % rot:06d}", data=b"\x01\x02\x03",
                                      headers={**key, "Content-Type": "application/octet-stream"}),
                          202)),
        ("Memfault GET /devices/<serial>", "keyed",
         lambda i: _check(client.get(f"{p}/devices/m{i % rot:06d}", headers=mgmt), 200)),
        ("Memfault GET /devices?per_page=100", "list",
         lambda i: _check(client.get(f"{p}/devices?per_page=100", headers=mgmt), 200)),
        ("Memfault GET /cohorts/beta/devices?per_page=10", "list",
         lambda i: _check(client.get(f"{p}/cohorts/beta/devices?per_page=10", headers=mgmt), 200)),
        ("Memfault GET /cohorts (device counts)", "list",
         lambda i: _check(client.get(f"{p}/cohorts", headers=mgmt), 200)),
        ("Memfault GET /releases/2.0.0 (device count)", "keyed",
         lambda i: _check(client.get(f"{p}/releases/2.0.0", headers=mgmt), 200)),
    ]
    return seeded, cases


def project_hardware(seed: Any) -> str:
    from fake_api.memfault.seed import DEFAULT_HARDWARE

    return DEFAULT_HARDWARE


# -- balena (picked up once the dialect has a backend and seeding helpers) ------------------------


def balena_cases(n: int) -> Optional[tuple[float, list[Case]]]:
    """Devices of one fleet through the pine/OData API and the device's target state.

    The balena dialect is built on another branch; until its seeding helpers (``user``,
    ``application``, ``release``, ``device``) and OData routes are in this tree, this returns
    None and the table says so.
    """
    from fake_api.app import create_app
    from fake_api.core import Cloud
    from fake_api.dialects import by_name

    dialect = by_name("balena")
    if dialect.make_seeder is None:
        return None
    cloud = Cloud(seed=1)
    app = create_app(cloud)
    seed = dialect.make_seeder(cloud.backends["balena"], BASE)
    if not all(hasattr(seed, m) for m in ("user", "application", "release", "device")):
        return None
    started = time.perf_counter()
    user = seed.user("bench")
    fleet = seed.application(user, "bigfleet")
    seed.release(fleet, commit="a" * 32, semver="1.0.0")
    uuids = [seed.device(fleet, f"{i:032x}")["uuid"] for i in range(n)]
    seeded = time.perf_counter() - started
    client = app.test_client()
    auth = {"Authorization": f"Bearer {user.token}"}
    rot = min(n, ROTATE)
    app_id = fleet["id"]
    fleet_filter = f"$filter=belongs_to__application%20eq%20{app_id}"
    cases: list[Case] = [
        ("balena GET /v7/device?$top=25", "list",
         lambda i: _check(client.get("/v7/device?$top=25", headers=auth), 200)),
        ("balena GET /v7/device?$filter=belongs_to__application&$top=25", "list",
         lambda i: _check(client.get(f"/v7/device?$filter=belongs_to__application%20eq%20{app_id}"
                                     "&$top=25", headers=auth), 200)),
        ("balena GET /v7/device/$count?$filter=belongs_to__application", "list",
         lambda i: _check(client.get(f"/v7/device/$count?{fleet_filter}", headers=auth), 200)),
        ("balena GET /v7/device?$filter=belongs_to__application&$orderby=device_name asc&$top=25",
         "list",
         lambda i: _check(client.get(f"/v7/device?{fleet_filter}&$orderby=device_name%20asc"
                                     "&$top=25", headers=auth), 200)),
        ("balena GET /v7/device?$filter=belongs_to__application&$top=25&$expand=(2 links)",
         "list",
         lambda i: _check(client.get(f"/v7/device?{fleet_filter}&$top=25&$expand="
                                     "is_of__device_type($select=slug),"
                                     "belongs_to__application($select=app_name)",
                                     headers=auth), 200)),
        ("balena GET /v7/device(uuid=)", "keyed",
         lambda i: _check(client.get(f"/v7/device(uuid='{uuids[i % rot]}')", headers=auth), 200)),
        ("balena GET /device/v2/<uuid>/state", "device",
         lambda i: _check(client.get(f"/device/v2/{uuids[i % rot]}/state", headers=auth), 200)),
    ]
    return seeded, cases


DIALECT_CASES: dict[str, Callable[[int], Any]] = {
    "fl33t": fl33t_cases,
    "memfault": memfault_cases,
    "balena": balena_cases,
}


def scaling_table(sizes: tuple[int, ...], rounds: int = 11, batch: float = 0.03,
                  dialects: Optional[list[str]] = None) -> None:
    """Every size's world is built first; then each case is timed at every size in turn, round
    after round, keeping each size's best batch, so a load spike on the shared machine does not
    land on one size only."""
    print("\n## Per-request cost by fleet size (Flask test client, CPU us per request)\n")
    for dialect, make in DIALECT_CASES.items():
        if dialects and dialect not in dialects:
            continue
        worlds: dict[int, list[Case]] = {}
        seeding = []
        for n in sizes:
            made = make(n)
            if made is None:
                break
            seeded, worlds[n] = made
            seeding.append(f"{n:,}: {seeded:.1f} s")
        if not worlds:
            print(f"{dialect}: no seeding helpers in this tree yet; skipped\n")
            continue
        labels = [(label, kind) for label, kind, _ in worlds[sizes[0]]]
        best = {(label, n): float("inf") for label, _ in labels for n in sizes}
        for _ in range(rounds):
            for position, (label, _) in enumerate(labels):
                for n in sizes:
                    call = worlds[n][position][2]
                    best[label, n] = min(best[label, n], _time(call, rounds=1, budget=batch,
                                                               clock=time.process_time))
        head = " | ".join(f"{n:,}" for n in sizes)
        print(f"| {dialect} request | kind | {head} | growth |")
        print("|---|---|" + "---|" * len(sizes) + "---|")
        for label, kind in labels:
            cells = " | ".join(f"{1e6 * best[label, n]:,.0f}" for n in sizes)
            growth = best[label, sizes[-1]] / best[label, sizes[0]]
            print(f"| {label} | {kind} | {cells} | {growth:.2f} |")
        print(f"\nseeding {dialect}: " + ", ".join(seeding) + "\n", flush=True)
        worlds.clear()


# -- live server, intercept ----------------------------------------------------------------------


def _seeded_runtime() -> tuple[Any, Any, Any]:
    from pytest_fleetsim.cloud import FakeCloud, Runtime

    runtime = Runtime()
    handle = FakeCloud(runtime)
    team = handle.fl33t.team("acme")
    train = handle.fl33t.train(team)
    fleet = handle.fl33t.fleet(team, train)
    handle.fl33t.device(team, fleet, "dev-1")
    return runtime, handle, team


def _rates(call: Callable[[int], Any], seconds: float) -> str:
    """Mean and median-latency request rates over ``seconds`` of calls (on a shared machine the
    mean carries the neighbours' time slices; the median is what the server and client cost)."""
    for i in range(20):
        call(i)
    laps: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        call(len(laps))
        laps.append(time.perf_counter() - t)
    laps.sort()
    return (f"{len(laps) / sum(laps):,.0f} req/s mean, {1 / laps[len(laps) // 2]:,.0f} req/s "
            f"at the median latency ({1e6 * laps[len(laps) // 2]:.0f} us)")


def live_server(seconds: float = 2.0) -> None:
    import requests

    runtime, handle, team = _seeded_runtime()
    url = runtime.url
    host, port = url.rsplit("/", 1)[-1].split(":")
    path = "/team/acme/device/dev-1"
    auth = {"Authorization": f"Bearer {team.tokens['admin']}"}
    print("\n## Live server (127.0.0.1, one client in the same process, authenticated read)\n")

    conn = http.client.HTTPConnection(host, int(port))
    kept: list[bool] = []

    def raw(i: int) -> None:
        conn.request("GET", path, headers=auth)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"bench: live server answered {response.status}")
        kept.append(conn.sock is not None)  # http.client drops the socket on Connection: close

    print(f"http.client, one connection: {_rates(raw, seconds)}; "
          f"the connection stayed open after {sum(kept):,} of {len(kept):,} answers")
    conn.close()
    session = requests.Session()
    print(f"requests.Session: {_rates(lambda i: session.get(url + path, headers=auth), seconds)}")
    print(f"requests.get (a new connection each, as the fl33t client does): "
          f"{_rates(lambda i: requests.get(url + path, headers=auth), seconds)}")
    runtime.close()


def intercept_rate(seconds: float = 2.0) -> None:
    """SDK calls through intercept, and how a call's CPU splits between the SDK with requests,
    intercept's glue (environ in, ``requests.Response`` out) and the app itself."""
    import fl33t
    import requests
    from requests.adapters import HTTPAdapter

    from pytest_fleetsim import intercept

    runtime, handle, team = _seeded_runtime()
    client = fl33t.Fl33tClient("acme", team.tokens["admin"], base_uri="https://api.fl33t.com")
    print("\n## In-process SDK calls through intercept (fl33t get_device, no socket)\n")
    cpu = time.process_time
    with handle.intercept() as interceptor:
        per = _time(lambda i: client.get_device("dev-1"), budget=seconds, rounds=5)
        sdk = _time(lambda i: client.get_device("dev-1"), budget=seconds, rounds=5, clock=cpu)
        prepared = requests.Request(
            "GET", "https://api.fl33t.com/team/acme/device/dev-1",
            headers={"Authorization": f"Bearer {team.tokens['admin']}",
                     "Content-Type": "application/json", "Accept": "application/json"}).prepare()
        adapter = HTTPAdapter()
        dispatch = _time(lambda i: interceptor.dispatch(adapter, prepared), budget=seconds / 2,
                         rounds=5, clock=cpu)
        environ = getattr(intercept, "_environ", None)
        if environ is None:  # an older fleetsim: time the app on a werkzeug-built environ
            from werkzeug.test import EnvironBuilder

            def environ(method: str, url: str, headers: Any, body: bytes) -> dict:
                return EnvironBuilder(path="/team/acme/device/dev-1",
                                      base_url="https://api.fl33t.com",
                                      headers=list(headers)).get_environ()
        app = _time(lambda i: intercept._call_wsgi(runtime.app, environ(
            prepared.method, prepared.url, prepared.headers.items(), b"")),
                    budget=seconds / 2, rounds=5, clock=cpu)
    print(f"fl33t SDK get_device through intercept: {1 / per:,.0f} calls/s wall, "
          f"{1 / sdk:,.0f} calls/s of CPU ({1e6 * sdk:.0f} us)")
    print(f"one call's CPU: requests + the SDK {1e6 * (sdk - dispatch):.0f} us "
          f"({100 * (sdk - dispatch) / sdk:.0f}%), fleetsim {1e6 * dispatch:.0f} us "
          f"({100 * dispatch / sdk:.0f}%: the app {1e6 * app:.0f} us, intercept's glue "
          f"{1e6 * (dispatch - app):.0f} us)")
    runtime.close()


# -- moto side by side ---------------------------------------------------------------------------


def _import_ms(module: str, after: str = "", runs: int = 5) -> float:
    """Median cumulative import time of ``module`` (``python -X importtime``, compiled bytecode,
    in a fresh interpreter that imported ``after`` first). CPU-bound, so steadier than wall-clock
    differences of whole interpreter starts on a loaded machine."""
    code = f"import {after + ', ' if after else ''}{module}"
    subprocess.run([sys.executable, "-c", code], check=True)  # write the bytecode caches
    found = []
    for _ in range(runs):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=True,
                             capture_output=True, text=True).stderr
        rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:")]
        found.append(next(int(r[1]) for r in rows if r[2].strip() == module) / 1000)
    return sorted(found)[runs // 2]


def moto_side_by_side(seconds: float = 1.5) -> None:
    print("\n## Side by side with moto\n")
    if importlib.util.find_spec("moto") is None:
        print("moto is not installed; `pip install moto` to print these rows")
        return
    import boto3
    import fl33t
    from moto import mock_aws
    from moto.server import ThreadedMotoServer

    rows = []
    rows.append(("import cost (-X importtime, median of 5; the plugin after pytest)",
                 f"{_import_ms('moto'):.0f} ms",
                 f"{_import_ms('pytest_fleetsim.plugin', after='pytest'):.1f} ms"))

    with mock_aws():
        iot = boto3.client("iot", region_name="us-east-1", aws_access_key_id="x",
                           aws_secret_access_key="x")
        iot.create_thing(thingName="t-1")
        moto_in = 1 / _time(lambda i: iot.describe_thing(thingName="t-1"), budget=seconds)
    runtime, handle, team = _seeded_runtime()
    client = fl33t.Fl33tClient("acme", team.tokens["admin"], base_uri="https://api.fl33t.com")
    with handle.intercept():
        ours_in = 1 / _time(lambda i: client.get_device("dev-1"), budget=seconds)
    rows.append(("in-process SDK read (boto3 describe_thing / fl33t get_device)",
                 f"{moto_in:,.0f}/s", f"{ours_in:,.0f}/s"))

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto_server's access log
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    iot = boto3.client("iot", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x", endpoint_url=f"http://{host}:{port}")
    iot.create_thing(thingName="t-1")
    moto_srv = 1 / _time(lambda i: iot.describe_thing(thingName="t-1"), budget=seconds)
    server.stop()
    live = fl33t.Fl33tClient("acme", team.tokens["admin"], base_uri=runtime.url)
    ours_srv = 1 / _time(lambda i: live.get_device("dev-1"), budget=seconds)
    rows.append(("server mode, official SDK read over 127.0.0.1",
                 f"{moto_srv:,.0f}/s", f"{ours_srv:,.0f}/s"))
    runtime.close()

    print("| measure | moto | fleetsim |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated fleet sizes (default 100,1000,10000,100000)")
    parser.add_argument("--quick", action="store_true", help="shorter timing rounds")
    parser.add_argument("--only", choices=("scale", "server", "intercept", "moto"),
                        help="print one section only")
    parser.add_argument("--dialects", default="",
                        help="comma-separated dialects of the scaling table (default: all)")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    seconds = 0.5 if args.quick else 2.0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"fleetsim scale bench (python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load average {load:.1f} at start)")
    if args.only in (None, "scale"):
        scaling_table(sizes, dialects=[d for d in args.dialects.split(",") if d])
    if args.only in (None, "server"):
        live_server(seconds)
    if args.only in (None, "intercept"):
        intercept_rate(seconds)
    if args.only in (None, "moto"):
        moto_side_by_side(seconds / 2)


if __name__ == "__main__":
    main()
