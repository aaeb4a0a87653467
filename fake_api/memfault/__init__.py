"""Memfault dialect: projects, devices, cohorts, releases, deployments and the OTA check."""

from __future__ import annotations

from ..core.dialect import Dialect
from . import errors, models, routes, seed

DIALECT = Dialect(
    name="memfault",
    paths=r"/api/v0/",
    hosts=("*.memfault.com",),
    make_backend=models.MemfaultBackend,
    make_blueprint=routes.make_blueprint,
    render_error=errors.render_error,
    make_seeder=seed.MemfaultSeeder,
    load_scenario=seed.load_scenario,
)
