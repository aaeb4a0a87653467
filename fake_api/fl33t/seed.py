"""fl33t seeding helpers (placeholder until the dialect lands)."""

from __future__ import annotations

from typing import Any


class Fl33tSeeder:
    def __init__(self, backend, base_url: str) -> None:
        self.backend = backend
        self.base_url = base_url


def load_scenario(seeder: Fl33tSeeder, section: Any) -> dict:
    return {}
