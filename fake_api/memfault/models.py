"""memfault state and rules (placeholder until the dialect lands)."""

from __future__ import annotations


class MemfaultBackend:
    def __init__(self, cloud) -> None:
        self.cloud = cloud
