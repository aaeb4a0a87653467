"""The routes of fl33t's older tools, mapped onto today's rules (no Flask here).

* ``fl33t-tools/ota/upload/fl33t-upload`` (the vendor's upload script) still creates builds with
  ``POST /team/{T}/train/{train_id}/build`` and ``{"build": {train_id, version, md5sum}}``.
* fl33t-client before 0.6 nested builds under their train (``/train/{id}/build[s][/{build_id}]``,
  moved to the top level in commit ``974f62f``) and asked for an update with
  ``GET /device/{id}/build?installed_build_id=`` (replaced by ``POST .../checkin`` in
  ``1348792``); that client's tests expect ``{"build": {...}}`` back.

A nested path names the train, so a build of another train is a 404 there, as an unknown id is.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .base import key
from .errors import InvalidId


def _nested(backend: Any, team_id: str, train_id: str, build_id: str) -> None:
    record = backend.builds.get(key(team_id, build_id))
    if record is None or record["train_id"] != train_id:
        raise InvalidId("build", build_id)


def create_build(backend: Any, actor: dict, team_id: str, train_id: str, body: Any,
                 base_url: str) -> dict:
    """``POST /train/{train_id}/build``: the train comes from the path when the body has none."""
    if isinstance(body, dict) and isinstance(body.get("build"), dict):
        body = {"build": {**body["build"], "train_id": body["build"].get("train_id") or train_id}}
    return backend.create_build(actor, team_id, body, base_url)


def list_builds(backend: Any, actor: dict, team_id: str, train_id: str,
                args: Mapping[str, str], base_url: str) -> dict:
    return backend.list_builds(actor, team_id, {**args, "train_id": train_id}, base_url)


def get_build(backend: Any, actor: dict, team_id: str, train_id: str, build_id: str,
              base_url: str) -> dict:
    backend.require(actor, "build.read")
    _nested(backend, team_id, train_id, build_id)
    return backend.get_build(actor, team_id, build_id, base_url)


def update_build(backend: Any, actor: dict, team_id: str, train_id: str, build_id: str,
                 body: Any) -> None:
    backend.require(actor, "build.write")
    _nested(backend, team_id, train_id, build_id)
    backend.update_build(actor, team_id, build_id, body)


def delete_build(backend: Any, actor: dict, team_id: str, train_id: str, build_id: str) -> None:
    backend.require(actor, "build.write")
    _nested(backend, team_id, train_id, build_id)
    backend.delete_build(actor, team_id, build_id)


def upgrade_available(backend: Any, actor: dict, team_id: str, device_id: str,
                      installed: Optional[str], base_url: str) -> Optional[dict]:
    """``GET /device/{id}/build``: a check-in by another name (it records the check-in too)."""
    checkin = {"build_id": installed} if installed else {}
    return backend.checkin(actor, team_id, device_id, {"checkin": checkin}, base_url)
