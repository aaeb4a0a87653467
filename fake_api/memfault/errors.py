"""Memfault's error envelope: ``{"error": {"code", "http_code", "message", "type"}}``.

Only two codes are on record (``1000 InvalidUsageError`` for 400 and ``1003 NotFoundError`` for
404); the others below are fleetsim's guesses, listed in docs/memfault.md. ``message`` may be a
string or a nested validation object (``{"field": ["Not a valid string."]}``), as Memfault's is.
"""

from __future__ import annotations

from typing import Any, Optional

from ..core.errors import FleetsimError


class MemfaultError(FleetsimError):
    """A refused request with Memfault's ``code`` and ``type``; ``payload`` may replace the text."""

    status = 400
    code = 1000
    type = "InvalidUsageError"

    def __init__(self, message: Any, status: Optional[int] = None, **details: Any) -> None:
        text = message if isinstance(message, str) else _flatten(message)
        super().__init__(text, status, **details)
        self.payload = message


class InvalidUsageError(MemfaultError):
    status, code, type = 400, 1000, "InvalidUsageError"


class AuthenticationError(MemfaultError):
    status, code, type = 401, 1001, "AuthenticationError"


class ForbiddenError(MemfaultError):
    status, code, type = 403, 1002, "ForbiddenError"


class NotFoundError(MemfaultError):
    status, code, type = 404, 1003, "NotFoundError"


class MethodNotAllowedError(MemfaultError):
    status, code, type = 405, 1005, "MethodNotAllowedError"


class ConflictError(MemfaultError):
    status, code, type = 409, 1004, "ConflictError"


class LengthRequiredError(MemfaultError):
    status, code, type = 411, 1000, "InvalidUsageError"


class PayloadTooLargeError(MemfaultError):
    status, code, type = 413, 1000, "InvalidUsageError"


class UnsupportedMediaTypeError(MemfaultError):
    status, code, type = 415, 1000, "InvalidUsageError"


class InternalError(MemfaultError):
    status, code, type = 500, 1006, "InternalServerError"


_BY_STATUS: dict[int, type[MemfaultError]] = {
    cls.status: cls
    for cls in (
        InvalidUsageError, AuthenticationError, ForbiddenError, NotFoundError,
        MethodNotAllowedError, ConflictError, LengthRequiredError, PayloadTooLargeError,
        UnsupportedMediaTypeError, InternalError,
    )
}


def _flatten(message: Any) -> str:
    """A one-line text for a nested validation message (used for logs and ``str(exc)``)."""
    if isinstance(message, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in message.items())
    if isinstance(message, (list, tuple)):
        return ", ".join(_flatten(item) for item in message)
    return str(message)


def field_error(field: str, problem: str, status: int = 400) -> MemfaultError:
    """A validation error in marshmallow's shape: ``{"field": ["problem"]}``."""
    return InvalidUsageError({field: [problem]}, status)


def render_error(status: int, message: str, exc: Optional[BaseException]) -> tuple[Any, dict]:
    """Every error the app answers on ``/api/v0/`` (and on ``*.memfault.com``) in the envelope."""
    if isinstance(exc, MemfaultError) and type(exc) is not MemfaultError:
        code, kind, payload = exc.code, exc.type, exc.payload
    else:
        # core errors, werkzeug's (404 route, 405, 413) and crashes: by status
        cls = _BY_STATUS.get(status) or (InternalError if status >= 500 else InvalidUsageError)
        payload = exc.payload if isinstance(exc, MemfaultError) else message
        code, kind = cls.code, cls.type
    body = {"error": {"code": code, "http_code": status, "message": payload, "type": kind}}
    return body, {}
