"""Helpers for the Memfault conformance tests: an org-token API client, a polling device."""

from __future__ import annotations

from typing import Any, Optional

import requests


class Api:
    """``requests`` against the management API of one project, as a script would call it."""

    def __init__(self, base: str, project: Any, auth: Optional[dict] = None) -> None:
        self.base = base
        self.project = project
        self.prefix = f"{base}/api/v0/organizations/{project.org}/projects/{project.project}"
        self.session = requests.Session()
        self.session.headers.update(auth if auth is not None
                                    else {"Authorization": f"Bearer {project.org_token}"})

    def url(self, path: str) -> str:
        return self.prefix + path

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.url(path), **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.session.post(self.url(path), **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.session.patch(self.url(path), **kw)

    def head(self, path: str, **kw: Any) -> requests.Response:
        return self.session.head(self.url(path), **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.session.delete(self.url(path), **kw)


class Device:
    """A device polling the OTA endpoint with its project key, as the firmware SDK does."""

    def __init__(self, base: str, project_key: str, serial: str, hardware_version: str = "evt",
                 software_type: str = "main") -> None:
        self.base = base
        self.key = project_key
        self.serial = serial
        self.hardware_version = hardware_version
        self.software_type = software_type

    def check(self, current_version: Optional[str], suffix: str = "") -> requests.Response:
        params = {"device_serial": self.serial, "hardware_version": self.hardware_version,
                  "software_type": self.software_type}
        if current_version is not None:
            params["current_version"] = current_version
        return requests.get(f"{self.base}/api/v0/releases/latest{suffix}", params=params,
                            headers={"Memfault-Project-Key": self.key})

    def latest_version(self, current_version: Optional[str]) -> Optional[str]:
        """The version offered, or None on 204."""
        response = self.check(current_version)
        if response.status_code == 204:
            return None
        assert response.status_code == 200, response.text
        return response.json()["version"]


def assert_error(response: requests.Response, status: int, kind: Optional[str] = None) -> dict:
    """The Memfault error envelope with ``status`` (and ``type``)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "http_code", "message", "type"}
    assert error["http_code"] == status
    if kind is not None:
        assert error["type"] == kind
    return error
