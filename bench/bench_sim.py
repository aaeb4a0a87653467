"""Simulated fleets at scale: N devices through a full update, in process, on the virtual clock.

    python bench/bench_sim.py                 # 1,000 / 10,000 / 50,000 devices, both dialects
    python bench/bench_sim.py 10000 memfault  # one size (or 1000,10000), one dialect
    python bench/bench_sim.py 2000 fl33t --profile   # where the time goes (cProfile, top 25)

Each size runs in a fresh process so peak memory (max RSS) is per size. Prints wall time for the
two phases (every device registers and checks in; then a new release reaches every device), the
process CPU time (the honest figure on a shared machine), HTTP requests, CPU per request and per
device (how the cost grows with the fleet), and peak memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

SIZES = (1_000, 10_000, 50_000)
DIALECTS = ("memfault", "fl33t")
FIRMWARE = 64 * 1024


def one(count: int, dialect: str) -> dict:
    from fake_api.app import create_app
    from fake_api.core import Cloud
    from fake_api.sim import FleetSimulation

    app = create_app(Cloud(seed=7))
    backend = app.cloud.backends[dialect]
    sim = FleetSimulation(app, history=False, sample_every=300)
    if dialect == "memfault":
        from fake_api.memfault.seed import MemfaultSeeder

        seeder = MemfaultSeeder(backend, "http://localhost")
        project = seeder.project()
        seeder.release(project, "1.0.0", b"\0" * FIRMWARE)
        sim.spawn("memfault", count, project=project, installed="1.0.0")

        def publish() -> None:
            seeder.release(project, "2.0.0", b"\1" * FIRMWARE)
            seeder.deploy(project, "2.0.0")
    else:
        from fake_api.fl33t.seed import Fl33tSeeder

        seeder = Fl33tSeeder(backend, "http://localhost")
        team = seeder.team()
        train = seeder.train(team)
        first = seeder.build(team, train, "1.0.0", released=True, data=b"\0" * FIRMWARE)
        fleet = seeder.fleet(team, train, "prod")
        sim.spawn("fl33t", count, team=team, fleet=fleet, installed=first)

        def publish() -> None:
            seeder.build(team, train, "2.0.0", released=True, data=b"\1" * FIRMWARE)

    cpu_started = time.process_time()
    started = time.perf_counter()
    sim.run(limit=sim.agents[0].profile.start_jitter + 1)
    registered = time.perf_counter() - started
    requests_before = sim.transport.requests
    publish()
    started = time.perf_counter()
    done = sim.run(until=lambda s: s.converged("2.0.0"), limit=86400)
    update = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    requests = sim.transport.requests
    return {"dialect": dialect, "devices": count, "converged": done,
            "register_s": round(registered, 2), "update_s": round(update, 2),
            "total_s": round(registered + update, 2), "cpu_s": round(cpu, 2),
            "events": sim.events,
            "requests": requests, "update_requests": requests - requests_before,
            "us_per_request": round(cpu / requests * 1e6, 1),
            "virtual_minutes": round((sim.now - sim.start) / 60, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--child":
        print(json.dumps(one(int(argv[1]), argv[2])))
        return
    if "--profile" in argv:
        import cProfile
        import pstats

        args = [a for a in argv if a != "--profile"]
        cProfile.runctx("one(int(args[0]), args[1])", globals(), {"args": args, "one": one},
                        "/tmp/bench_sim.prof")
        pstats.Stats("/tmp/bench_sim.prof").sort_stats("cumulative").print_stats(25)
        return
    sizes = [int(n) for n in argv[0].split(",")] if argv else list(SIZES)
    dialects = [argv[1]] if len(argv) > 1 else list(DIALECTS)
    print(f"{'dialect':<9}{'devices':>8}{'register s':>11}{'update s':>10}{'wall s':>8}"
          f"{'CPU s':>8}{'requests':>10}{'CPU us/req':>11}{'CPU us/dev':>11}{'max RSS MB':>11}"
          "  converged")
    for dialect in dialects:
        for count in sizes:
            out = subprocess.run([sys.executable, __file__, "--child", str(count), dialect],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            per_device = r["cpu_s"] / r["devices"] * 1e6
            print(f"{r['dialect']:<9}{r['devices']:>8}{r['register_s']:>11}{r['update_s']:>10}"
                  f"{r['total_s']:>8}{r['cpu_s']:>8}{r['requests']:>10}{r['us_per_request']:>11}"
                  f"{per_device:>11.0f}{r['max_rss_mb']:>11}  {r['converged']}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
