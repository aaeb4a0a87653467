"""Supervisor target state as the API computes it from the model (read side only).

``GET /device/v2/<uuid>/state`` (``device.get_supervisor_target_state``) and
``GET /device/v3/fleet/<app uuid>/state/?releaseUuid=`` (``get_supervisor_target_state_for_app``).
Shapes follow open-balena's ``device-state`` routes and the values the upstream SDK tests read
(reference §8). The device side (supervisors polling and reporting) is part 2.
"""

from __future__ import annotations

from typing import Any, Optional

from .errors import not_found

#: The config every device gets before fleet and device config variables.
DEFAULT_CONFIG = {
    "RESIN_SUPERVISOR_NATIVE_LOGGER": "true",
    "RESIN_SUPERVISOR_POLL_INTERVAL": "900000",
}


def _vars(db: Any, resource: str, fk: str, parent: Any) -> dict[str, str]:
    return {row["name"]: row["value"] for row in db.children(resource, fk, parent)}


def _config(db: Any, app_id: int, device_id: Optional[int]) -> dict[str, str]:
    config = dict(DEFAULT_CONFIG)
    config.update(_vars(db, "application_config_variable", "application", app_id))
    if device_id is not None:
        config.update(_vars(db, "device_config_variable", "device", device_id))
    return config


def _services(db: Any, release: Optional[dict], device: Optional[dict]) -> list[tuple[dict, dict, dict]]:
    """(service, image, environment) of every image in ``release``."""
    if release is None:
        return []
    out = []
    app_env = _vars(db, "application_environment_variable", "application",
                    release["belongs_to__application"])
    device_env = _vars(db, "device_environment_variable", "device", device["id"]) if device else {}
    for link in db.children("release_image", "is_part_of__release", release["id"]):
        image = db.get("image", link["image"])
        service = db.get("service", image["is_a_build_of__service"]) if image else None
        if service is None:
            continue
        env = {**app_env, **_vars(db, "service_environment_variable", "service", service["id"]),
               **device_env}
        if device is not None:
            for install in db.children("service_install", "device", device["id"]):
                if install["installs__service"] == service["id"]:
                    env.update(_vars(db, "device_service_environment_variable", "service_install",
                                     install["id"]))
        out.append((service, image, env))
    return out


def _release_for(db: Any, app: dict, device: Optional[dict]) -> Optional[dict]:
    pin = device.get("is_pinned_on__release") if device else None
    return db.get("release", pin if pin is not None else app.get("should_be_running__release"))


def device_state_v2(backend: Any, device: dict) -> dict:
    db = backend.db
    app = db.get("application", device["belongs_to__application"])
    release = _release_for(db, app, device)
    services = {
        str(service["id"]): {
            "imageId": image["id"], "serviceName": service["service_name"],
            "image": image["is_stored_at__image_location"], "running": True,
            "environment": env, "labels": {}}
        for service, image, env in _services(db, release, device)}
    apps = {str(app["id"]): {
        "name": app["app_name"], "commit": release["commit"] if release else None,
        "releaseId": release["id"] if release else None, "services": services,
        "volumes": {}, "networks": {}}}
    return {"local": {"name": device["device_name"], "config": _config(db, app["id"], device["id"]),
                      "apps": apps},
            "dependent": {"apps": {}, "devices": {}}}


def fleet_state_v3(backend: Any, app: dict, release_commit: Optional[str]) -> dict:
    db = backend.db
    if release_commit:
        found = [r for r in db.children("release", "belongs_to__application", app["id"])
                 if r["commit"] == release_commit]
        if not found:
            raise not_found(f"Release {release_commit} not found")
        release: Optional[dict] = found[0]
    else:
        release = _release_for(db, app, None)
    releases = {}
    if release is not None:
        releases[release["commit"]] = {
            "id": release["id"],
            "services": {service["service_name"]: {
                "id": service["id"], "image_id": image["id"],
                "image": image["is_stored_at__image_location"], "environment": env, "labels": {}}
                for service, image, env in _services(db, release, None)}}
    return {app["uuid"]: {
        "name": app["app_name"], "config": _config(db, app["id"], None),
        "apps": {app["uuid"]: {"id": app["id"], "name": app["app_name"],
                               "is_host": bool(app.get("is_host")),
                               "class": app.get("is_of__class") or "fleet",
                               "releases": releases}}}}
