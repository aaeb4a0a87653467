"""What durable state (``fleetsim serve --state``) costs per request and per write.

Run by hand: ``python bench/bench_persist.py``. It prints figures; it asserts nothing.

- *commit, nothing changed*: what every request pays (a GET, a refused write): the shadow
  comparison of the whole state, for states of 100 to 10,000 fl33t devices.
- *commit, one record changed*: comparison + one SQLite transaction (``--state-sync`` normal and
  full).
- *end to end*: ``POST /team/acme/device`` through the app, without and with ``--state``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


def _median_per_call(fn, n: int, rounds: int = 5) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def _world(devices: int, path: Path | None, sync: str = "normal"):
    from fake_api.app import create_app
    from fake_api.core import Cloud
    from fake_api.core.persist import Durable
    from fake_api.dialects import FL33T

    cloud = Cloud()
    app = create_app(cloud)
    seeder = FL33T.make_seeder(cloud.backends["fl33t"], "http://localhost")
    team = seeder.team("acme", tokens={"admin": "acme-admin-token"})
    train = seeder.train(team, "main")
    fleet = seeder.fleet(team, train["train_id"], "beta")
    for n in range(devices):
        seeder.device(team, fleet["fleet_id"], device_id=f"dev-{n:05d}")
    durable = None
    if path is not None:
        durable, _ = Durable.open(cloud, path, sync=sync)
        durable.commit()
        cloud.durable = durable
    return cloud, app, durable, fleet["fleet_id"]


def main() -> None:
    print(f"fleetsim persistence bench (python {sys.version.split()[0]})")
    with tempfile.TemporaryDirectory() as tmp:
        print("\ncommit cost per request (ms)      nothing changed  one change (normal)  "
              "one change (full)")
        for devices in (100, 1_000, 10_000):
            figures = []
            for sync in ("normal", "full"):
                path = Path(tmp) / f"bench-{devices}-{sync}.db"
                cloud, _, durable, _ = _world(devices, path, sync)
                record = cloud.store.table("fl33t.devices")[f"acme/dev-{devices // 2:05d}"]
                n = 200 if devices <= 1_000 else 50
                if sync == "normal":
                    figures.append(_median_per_call(durable.commit, n) * 1000)
                counter = iter(range(10**9))

                def one_change(record=record, durable=durable, counter=counter):
                    record["name"] = f"renamed-{next(counter)}"
                    durable.commit()

                figures.append(_median_per_call(one_change, n) * 1000)
                durable.close()
            rows = sum(len(t) for t in cloud.store.tables().values())
            print(f"  {devices:>6} devices ({rows:>6} records)   {figures[0]:>8.3f}        "
                  f"{figures[1]:>8.3f}             {figures[2]:>8.3f}")

        print("\nPOST /team/acme/device end to end (ms per request, 100 devices already)")
        for label, path in (("in memory", None), ("--state", Path(tmp) / "e2e.db")):
            _, app, durable, fleet_id = _world(100, path)
            client = app.test_client()
            counter = iter(range(10**9))
            headers = {"Authorization": "Bearer acme-admin-token"}

            def create(client=client, counter=counter, headers=headers, fleet_id=fleet_id):
                response = client.post("/team/acme/device", headers=headers, json={
                    "device": {"device_id": f"new-{next(counter)}", "fleet_id": fleet_id}})
                assert response.status_code == 201, response.data

            print(f"  {label:<10} {_median_per_call(create, 200) * 1000:8.3f}")
            if durable is not None:
                durable.close()


if __name__ == "__main__":
    main()
