"""The control plane under ``/__fleetsim__/``: health, reset, snapshots, clock, faults, journal."""

from __future__ import annotations

from typing import Any, Optional

from ..core.dialect import Dialect


def render_error(status: int, message: str, exc: Optional[BaseException]) -> tuple[Any, dict]:
    return {"error": {"status": status, "message": message}}, {}


def _blueprint(app: Any) -> Any:
    from .routes import make_blueprint

    return make_blueprint(app)


DIALECT = Dialect(
    name="fleetsim",
    paths=r"/__fleetsim__(/|$)",
    hosts=(),
    make_backend=lambda cloud: None,
    make_blueprint=_blueprint,
    render_error=render_error,
)
