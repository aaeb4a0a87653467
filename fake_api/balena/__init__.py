"""balena dialect (API v5/v6/v7 OData, auth, device and supervisor endpoints).

Not built yet: the paths are reserved so that unknown balena routes already answer in
balena's error format (a JSON string body).
"""

from __future__ import annotations

from ..core.dialect import Dialect
from . import errors, routes


class BalenaBackend:
    def __init__(self, cloud) -> None:
        self.cloud = cloud


DIALECT = Dialect(
    name="balena",
    paths=(
        r"/(v[567]/|login_|actor/|whoami|user/|api-key/|device/|supervisor/|config(/|$)|auth/"
        r"|device-types/|applcation/|application/|billing/|download)"
    ),
    hosts=("api.balena-cloud.com", "*.balena-cloud.com", "*.balena-devices.com"),
    make_backend=BalenaBackend,
    make_blueprint=routes.make_blueprint,
    render_error=errors.render_error,
)
