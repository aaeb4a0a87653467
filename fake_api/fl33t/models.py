"""fl33t state and rules (placeholder until the dialect lands)."""

from __future__ import annotations


class Fl33tBackend:
    def __init__(self, cloud) -> None:
        self.cloud = cloud
