"""``fleetsim demo``: a fake cloud, a simulated fleet, and a staged rollout, in one command.

It starts the fake on a free local port, seeds a project (Memfault) or a team (fl33t) with
release 1.0.0 on every device, spawns the simulated fleet with a few failure plans, publishes
2.0.0 and rolls it out in stages with the vendor's official client when it is installed
(``memfault deploy-release --rollout-percent``; the ``fl33t`` library) and plain HTTP
otherwise. After each stage it checks the failure rate and halts the rollout past the
threshold. Progress is drawn per stage; a summary table ends it. No network, no new dependency.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional

RELEASE_OLD, RELEASE_NEW = "1.0.0", "2.0.0"
HARDWARE = {"evt": 1, "dvt": 3}
FIRMWARE_SIZE = 48 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dialect", choices=("memfault", "fl33t"), default="memfault",
                        help="which vendor's fleet to simulate (default memfault)")
    parser.add_argument("--devices", type=int, default=300, help="fleet size (default 300)")
    parser.add_argument("--stages", default="10,50,100",
                        help="rollout percentages, comma-separated (default 10,50,100)")
    parser.add_argument("--failure-rate", type=float, default=0.04,
                        help="share of devices whose install fails on 2.0.0 (default 0.04)")
    parser.add_argument("--threshold", type=float, default=0.15,
                        help="halt when this share of a stage's updates failed (default 0.15)")
    parser.add_argument("--seed", type=int, default=0, help="seed for ids, devices and failures")
    parser.add_argument("--plain-http", action="store_true",
                        help="do not use the official client even if it is installed")
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="also write the simulation report to FILE: .json (summary, timeline, "
                             "every device's history) or .csv (the timeline)")


def failure_plans(rate: float) -> list[Any]:
    """What goes wrong in the demo fleet (first match wins per device)."""
    from .agents import FailurePlan

    return [
        FailurePlan(name="install fails", install_fails=True, fraction=rate, release=RELEASE_NEW),
        FailurePlan(name="boot loop on dvt", boot_loop=3, fraction=0.02, hardware="dvt",
                    release=RELEASE_NEW),
        FailurePlan(name="flaky link, resumes", drop_at=0.4, drops=2, fraction=0.10),
        FailurePlan(name="offline mid-download", offline_during="download", offline_for=900,
                    fraction=0.03),
        FailurePlan(name="slow link", link_bps=2_000, fraction=0.05),
    ]


class _Server:
    """The app on 127.0.0.1 and a free port, in a daemon thread (for the official clients)."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.url = f"http://127.0.0.1:{self.server.port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _firmware(version: str) -> bytes:
    return (f"demo firmware {version} ".encode() * FIRMWARE_SIZE)[:FIRMWARE_SIZE]


# -- rollout drivers: publish, stage(percent), halt ---------------------------------------------


class MemfaultRollout:
    """memfault-cli when installed, else the same management calls with requests."""

    def __init__(self, cloud: Any, url: str, plain_http: bool, workdir: Path) -> None:
        from .memfault.seed import MemfaultSeeder

        self.url = url
        self.seeder = MemfaultSeeder(cloud.backends["memfault"], url)
        self.project = self.seeder.project()
        for hw in HARDWARE:
            self.seeder.release(self.project, RELEASE_OLD, _firmware(RELEASE_OLD),
                                hardware_version=hw)
        self.cli = None if plain_http else _find_memfault()
        self.workdir = workdir
        self.how = "memfault-cli" if self.cli else (
            "plain HTTP" + ("" if plain_http else " (memfault-cli is not installed)"))

    def spawn_settings(self) -> dict:
        return {"project": self.project, "installed": RELEASE_OLD}

    def _memfault(self, *args: str) -> None:
        p = self.project
        env = dict(os.environ, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
        subprocess.run([self.cli, "--url", self.url, "--org", p.org, "--project", p.project,
                        "--org-token", p.org_token, *args], check=True, capture_output=True,
                       text=True, env=env, timeout=120)

    def _api(self, method: str, path: str, body: Optional[dict] = None) -> Any:
        import requests

        p = self.project
        response = requests.request(
            method, f"{self.url}/api/v0/organizations/{p.org}/projects/{p.project}{path}",
            json=body, headers={"Authorization": f"Bearer {p.org_token}"}, timeout=30)
        response.raise_for_status()
        return response

    def publish(self) -> str:
        if self.cli:
            for hw in HARDWARE:
                path = self.workdir / f"app-{hw}-{RELEASE_NEW}.bin"
                path.write_bytes(_firmware(RELEASE_NEW))
                self._memfault("upload-ota-payload", "--hardware-version", hw,
                               "--software-type", "main", "--software-version", RELEASE_NEW,
                               str(path))
            return "memfault upload-ota-payload (one per hardware version)"
        for hw in HARDWARE:
            self.seeder.release(self.project, RELEASE_NEW, _firmware(RELEASE_NEW),
                                hardware_version=hw)
        return "seeded 2.0.0 (no memfault-cli to upload it)"

    def stage(self, percent: int) -> str:
        if self.cli:
            self._memfault("deploy-release", "--release-version", RELEASE_NEW, "--cohort",
                           "default", "--rollout-percent", str(percent))
            return f"memfault deploy-release --rollout-percent {percent}"
        body: dict[str, Any] = {"release": RELEASE_NEW, "cohort": "default",
                                "type": "normal" if percent >= 100 else "staged_rollout"}
        if percent < 100:
            body["rollout_percent"] = percent
        self._api("POST", "/deployments", body)
        return f"POST /deployments rollout_percent={percent}"

    def halt(self) -> str:
        if self.cli:
            self._memfault("deploy-release", "--release-version", RELEASE_NEW, "--cohort",
                           "default", "--deactivate")
            return "memfault deploy-release --deactivate"
        active = self._api("GET", f"/deployments?cohort=default&release={RELEASE_NEW}").json()
        for item in active["data"]:
            if item.get("status") in ("in_progress", "done"):
                self._api("DELETE", f"/deployments/{item['id']}")
        return "DELETE /deployments/{id}"


class Fl33tRollout:
    """fl33t has no percentages: stages move devices into a canary fleet pinned to the new
    build, then releasing the build updates the main (auto-update) fleet. Uses the ``fl33t``
    client when installed, else the same calls with requests."""

    def __init__(self, cloud: Any, url: str, plain_http: bool, workdir: Path) -> None:
        from .fl33t.seed import Fl33tSeeder

        self.url = url
        self.seeder = Fl33tSeeder(cloud.backends["fl33t"], url)
        self.team = self.seeder.team()
        self.train = self.seeder.train(self.team)
        self.first = self.seeder.build(self.team, self.train, RELEASE_OLD, released=True,
                                       data=_firmware(RELEASE_OLD))
        self.fleet = self.seeder.fleet(self.team, self.train, "production")
        self.workdir = workdir
        self.client = None
        if not plain_http:
            try:
                import fl33t

                self.client = fl33t.Fl33tClient(self.team.team_id, self.team.tokens["admin"],
                                                base_uri=url)
            except ImportError:
                pass
        self.how = "fl33t client" if self.client else (
            "plain HTTP" + ("" if plain_http else " (the fl33t client is not installed)"))
        self.build_id = ""
        self.canary_id = ""
        self.moved = 0
        self.serials: list[str] = []

    def spawn_settings(self) -> dict:
        return {"team": self.team, "fleet": self.fleet, "installed": self.first}

    def _http(self, method: str, path: str, body: Optional[dict] = None) -> Any:
        import requests

        response = requests.request(
            method, f"{self.url}/team/{self.team.team_id}{path}", json=body, timeout=30,
            headers={"Authorization": f"Bearer {self.team.tokens['admin']}"})
        response.raise_for_status()
        return response.json() if response.content else None

    def publish(self) -> str:
        path = self.workdir / f"firmware-{RELEASE_NEW}.bin"
        path.write_bytes(_firmware(RELEASE_NEW))
        if self.client:
            build = self.client.Build(train_id=self.train["train_id"], version=RELEASE_NEW,
                                      filename=str(path)).create()
            self.build_id = build.build_id
            canary = self.client.Fleet(name="canary", train_id=self.train["train_id"],
                                       build_id=self.build_id).create()
            self.canary_id = canary.fleet_id
            return "fl33t Build.create (upload) + canary Fleet pinned to it"
        made = self.seeder.build(self.team, self.train, RELEASE_NEW, data=path.read_bytes())
        self.build_id = made["build_id"]
        fleet = self._http("POST", "/fleet", {"fleet": {"name": "canary",
                                                        "train_id": self.train["train_id"],
                                                        "build_id": self.build_id,
                                                        "unreleased": False}})
        self.canary_id = fleet["fleet"]["fleet_id"]
        return "seeded 2.0.0 + POST /fleet canary"

    def stage(self, percent: int) -> str:
        if percent >= 100:
            if self.client:
                build = self.client.get_build(self.build_id)
                build.released = True
                build.update()
            else:
                self._http("PUT", f"/build/{self.build_id}", {"build": {"released": True}})
            return "build released: the production fleet auto-updates"
        target = len(self.serials) * percent // 100
        for serial in self.serials[self.moved:target]:
            if self.client:
                device = self.client.get_device(serial)
                device.fleet_id = self.canary_id
                device.update()
            else:
                self._http("PUT", f"/device/{serial}", {"device": {"fleet_id": self.canary_id}})
        count, self.moved = target - self.moved, max(self.moved, target)
        return f"{count} devices moved to the canary fleet"

    def halt(self) -> str:
        return "promotion stopped (canary devices keep their build)"


def _find_memfault() -> Optional[str]:
    found = shutil.which("memfault")
    if found is None:
        found = shutil.which(os.path.join(os.path.dirname(sys.executable), "memfault"))
    return found


# -- drawing -----------------------------------------------------------------------------------


def _bar(done: int, failed: int, total: int, width: int = 30) -> str:
    total = max(total, 1)
    ok = round(width * done / total)
    bad = min(width - ok, round(width * failed / total))
    return "[" + "#" * ok + "x" * bad + "." * (width - ok - bad) + "]"


def _line(sim: Any, label: str, eligible: int, started: float) -> str:
    installed = sim.count(RELEASE_NEW, "installed")
    failed = sim.count(RELEASE_NEW, "failed")
    busy = sim.count(RELEASE_NEW, "downloading") + sim.count(RELEASE_NEW, "installing")
    offline = sim.count(RELEASE_NEW, "offline")
    minutes = (sim.now - started) / 60
    eligible = max(eligible, installed + failed + busy + offline)
    return (f"  {label:<11}{_bar(installed, failed, eligible)} {installed:>5} installed "
            f"{failed:>4} failed {busy:>4} updating {offline:>3} offline  t+{minutes:4.0f} min")


def run(args: argparse.Namespace) -> int:
    from .agents import PROFILES
    from .agents.identity import MissingDependency
    from .app import create_app
    from .core import Clock, Cloud
    from .sim import FleetSimulation

    # Devices check every 5 minutes (with jitter): a 30-minute stage reaches every staged device.
    profile = PROFILES["fast"].with_(poll_interval=300.0)

    stages = [int(s) for s in str(args.stages).split(",") if s.strip()]
    if not stages or any(not 0 < s <= 100 for s in stages) or args.devices < 1:
        print("fleetsim demo: --stages are percentages in (0, 100], --devices at least 1",
              file=sys.stderr)
        return 2
    wall = time.perf_counter()
    cloud = Cloud(seed=args.seed, clock=Clock(virtual=True))
    app = create_app(cloud)
    server = _Server(app)
    tty = sys.stdout.isatty()
    try:
        with tempfile.TemporaryDirectory(prefix="fleetsim-demo-") as tmp:
            driver_cls = MemfaultRollout if args.dialect == "memfault" else Fl33tRollout
            driver = driver_cls(cloud, server.url, args.plain_http, Path(tmp))
            sim = FleetSimulation(app, sample_every=60)
            print(f"fleetsim demo: {args.dialect} fake on {server.url}, virtual clock, "
                  f"seed {args.seed}")
            try:
                group = sim.spawn(args.dialect, args.devices, hardware=HARDWARE, profile=profile,
                                  plans=failure_plans(args.failure_rate),
                                  **driver.spawn_settings())
            except MissingDependency as exc:
                print(f"fleetsim demo: {exc}", file=sys.stderr)
                return 2
            if isinstance(driver, Fl33tRollout):
                driver.serials = sorted(group.serials, key=lambda s: _hash(s, args.seed))
            mix = Counter(a.identity.hardware for a in group)
            print(f"  {args.devices} simulated devices "
                  f"({', '.join(f'{n} {k}' for k, n in sorted(mix.items()))}), running "
                  f"{RELEASE_OLD}; rollout driven by {driver.how}")
            sim.run(limit=120)
            print(f"  registered: {sim.count(RELEASE_OLD, 'installed')} devices checked in")
            print(f"  publish {RELEASE_NEW}: {driver.publish()}")
            rows = []
            halted = None
            for percent in stages:
                how = driver.stage(percent)
                print(f"  stage {percent}%: {how}")
                started = sim.now
                eligible = max(1, args.devices * percent // 100)
                for _ in range(30):  # 30 virtual minutes per stage, drawn every minute
                    sim.run(limit=60)
                    text = _line(sim, f"{percent}%", eligible, started)
                    if tty:
                        print("\r" + text, end="", flush=True)
                print(("\r" if tty else "") + _line(sim, f"{percent}%", eligible, started))
                installed = sim.count(RELEASE_NEW, "installed")
                failed = sim.count(RELEASE_NEW, "failed")
                tried = installed + failed
                rate = failed / tried if tried else 0.0
                rows.append((f"{percent}%", installed, failed, tried, rate,
                             (sim.now - sim.start) / 60))
                if rate > args.threshold:
                    halted = (percent, rate, driver.halt())
                    print(f"  HALT: {rate:.0%} of updates failed (threshold "
                          f"{args.threshold:.0%}): {halted[2]}")
                    break
            _summary(sim, group, rows, halted, args, driver.how, wall)
            if args.report:
                sim.save(args.report)
                print(f"  report written to {args.report}")
            sim.close()
    finally:
        server.stop()
    return 0


def _hash(serial: str, seed: int) -> float:
    from .core.rollout import bucket

    return bucket(serial, f"demo:{seed}")


def _summary(sim: Any, group: Any, rows: list, halted: Any, args: argparse.Namespace,
             how: str, wall: float) -> None:
    print()
    print(f"  {'stage':<7}{'installed':>10}{'failed':>8}{'fail %':>8}{'at (virtual)':>14}")
    for stage, installed, failed, _tried, rate, minutes in rows:
        print(f"  {stage:<7}{installed:>10}{failed:>8}{rate:>8.1%}{minutes:>10.0f} min")
    versions = Counter(a.version for a in group)
    reasons = Counter(d for a in group for _, e, d in (a.history or ()) if e == "reported"
                      and d.startswith("failed"))
    print()
    print("  devices by running version: "
          + ", ".join(f"{v}: {n}" for v, n in sorted(versions.items(), key=str)))
    if reasons:
        print("  failure reports: " + ", ".join(f"{r[8:]}: {n}" for r, n in reasons.most_common()))
    interrupted = sum(1 for a in group for _, e, _ in (a.history or ())
                      if e == "download_interrupted")
    print(f"  downloads interrupted and resumed/retried: {interrupted}")
    outcome = (f"HALTED at {halted[0]}% ({halted[1]:.0%} failed > {args.threshold:.0%})"
               if halted else "completed")
    requests = getattr(sim.transport, "requests", 0)
    print(f"  rollout {outcome}; {sim.events} device events, {requests} device requests, "
          f"{(sim.now - sim.start) / 3600:.1f} virtual hours in {time.perf_counter() - wall:.1f} s")
    print(f"  rollout driven by {how}")
