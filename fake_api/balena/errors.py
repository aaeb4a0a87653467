"""balena's error format: a non-2xx status with a JSON *string* body (pinejs style)."""

from __future__ import annotations

import json
from typing import Any, Optional


def render_error(status: int, message: str, exc: Optional[BaseException]) -> tuple[Any, dict]:
    return json.dumps(message), {"Content-Type": "application/json"}
