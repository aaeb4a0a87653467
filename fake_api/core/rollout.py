"""Shared rollout maths: stable bucketing of devices and version ordering.

Bucketing hashes ``salt:key`` (say ``deployment-id:device-serial``) to a number in [0, 100), so a
device's membership in a staged rollout is the same on every poll and in every run, and raising
the percentage only ever adds devices.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any


def bucket(key: str, salt: str = "") -> float:
    """A stable number in [0, 100) for ``key`` under ``salt``."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def in_rollout(key: str, salt: str, percent: float) -> bool:
    """True when ``key`` falls inside the first ``percent`` of the buckets for ``salt``."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    return bucket(key, salt) < percent


_PART = re.compile(r"(\d+)|([A-Za-z]+)")
_END = (1, 0, "")


def release_key(version: str) -> tuple[Any, ...]:
    """Natural ordering of version strings, with a release above its pre-releases.

    Digit runs compare as numbers and letter runs as text; separators (``. - _ +``) only split.
    The end of a version sorts above any letter part and below any further number, so
    ``1.0.0rc1 < 1.0.0 < 1.0.1-dev < 1.0.1-rc2 < 1.0.1 < 1.0.12 < 1.0.20`` (the order Memfault
    documents) and ``1.0 < 1.0.1``.
    """
    parts: list[Any] = []
    for number, word in _PART.findall(version):
        parts.append((2, int(number), "") if number else (0, 0, word.lower()))
    parts.append(_END)
    return tuple(parts)


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b`` under :func:`release_key`."""
    ka, kb = release_key(a), release_key(b)
    return (ka > kb) - (ka < kb)
