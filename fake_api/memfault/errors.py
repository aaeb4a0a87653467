"""Memfault's error envelope (placeholder until the dialect lands)."""

from __future__ import annotations

from typing import Any, Optional


def render_error(status: int, message: str, exc: Optional[BaseException]) -> tuple[Any, dict]:
    return {"error": {"code": 1000, "http_code": status, "message": message, "type": "Error"}}, {}
