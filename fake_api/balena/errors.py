"""balena's error format: a non-2xx status with a JSON *string* body (pinejs style).

The SDK turns any non-2xx OData answer into ``RequestError(body, status)`` and reads only the
text, and its upsert (every ``set()`` of a variable or tag) looks for 409 plus the word
"unique" in that text, so the message wording matters more than any structure.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from ..core.errors import FleetsimError


class BalenaError(FleetsimError):
    """A refused balena request: ``status`` and the pinejs-style ``message``."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message, status, **details)


def unauthorized(message: str = "Unauthorized") -> BalenaError:
    return BalenaError(401, message)


def forbidden(message: str = "Forbidden") -> BalenaError:
    return BalenaError(403, message)


def not_found(message: str = "Not found") -> BalenaError:
    return BalenaError(404, message)


def bad_request(message: str) -> BalenaError:
    return BalenaError(400, message)


def unique(message: str = "Unique key constraint violated") -> BalenaError:
    """409 whose text contains "unique": the SDK's upsert then PATCHes instead."""
    return BalenaError(409, message)


def render_error(status: int, message: str, exc: Optional[BaseException]) -> tuple[Any, dict]:
    return json.dumps(message), {"Content-Type": "application/json"}
