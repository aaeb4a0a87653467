"""Memfault's management API under ``/api/v0/organizations/{org}/projects/{project}``.

Thin: authenticate, parse, call the backend, wrap in ``{"data": ...}`` (plus ``paging`` for
lists). The device-facing and storage routes are in :mod:`.routes_device`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from ..http import base_url, empty, json_response, read_json
from . import routes_artifacts, routes_device
from .errors import InvalidUsageError

P = "/api/v0/organizations/<org>/projects/<project>"


def _query() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def _data(data: Any, status: int = 200) -> Response:
    return json_response({"data": data}, status)


def _page(rows_paging: tuple[list, dict], render: Any) -> Response:
    rows, paging = rows_paging
    return json_response({"data": [render(r) for r in rows], "paging": paging})


def make_blueprint(backend: Any) -> Blueprint:
    """Every Memfault route on one blueprint."""
    bp = Blueprint("memfault", __name__)
    b = backend

    def principal() -> dict:
        return b.authenticate(request.headers.get("Authorization"),
                              request.headers.get("Memfault-Project-Key"))

    def proj(org: str, project: str) -> dict:
        return b.project_for(principal(), org, project)

    def release_json(release: dict, status: int = 200) -> Response:
        return _data(b.render_release(release, base_url()), status)

    # -- project ---------------------------------------------------------------------------------

    @bp.get(P)
    def project_get(org: str, project: str) -> Response:
        return _data(b.render_project(proj(org, project)))

    @bp.get(P + "/api_key")
    def api_key_get(org: str, project: str) -> Response:
        return _data({"api_key": proj(org, project)["api_key"]})

    @bp.post(P + "/api_key")
    def api_key_regenerate(org: str, project: str) -> Response:
        return _data({"api_key": b.regenerate_project_key(proj(org, project))})

    # -- uploads and OTA payloads ----------------------------------------------------------------

    @bp.post(P + "/upload")
    def upload_prepare(org: str, project: str) -> Response:
        p = proj(org, project)
        return _data(b.prepare_upload(p, read_json(default={}), base_url()))

    @bp.post(P + "/upload_multipart")
    def upload_prepare_multipart(org: str, project: str) -> Response:
        p = proj(org, project)
        return _data(b.prepare_upload(p, read_json(default={}), base_url(), multipart=True))

    @bp.post(P + "/releases/ota_payload")
    def ota_payload_commit(org: str, project: str) -> Response:
        p = proj(org, project)
        return release_json(b.commit_ota_payload(p, read_json()))

    @bp.post(P + "/release-artifacts")
    def release_artifact_commit(org: str, project: str) -> Response:
        p = proj(org, project)
        return release_json(b.commit_ota_payload(p, read_json()), 202)

    # -- releases --------------------------------------------------------------------------------

    @bp.get(P + "/releases")
    def releases_list(org: str, project: str) -> Response:
        p = proj(org, project)
        return _page(b.list_releases(p, _query()), lambda r: b.render_release(r, base_url()))

    @bp.post(P + "/releases")
    def releases_create(org: str, project: str) -> Response:
        p = proj(org, project)
        return release_json(b.create_release(p, read_json()))

    @bp.get(P + "/releases/<version>")
    def release_get(org: str, project: str, version: str) -> Response:
        return release_json(b.get_release(proj(org, project), version))

    @bp.patch(P + "/releases/<version>")
    def release_patch(org: str, project: str, version: str) -> Response:
        release = b.get_release(proj(org, project), version)
        return release_json(b.update_release(release, read_json()))

    @bp.delete(P + "/releases/<version>")
    def release_delete(org: str, project: str, version: str) -> Response:
        b.delete_release(b.get_release(proj(org, project), version))
        return empty(204)

    @bp.get(P + "/delta-releases")
    def delta_releases_list(org: str, project: str) -> Response:
        p = proj(org, project)
        return _page(b.list_releases(p, _query(), delta=True),
                     lambda r: b.render_release(r, base_url()))

    @bp.get(P + "/delta-releases/<delta_from>/<delta_to>")
    def delta_release_get(org: str, project: str, delta_from: str, delta_to: str) -> Response:
        return release_json(b.get_release(proj(org, project), [delta_from, delta_to]))

    # -- cohorts ---------------------------------------------------------------------------------

    @bp.get(P + "/cohorts")
    def cohorts_list(org: str, project: str) -> Response:
        return _page(b.list_cohorts(proj(org, project), _query()), b.render_cohort)

    @bp.post(P + "/cohorts")
    def cohorts_create(org: str, project: str) -> Response:
        p = proj(org, project)
        body = read_json()
        return _data(b.render_cohort(b.create_cohort(p, body.get("name"), body.get("slug"))))

    @bp.get(P + "/cohorts/<slug>")
    def cohort_get(org: str, project: str, slug: str) -> Response:
        return _data(b.render_cohort(b.get_cohort(proj(org, project), slug)))

    @bp.patch(P + "/cohorts/<slug>")
    def cohort_patch(org: str, project: str, slug: str) -> Response:
        p = proj(org, project)
        return _data(b.render_cohort(b.update_cohort(p, slug, read_json())))

    @bp.delete(P + "/cohorts/<slug>")
    def cohort_delete(org: str, project: str, slug: str) -> Response:
        b.delete_cohort(proj(org, project), slug)
        return empty(204)

    @bp.get(P + "/cohorts/<slug>/devices")
    def cohort_devices(org: str, project: str, slug: str) -> Response:
        p = proj(org, project)
        cohort = b.get_cohort(p, slug)
        return _page(b.list_devices(p, _query(), cohort=cohort["slug"]), b.render_device)

    @bp.patch(P + "/cohorts/<slug>/devices")
    def cohort_devices_move(org: str, project: str, slug: str) -> Response:
        p = proj(org, project)
        body = read_json(expect=(dict, list))
        items = body.get("devices") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise InvalidUsageError({"devices": ["Missing data for required field."]})
        serials = [i.get("device_serial") if isinstance(i, dict) else i for i in items]
        b.move_devices(p, slug, serials)
        return empty(202)

    # -- devices and attributes ------------------------------------------------------------------

    @bp.get(P + "/devices")
    def devices_list(org: str, project: str) -> Response:
        return _page(b.list_devices(proj(org, project), _query()), b.render_device)

    @bp.post(P + "/devices")
    def devices_create(org: str, project: str) -> Response:
        p = proj(org, project)
        return _data(b.render_device(b.create_device(p, read_json())))

    @bp.get(P + "/devices/<serial>")
    def device_get(org: str, project: str, serial: str) -> Response:
        return _data(b.render_device(b.get_device(proj(org, project), serial)))

    @bp.patch(P + "/devices/<serial>")
    def device_patch(org: str, project: str, serial: str) -> Response:
        p = proj(org, project)
        return _data(b.render_device(b.update_device(p, serial, read_json())))

    @bp.delete(P + "/devices/<serial>")
    def device_delete(org: str, project: str, serial: str) -> Response:
        b.delete_device(proj(org, project), serial)
        return empty(204)

    @bp.get(P + "/devices/<serial>/attributes")
    def device_attributes(org: str, project: str, serial: str) -> Response:
        p = proj(org, project)
        device = b.get_device(p, serial)
        return _data(b.device_attributes(p, device, request.args.get("q")))

    @bp.patch(P + "/devices/<serial>/attributes")
    def device_attributes_patch(org: str, project: str, serial: str) -> Response:
        p = proj(org, project)
        device = b.get_device(p, serial)
        b.update_device_attributes(p, device, read_json(expect=list))
        return empty(204)

    @bp.get(P + "/custom-metrics")
    def custom_metrics_list(org: str, project: str) -> Response:
        p = proj(org, project)
        rows = [m for m in b.custom_metrics.values() if m["project_id"] == p["id"]]
        return _data([b.render_custom_metric(m) for m in rows])

    @bp.post(P + "/custom-metrics")
    def custom_metrics_create(org: str, project: str) -> Response:
        p = proj(org, project)
        return _data(b.render_custom_metric(b.create_custom_metric(p, read_json())))

    # -- hardware versions, software types and versions ------------------------------------------

    @bp.get(P + "/hardware_versions")
    def hardware_versions_list(org: str, project: str) -> Response:
        return _page(b.list_hardware_versions(proj(org, project), _query()),
                     b.render_hardware_version)

    @bp.post(P + "/hardware_versions")
    def hardware_versions_create(org: str, project: str) -> Response:
        p = proj(org, project)
        body = read_json()
        record = b.create_hardware_version(p, body.get("name"),
                                           body.get("primary_software_type", "main"))
        return _data(b.render_hardware_version(record))

    @bp.get(P + "/hardware_versions/<path:name>")
    def hardware_version_get(org: str, project: str, name: str) -> Response:
        return _data(b.render_hardware_version(b.get_hardware_version(proj(org, project), name)))

    @bp.delete(P + "/hardware_versions/<path:name>")
    def hardware_version_delete(org: str, project: str, name: str) -> Response:
        b.delete_hardware_version(proj(org, project), name)
        return empty(204)

    @bp.get(P + "/software_types")
    def software_types_list(org: str, project: str) -> Response:
        from .util import paginate

        p = proj(org, project)
        return _page(paginate(b.project_software_types(p), _query()), b.render_software_type)

    @bp.post(P + "/software_types")
    def software_types_create(org: str, project: str) -> Response:
        p = proj(org, project)
        return _data(b.render_software_type(b.create_software_type(p, read_json().get("name"))))

    @bp.get(P + "/software_types/<name>")
    def software_type_get(org: str, project: str, name: str) -> Response:
        return _data(b.render_software_type(b.get_software_type(proj(org, project), name)))

    @bp.get(P + "/software_type_values")
    def software_type_values(org: str, project: str) -> Response:
        return _page(b.software_type_values(proj(org, project), _query()), lambda r: r)

    @bp.get(P + "/software_types/<name>/software_versions")
    def software_versions_list(org: str, project: str, name: str) -> Response:
        return _page(b.list_software_versions(proj(org, project), name, _query()),
                     b.render_software_version)

    @bp.get(P + "/software_types/<name>/software_versions/<version>")
    def software_version_get(org: str, project: str, name: str, version: str) -> Response:
        p = proj(org, project)
        return _data(b.render_software_version(b.get_software_version(p, name, version)))

    # -- deployments -----------------------------------------------------------------------------

    @bp.get(P + "/deployments")
    def deployments_list(org: str, project: str) -> Response:
        return _page(b.list_deployments(proj(org, project), _query()), b.render_deployment)

    @bp.post(P + "/deployments")
    def deployments_create(org: str, project: str) -> Response:
        who = principal()
        p = b.project_for(who, org, project)
        record = b.create_deployment(p, read_json(), who["deployer"])
        return _data(b.render_deployment(record))

    @bp.get(P + "/deployments/<deployment_id>")
    def deployment_get(org: str, project: str, deployment_id: str) -> Response:
        return _data(b.render_deployment(b.get_deployment(proj(org, project), deployment_id)))

    @bp.patch(P + "/deployments/<deployment_id>")
    def deployment_patch(org: str, project: str, deployment_id: str) -> Response:
        deployment = b.get_deployment(proj(org, project), deployment_id)
        return _data(b.render_deployment(b.update_deployment(deployment, read_json())))

    @bp.delete(P + "/deployments/<deployment_id>")
    def deployment_delete(org: str, project: str, deployment_id: str) -> Response:
        b.deactivate(b.get_deployment(proj(org, project), deployment_id))
        return empty(204)

    routes_device.add_routes(bp, backend)
    routes_artifacts.add_routes(bp, backend, proj)
    return bp
