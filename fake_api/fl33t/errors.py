"""fl33t's error format: ``{"error": "<message>"}`` with the status code the client maps.

The real service's error body is unknown (the client never reads it); what matters is that it is
JSON, because the client calls ``.json()`` on some error responses (400 on create, 404 on
check-in). The statuses the client maps: 400/404 on getters -> ``Invalid<Model>IdError``, 401/403
-> ``UnprivilegedToken``, 409 on device create -> ``DuplicateDeviceIdError``, >=500 ->
``Fl33tApiException``.
"""

from __future__ import annotations

from typing import Any, Optional

from ..core.errors import Conflict, FleetsimError, NotFound


class InvalidId(NotFound):
    """404 for an id that names nothing in this team (``Invalid device ID: x``)."""

    def __init__(self, kind: str, obj_id: str) -> None:
        super().__init__(f"Invalid {kind} ID: {obj_id}", kind=kind, id=obj_id)


class InUse(Conflict):
    """409 for a delete that would leave dangling references (a train that still has fleets)."""


class BadRequest(FleetsimError):
    """400 for a body or query that the fake cannot accept; the message names the field."""

    status = 400


def render_error(status: int, message: str, exc: Optional[BaseException]) -> tuple[Any, dict]:
    """The body and headers of an fl33t error response."""
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="fl33t"'
    return {"error": message}, headers
