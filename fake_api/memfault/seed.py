"""memfault seeding helpers (placeholder until the dialect lands)."""

from __future__ import annotations

from typing import Any


class MemfaultSeeder:
    def __init__(self, backend, base_url: str) -> None:
        self.backend = backend
        self.base_url = base_url


def load_scenario(seeder: MemfaultSeeder, section: Any) -> dict:
    return {}
