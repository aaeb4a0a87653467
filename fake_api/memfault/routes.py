"""memfault routes (placeholder until the dialect lands)."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint(backend) -> Blueprint:
    return Blueprint("memfault", __name__)
