"""Flask side of :mod:`.legacy`: the nested build routes and the old update check."""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, request

from ..http import base_url, empty, json_response, read_json
from . import legacy


def add_routes(bp: Blueprint, backend: Any, actor: Callable[[str], dict]) -> None:
    """Attach the legacy routes to the fl33t blueprint (``/team/<team_id>`` prefix)."""

    @bp.post("/train/<train_id>/build")
    def nested_build_create(team_id: str, train_id: str) -> Response:
        who = actor(team_id)
        backend.require(who, "build.create")
        return json_response(legacy.create_build(backend, who, team_id, train_id, read_json(),
                                                 base_url()), 201)

    @bp.get("/train/<train_id>/builds")
    def nested_builds_list(team_id: str, train_id: str) -> Response:
        return json_response(legacy.list_builds(backend, actor(team_id), team_id, train_id,
                                                request.args.to_dict(), base_url()))

    @bp.get("/train/<train_id>/build/<build_id>")
    def nested_build_get(team_id: str, train_id: str, build_id: str) -> Response:
        return json_response(legacy.get_build(backend, actor(team_id), team_id, train_id,
                                              build_id, base_url()))

    @bp.put("/train/<train_id>/build/<build_id>")
    def nested_build_update(team_id: str, train_id: str, build_id: str) -> Response:
        who = actor(team_id)
        backend.require(who, "build.write")
        legacy.update_build(backend, who, team_id, train_id, build_id, read_json())
        return empty(204)

    @bp.delete("/train/<train_id>/build/<build_id>")
    def nested_build_delete(team_id: str, train_id: str, build_id: str) -> Response:
        legacy.delete_build(backend, actor(team_id), team_id, train_id, build_id)
        return empty(204)

    @bp.get("/device/<device_id>/build")
    def device_upgrade_available(team_id: str, device_id: str) -> Response:
        who = actor(team_id)
        backend.require(who, "device.checkin", device_id=device_id)
        answer = legacy.upgrade_available(backend, who, team_id, device_id,
                                          request.args.get("installed_build_id"), base_url())
        return empty(204) if answer is None else json_response(answer)
