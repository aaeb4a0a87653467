"""balena routes (none yet; see the package docstring)."""

from __future__ import annotations

from flask import Blueprint


def make_blueprint(backend) -> Blueprint:
    return Blueprint("balena", __name__)
