"""fl33t routes (placeholder until the dialect lands)."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint(backend) -> Blueprint:
    return Blueprint("fl33t", __name__)
