"""fl33t's error format (placeholder until the dialect lands): ``{"error": message}``."""

from __future__ import annotations

from typing import Any, Optional


def render_error(status: int, message: str, exc: Optional[BaseException]) -> tuple[Any, dict]:
    return {"error": message}, {}
