"""OData engine figures over a 10,000-device balena fleet.

Run by hand: ``python bench/bench_odata.py [devices]``. It prints the median and best time (of
15) of each query through ``Pine.handle`` (parse, plan, filter, sort, expand, serialise and
``json.dumps``); it asserts nothing. The rows are written straight through ``BalenaDb`` (no
rules hooks).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from fake_api.balena.db import BalenaDb
from fake_api.balena.pine import Pine
from fake_api.core.cloud import Cloud


def build(devices: int) -> tuple[Pine, dict]:
    cloud = Cloud(seed=7)
    db = BalenaDb(cloud)
    ins = db.insert
    arch = ins("cpu_architecture", {"slug": "aarch64"})
    dt = ins("device_type", {"slug": "raspberrypi4-64", "name": "Raspberry Pi 4",
                             "is_of__cpu_architecture": arch["id"]})
    org = ins("organization", {"name": "bench", "handle": "bench"})
    apps = [ins("application", {"app_name": f"fleet{i}", "slug": f"bench/fleet{i}",
                                "uuid": f"{i:032x}", "organization": org["id"],
                                "is_for__device_type": dt["id"]}) for i in range(2)]
    big = apps[0]
    rels = [ins("release", {"commit": f"{i:032x}", "status": "success",
                            "belongs_to__application": big["id"], "semver_major": 1,
                            "semver_minor": i}) for i in range(20)]
    svc = ins("service", {"application": big["id"], "service_name": "main"})
    img = ins("image", {"is_a_build_of__service": svc["id"], "status": "success",
                        "is_stored_at__image_location": "registry/x"})
    uuids = []
    for i in range(devices):
        uuid = f"{i:062x}"
        uuids.append(uuid)
        d = ins("device", {"uuid": uuid, "device_name": f"dev{(i * 7919) % devices:05d}",
                           "belongs_to__application": big["id"], "is_of__device_type": dt["id"],
                           "is_online": i % 2 == 0, "is_running__release": rels[i % 20]["id"],
                           "os_version": "balenaOS 5.1.20"})
        ins("device_tag", {"device": d["id"], "tag_key": "rollout", "value": f"wave{i % 4}"})
        ins("device_environment_variable", {"device": d["id"], "name": "FOO", "value": str(i)})
        ins("image_install", {"device": d["id"], "installs__image": img["id"],
                              "is_provided_by__release": rels[i % 20]["id"], "status": "Running"})
    return Pine(db), {"app": big["id"], "uuid": uuids[devices // 2], "rel": rels[3]["id"]}


def queries(k: dict) -> list[tuple[str, str, str]]:
    app, uuid = k["app"], k["uuid"]
    return [
        ("fleet page: filter + expand + orderby + top 50", "device",
         f"$filter=(belongs_to__application eq {app}) and (is_online eq true)"
         "&$select=id,uuid,device_name&$orderby=device_name asc&$top=50"
         "&$expand=is_running__release($select=commit),device_tag($select=tag_key,value)"),
        ("one device by uuid with service details", f"device(uuid='{uuid}')",
         "$expand=image_install($select=id,download_progress,status,install_date;"
         "$filter=status ne 'deleted';$expand=image($select=id;$expand=is_a_build_of__service("
         "$select=id,service_name)),is_provided_by__release($select=id,commit,raw_version))"),
        ("device by uuid filter (rename's lookup)", "device",
         f"$orderby=device_name asc&$select=id&$filter=uuid eq '{uuid}'"),
        ("count online devices", "device/$count", "$filter=is_online eq true"),
        ("tag lambda, top 100", "device",
         "$select=id&$top=100&$filter=device_tag/any(t:(t/tag_key eq 'rollout') and "
         "(t/value eq 'wave1'))"),
        ("tag lambda + release path, all matches", "device",
         "$select=id,uuid&$filter=(device_tag/any(t:t/value eq 'wave3')) and "
         f"(is_running__release/any(r:r/commit eq '{3:032x}'))"),
        ("env vars of a fleet (lambda through link)", "device_environment_variable",
         f"$select=id,value&$orderby=name asc&$filter=device/any(d:d/belongs_to__application eq "
         f"{app})&$top=100"),
        ("whole fleet, $select=id,uuid (10k rows out)", "device",
         f"$select=id,uuid&$filter=belongs_to__application eq {app}"),
        ("whole fleet, every field (10k rows out)", "device",
         f"$orderby=device_name asc&$filter=belongs_to__application eq {app}"),
    ]


def with_permissions(devices: int) -> None:
    """The same kind of queries as a logged-in user, through the real backend: rules hooks on
    every write, the user's permission filter on every row read."""
    from fake_api.balena.models import BalenaBackend
    from fake_api.balena.seed import BalenaSeeder

    cloud = Cloud(seed=5)
    backend = BalenaBackend(cloud)
    seeder = BalenaSeeder(backend, "http://127.0.0.1")
    t0 = time.perf_counter()
    user = seeder.user("bench")
    app = seeder.application(user, "fleet", "raspberrypi4-64")
    release = seeder.release(app, semver="1.0.0")
    for i in range(devices):
        seeder.device(app, name=f"dev{(i * 7919) % devices:05d}", online=i % 2 == 0,
                      release=release["id"])
    print(f"as a user through BalenaBackend (permission filter on every row): {devices} devices "
          f"seeded in {time.perf_counter() - t0:.1f} s")
    small = seeder.user("small")
    small_app = seeder.application(small, "tiny", "raspberrypi4-64")
    for i in range(10):
        seeder.device(small_app, name=f"tiny{i}")
    actor, pine, a = backend.authenticate(user.token), Pine(backend.db), app["id"]
    _run(pine, actor, [
        ("fleet page with overall_status, top 50", "device",
         f"$filter=(belongs_to__application eq {a}) and (is_online eq true)&$select=id,uuid,"
         "device_name,overall_status&$orderby=device_name asc&$top=50"
         "&$expand=is_running__release($select=commit)"),
        ("device.get_all_by_application with $select=id", "device",
         f"$orderby=device_name asc&$filter=belongs_to__application eq {a}&$select=id"),
        ("application.get_all", "application",
         "$filter=is_directly_accessible_by__user/any(dau:1 eq 1)&$orderby=app_name asc"),
        ("count online devices", "device/$count", "$filter=is_online eq true"),
    ])
    print(f"as a user with one 10-device fleet, beside the {devices} devices of the user above:")
    _run(pine, backend.authenticate(small.token), [
        ("device?$top=25 (its fleets' index, not the table)", "device",
         "$select=id,device_name&$top=25"),
        ("device/$count", "device/$count", ""),
    ])


def _run(pine: Pine, actor: object, items: list[tuple[str, str, str]]) -> None:
    for label, path, query in items:
        times = []
        for _ in range(15):
            start = time.perf_counter()
            status, body = pine.handle("v7", "GET", path, query, None, actor)
            json.dumps(body)
            times.append(time.perf_counter() - start)
        assert status == 200, body
        rows = body["d"] if isinstance(body["d"], int) else len(body["d"])
        print(f"  {statistics.median(times) * 1000:8.2f} ms median  {min(times) * 1000:8.2f} ms best"
              f"  {label}  ({rows} rows)")


def main() -> None:
    devices = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    t0 = time.perf_counter()
    pine, keys = build(devices)
    print(f"balena OData bench: {devices} devices (+ tags, env vars, image installs) built in "
          f"{time.perf_counter() - t0:.1f} s; python {sys.version.split()[0]}")
    _run(pine, None, queries(keys))
    with_permissions(devices)


if __name__ == "__main__":
    main()
