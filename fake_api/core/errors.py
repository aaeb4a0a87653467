"""The one exception type models raise. Each dialect renders it in its vendor's error format."""

from __future__ import annotations

from typing import Any


class FleetsimError(Exception):
    """A request the fake refuses: ``status`` and ``message``, plus vendor details.

    Dialects subclass this (``Fl33tError``, ``MemfaultError``...) to add what their error format
    carries; the app hands any ``FleetsimError`` to the dialect that owns the request.
    """

    status: int = 400

    def __init__(self, message: str, status: int | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.details = details


class NotFound(FleetsimError):
    status = 404


class Conflict(FleetsimError):
    status = 409


class Unauthorized(FleetsimError):
    status = 401


class Forbidden(FleetsimError):
    status = 403
