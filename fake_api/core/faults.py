"""Fault rules: make chosen requests fail, slow down, drop, or get rate-limited.

A rule matches by dialect, method and path (a glob, or a compiled regex) and then acts: answer
``status`` with a body in the dialect's error format (or a given ``body``), add latency (real
sleep, or virtual: the clock moves instead), drop the connection, or answer 429 with
``Retry-After``. A rule may fire with a seeded ``probability`` and expire after ``times`` hits.
The first matching rule wins.

Every option is validated when the rule is added, so that a rule which could never fire (an
unknown dialect, a path without its leading ``/``) or would break the requests it matches (a
status given as text, a NaN latency) is refused with a :class:`ValueError` saying why, instead
of silently doing nothing during a test.

Each probabilistic rule draws from its own random stream, derived from the cloud's seed and the
rule's identity (its options), so adding a rule never changes another rule's firing pattern.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import threading
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any, Callable, Collection, Optional, Pattern, Union

_FIELDS = (
    "dialect", "method", "path", "status", "body", "message", "headers", "latency", "virtual",
    "drop", "retry_after", "probability", "times",
)
#: Methods a rule may name (what the dialects route).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Bounds that keep a rule from hanging the server or overflowing the clock.
MAX_PATH = 2048
MAX_LATENCY = 3600.0
MAX_VIRTUAL_LATENCY = 365 * 86400.0
MAX_RETRY_AFTER = 365 * 86400
MAX_TIMES = 10**9
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL_PREFIX = "/__fleetsim__"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


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
    #: Seeded-stream bookkeeping: the rule's identity and how many draws it made.
    key: str = field(default="", repr=False, compare=False)
    draws: int = field(default=0, repr=False, compare=False)
    _compiled: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _validate(self)
        if self.method:
            self.method = self.method.upper()
        if self.retry_after is not None and self.status is None:
            self.status = 429
        if isinstance(self.path, str):
            # Compiled once per rule: matching never goes through fnmatch's process-wide cache.
            self._compiled = re.compile(translate(self.path))
        else:
            self._compiled = self.path

    @property
    def expired(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, dialect: str, method: str, path: str) -> bool:
        if self.dialect is not None and self.dialect != dialect:
            return False
        if self.method is not None and self.method != method.upper():
            return False
        if self._compiled is None:
            return True
        if isinstance(self.path, str):
            return self._compiled.match(path) is not None
        return self._compiled.search(path) is not None

    def describe(self) -> str:
        parts = []
        if self.drop:
            parts.append("drop")
        if self.latency:
            parts.append(f"latency={self.latency}s{' (virtual)' if self.virtual else ''}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        return ",".join(parts)

    def where(self) -> str:
        """What the rule matches, for messages: ``fl33t POST /team/*/checkin``."""
        path = self.path.pattern if isinstance(self.path, re.Pattern) else self.path
        return " ".join(str(p) for p in (self.dialect or "any dialect", self.method or "any method",
                                         path or "any path"))

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in ("id",) + _FIELDS + ("hits",)}
        if isinstance(self.body, (bytes, bytearray)):
            out["body"] = bytes(self.body).decode("utf-8", "replace")
        if isinstance(self.path, re.Pattern):
            out["path"] = None
            out["path_regex"] = self.path.pattern
        return out


def _validate(rule: FaultRule) -> None:
    """Refuse every option that is malformed or would make the rule unable to fire."""
    if rule.dialect is not None and not isinstance(rule.dialect, str):
        raise ValueError(f"fault dialect must be a dialect name, not {rule.dialect!r}")
    if rule.method is not None and (
            not isinstance(rule.method, str) or rule.method.upper() not in METHODS):
        raise ValueError(f"fault method must be one of {', '.join(sorted(METHODS))}, "
                             f"not {rule.method!r}")
    if isinstance(rule.path, str):
        if len(rule.path) > MAX_PATH:
            raise ValueError(f"fault path is longer than {MAX_PATH} characters")
        if not rule.path.startswith(("/", "*")):
            raise ValueError(f"fault path must start with '/' (or a '*' glob), not {rule.path!r}; "
                             f"did you mean '/{rule.path}'?")
        if rule.path.startswith(_CONTROL_PREFIX):
            raise ValueError("the control plane (/__fleetsim__/) is never faulted")
    elif rule.path is not None and not isinstance(rule.path, re.Pattern):
        raise ValueError(f"fault path must be a glob string, not {rule.path!r}")
    if rule.status is not None and not (_is_int(rule.status) and 100 <= rule.status <= 599):
        raise ValueError(f"fault status must be an HTTP status code (an integer 100-599), "
                         f"not {rule.status!r}")
    if rule.body is not None:
        if not isinstance(rule.body, (str, bytes, bytearray, dict, list)):
            raise ValueError(f"fault body must be text, bytes or a JSON object/array, not "
                             f"{type(rule.body).__name__} {rule.body!r}")
        if isinstance(rule.body, (dict, list)):
            try:
                json.dumps(rule.body, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"fault body is not JSON-serialisable: {exc}") from None
    if rule.message is not None and not isinstance(rule.message, str):
        raise ValueError(f"fault message must be text, not {rule.message!r}")
    if not isinstance(rule.headers, dict):
        raise ValueError(f"fault headers must be an object of name: value, not {rule.headers!r}")
    for name, value in rule.headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"fault header name {name!r} is not a valid HTTP header name")
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise ValueError(f"fault header {name} must be one line of text, not {value!r}")
    for flag in ("virtual", "drop"):
        if not isinstance(getattr(rule, flag), bool):
            raise ValueError(f"fault {flag} must be true or false, not {getattr(rule, flag)!r}")
    limit = MAX_VIRTUAL_LATENCY if rule.virtual else MAX_LATENCY
    if not (_is_number(rule.latency) and 0 <= rule.latency <= limit):
        raise ValueError(f"fault latency must be a number of seconds within [0, {limit:g}], "
                         f"not {rule.latency!r}")
    if rule.retry_after is not None and not (
            _is_int(rule.retry_after) and 0 <= rule.retry_after <= MAX_RETRY_AFTER):
        raise ValueError(f"fault retry_after must be whole seconds within [0, {MAX_RETRY_AFTER}], "
                         f"not {rule.retry_after!r}")
    if not (_is_number(rule.probability) and 0.0 < rule.probability <= 1.0):
        raise ValueError(f"fault probability must be a number within (0, 1] (0 never fires), "
                         f"not {rule.probability!r}")
    if rule.times is not None and not (_is_int(rule.times) and 1 <= rule.times <= MAX_TIMES):
        raise ValueError(f"fault times must be a whole number at least 1, not {rule.times!r}")
    if rule.status is None and rule.retry_after is None and not rule.drop and not rule.latency:
        raise ValueError("a fault needs an action: status, retry_after, latency or drop")


class Faults:
    """The live fault rules of one cloud.

    ``seed`` returns the cloud's seed (each rule's random stream derives from it and the rule's
    options); ``dialects`` returns the names a rule may target. ``random``, when given, replaces
    the per-rule streams with one shared source (handy in unit tests).
    """

    def __init__(self, random: Optional[Callable[[], float]] = None, *,
                 seed: Optional[Callable[[], int]] = None,
                 dialects: Optional[Callable[[], Collection[str]]] = None) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self._random = random
        self._seed = seed or (lambda: 0)
        self._dialects = dialects

    def add(self, **spec: Any) -> FaultRule:
        """Add a rule (see the module docstring) and return it; ``path_regex=`` takes a regex as
        text. Raises :class:`ValueError` naming the option that is wrong."""
        unknown = set(spec) - set(_FIELDS) - {"path_regex"}
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}; "
                             f"options are: {', '.join(_FIELDS + ('path_regex',))}")
        regex = spec.pop("path_regex", None)
        if regex is not None:
            if spec.get("path") is not None:
                raise ValueError("give either path (a glob) or path_regex, not both")
            if not isinstance(regex, str) or len(regex) > MAX_PATH:
                raise ValueError(f"fault path_regex must be a regular expression (text up to "
                                 f"{MAX_PATH} characters), not {regex!r}")
            try:
                spec["path"] = re.compile(regex)
            except re.error as exc:
                raise ValueError(f"fault path_regex {regex!r} is not a valid regex: {exc}") from None
        self._check_dialect(spec.get("dialect"))
        if spec.get("headers") is None:
            spec.pop("headers", None)
        with self._lock:
            rule = FaultRule(id=self._next_id, **spec)
            identity = json.dumps(_identity(rule), sort_keys=True, default=str)
            twins = sum(1 for r in self._rules if r.key.split("#", 1)[0] == identity)
            rule.key = f"{identity}#{twins}"
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def _check_dialect(self, dialect: Any) -> None:
        if dialect is None or self._dialects is None:
            return
        known = sorted(self._dialects())
        if dialect not in known:
            close = difflib.get_close_matches(str(dialect).lower(), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown fault dialect {dialect!r}: it would never match a request "
                             f"(dialects: {', '.join(known)}){hint}")

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

    def unfired(self) -> list[FaultRule]:
        """The live rules that never fired: each is a fault a test meant to inject but did not."""
        return [r for r in self._rules if r.hits == 0]

    def __len__(self) -> int:
        return len(self._rules)

    def _draw(self, rule: FaultRule) -> float:
        if self._random is not None:
            return self._random()
        rule.draws += 1
        digest = hashlib.sha256(f"{self._seed()}:fault:{rule.key}:{rule.draws}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def match(self, dialect: str, method: str, path: str) -> Optional[FaultRule]:
        """The first live rule that matches and fires (counts as a hit), or ``None``."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.expired or not rule.matches(dialect, method, path):
                    continue
                if rule.probability < 1.0 and self._draw(rule) >= rule.probability:
                    continue
                rule.hits += 1
                return rule
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self._rules]


def _identity(rule: FaultRule) -> dict[str, Any]:
    out = rule.to_json()
    for name in ("id", "hits"):
        out.pop(name)
    return out
