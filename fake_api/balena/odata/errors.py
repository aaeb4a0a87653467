"""The one exception the OData engine raises for a request it cannot answer."""

from __future__ import annotations


class ODataError(Exception):
    """A malformed or unanswerable query; the pine layer turns it into a pinejs-style 400."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
