"""balena dialect: the pinejs/OData API (v6 and v7) over one v7 model, auth (JWTs, API keys,
2FA), device registration and balenaCloud's reference data. See docs/balena.md."""

from __future__ import annotations

from ..core.dialect import Dialect
from . import errors, models, routes, seed

DIALECT = Dialect(
    name="balena",
    paths=(
        r"/(v[567]/|login_|actor/|whoami|user/|api-key/|device/|supervisor/|config(/|$)|auth/"
        r"|device-types/|applcation/|application/|billing/|download|org/v1/"
        r"|v[12]/[^/]+/resinhup$|v3/buildFromUrl|blink$)"
    ),
    hosts=("api.balena-cloud.com", "*.balena-cloud.com", "*.balena-devices.com"),
    make_backend=models.BalenaBackend,
    make_blueprint=routes.make_blueprint,
    render_error=errors.render_error,
    make_seeder=seed.BalenaSeeder,
    load_scenario=seed.load_scenario,
)
