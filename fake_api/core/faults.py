"""Fault rules: make chosen requests fail, slow down, drop, or get rate-limited.

A rule matches by dialect, method and path (a glob, or a compiled regex) and then acts: answer
``status`` with a body in the dialect's error format (or a given ``body``), add latency (real
sleep, or virtual: the clock moves instead), drop the connection, or answer 429 with
``Retry-After``. A rule may fire with a seeded ``probability`` and expire after ``times`` hits.
The first matching rule wins.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Pattern, Union

from .journal import path_matches

_FIELDS = (
    "dialect", "method", "path", "status", "body", "message", "headers", "latency", "virtual",
    "drop", "retry_after", "probability", "times",
)


@dataclass
class FaultRule:
    id: int
    dialect: Optional[str] = None
    method: Optional[str] = None
    path: Union[str, Pattern[str], None] = None
    status: Optional[int] = None
    body: Any = None
    message: Optional[str] = None
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0
    virtual: bool = False
    drop: bool = False
    retry_after: Optional[int] = None
    probability: float = 1.0
    times: Optional[int] = None
    hits: int = 0

    def __post_init__(self) -> None:
        if self.method:
            self.method = self.method.upper()
        if self.retry_after is not None and self.status is None:
            self.status = 429
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ValueError(f"fault status must be an HTTP status code, not {self.status!r}")
        if not 0.0 <= float(self.probability) <= 1.0:
            raise ValueError(f"fault probability must be within [0, 1], not {self.probability!r}")
        if self.times is not None and int(self.times) < 1:
            raise ValueError(f"fault times must be at least 1, not {self.times!r}")
        if self.latency < 0:
            raise ValueError(f"fault latency must not be negative, not {self.latency!r}")
        if self.status is None and not self.drop and not self.latency:
            raise ValueError("a fault needs an action: status, retry_after, latency or drop")

    @property
    def expired(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, dialect: str, method: str, path: str) -> bool:
        return (
            (self.dialect is None or self.dialect == dialect)
            and (self.method is None or self.method == method.upper())
            and path_matches(self.path, path)
        )

    def describe(self) -> str:
        parts = []
        if self.drop:
            parts.append("drop")
        if self.latency:
            parts.append(f"latency={self.latency}s{' (virtual)' if self.virtual else ''}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        return ",".join(parts)

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in ("id",) + _FIELDS + ("hits",)}
        if isinstance(self.path, re.Pattern):
            out["path"] = None
            out["path_regex"] = self.path.pattern
        return out


class Faults:
    def __init__(self, random: Callable[[], float]) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self._random = random

    def add(self, **spec: Any) -> FaultRule:
        """Add a rule; see the module docstring. ``path_regex=`` takes a regex as text."""
        regex = spec.pop("path_regex", None)
        if regex is not None:
            spec["path"] = re.compile(regex)
        unknown = set(spec) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        with self._lock:
            rule = FaultRule(id=self._next_id, **spec)
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def match(self, dialect: str, method: str, path: str) -> Optional[FaultRule]:
        """The first live rule that matches and fires (counts as a hit), or ``None``."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.expired or not rule.matches(dialect, method, path):
                    continue
                if rule.probability < 1.0 and self._random() >= rule.probability:
                    continue
                rule.hits += 1
                return rule
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self._rules]
