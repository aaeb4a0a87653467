"""The same seed gives the same fleet, the same failures and the same timeline."""

from __future__ import annotations

import csv
import io
import json

from fake_api.agents import FailurePlan
from fake_api.app import create_app
from fake_api.core import Cloud
from fake_api.memfault.seed import MemfaultSeeder
from fake_api.sim import FleetSimulation


def _run(seed: int) -> FleetSimulation:
    app = create_app(Cloud(seed=seed))
    seeder = MemfaultSeeder(app.cloud.backends["memfault"], "http://localhost")
    project = seeder.project()
    seeder.release(project, "1.0.0", b"a" * 2048)
    sim = FleetSimulation(app)
    sim.spawn("memfault", 40, project=project, installed="1.0.0", profile="fast",
              plans=[FailurePlan(install_fails=True, fraction=0.2),
                     FailurePlan(drop_at=0.3, fraction=0.3),
                     FailurePlan(offline_during="install", offline_for=600, fraction=0.2)])
    sim.run(limit=120)
    seeder.release(project, "2.0.0", b"b" * 2048)
    seeder.deploy(project, "2.0.0", rollout_percent=50)
    sim.run(limit=1800)
    return sim


def test_same_seed_same_timeline():
    first, second = _run(3), _run(3)
    assert first.timeline.rows == second.timeline.rows
    assert first.to_json() == second.to_json()
    assert first.timeline.to_csv() == second.timeline.to_csv()
    other = _run(4)
    assert other.timeline.rows != first.timeline.rows


def test_exports(tmp_path):
    sim = _run(5)
    summary = sim.summary()["releases"]["2.0.0"]
    assert 0 < summary["installed"] < 40 and summary["failed"] > 0 and summary["pending"] > 0
    rows = list(csv.DictReader(io.StringIO(sim.timeline.to_csv())))
    assert rows[0].keys() == {"t", "time", "release", "pending", "downloading", "installing",
                              "installed", "failed", "offline"}
    last = [r for r in rows if r["release"] == "2.0.0"][-1]
    assert int(last["installed"]) == summary["installed"]
    assert all(sum(int(r[k]) for k in ("pending", "downloading", "installing", "installed",
                                       "failed", "offline")) == 40 for r in rows)
    saved = json.loads(sim.save(tmp_path / "run.json").read_text())
    assert saved["devices"][0]["history"][0]["event"] == "registered"
    assert saved["groups"][0]["dialect"] == "memfault"
    assert sim.save(tmp_path / "run.csv").read_text() == sim.timeline.to_csv()
    assert sim.histories_csv().splitlines()[0] == "serial,t,event,detail"


def test_a_closed_simulation_stops_following_the_clock(fleetsim) -> None:
    before = len(fleetsim.clock._listeners)
    sim = FleetSimulation(fleetsim.app)
    assert len(fleetsim.clock._listeners) == before + 1
    sim.close()
    assert len(fleetsim.clock._listeners) == before
