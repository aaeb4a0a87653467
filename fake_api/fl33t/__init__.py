"""fl33t dialect: teams, sessions, trains, builds, fleets, devices and the device check-in."""

from __future__ import annotations

from ..core.dialect import Dialect
from . import errors, models, routes, seed

DIALECT = Dialect(
    name="fl33t",
    paths=r"/team/",
    hosts=("api.fl33t.com", "*.fl33t.com"),
    make_backend=models.Fl33tBackend,
    make_blueprint=routes.make_blueprint,
    render_error=errors.render_error,
    make_seeder=seed.Fl33tSeeder,
    load_scenario=seed.load_scenario,
)
