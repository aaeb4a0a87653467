"""``release.create_from_url`` against the emulated builder (balena-sdk 17.3)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
from balena import exceptions

COMPOSE = """version: '2.1'
services:
  api:
    build: ./api
    ports:
      - "80:80"
  # a comment
  worker:
    build: ./worker
volumes:
  data:
"""


def tarball(path: Path, files: dict[str, str], top: str = "project") -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return path.as_uri()


def test_create_from_url_with_compose(sdk: Any, models: Any, fleet: dict, tmp_path: Path) -> None:
    url = tarball(tmp_path / "p.tar.gz", {"docker-compose.yml": COMPOSE,
                                          "api/Dockerfile": "FROM alpine\n",
                                          "worker/Dockerfile": "FROM busybox\n"})
    release_id = models.release.create_from_url(fleet["id"], url)
    release = models.release.get_with_image_details(release_id)
    assert release["status"] == "success" and release["is_final"] is True
    assert sorted(i["service_name"] for i in release["images"]) == ["api", "worker"]
    count = sdk.pine.get({"resource": "image", "options": {"$count": {"$filter": {
        "release_image": {"$any": {"$alias": "ri", "$expr": {
            "ri": {"is_part_of__release": release_id}}}}}}}})
    assert count == 2  # the upstream test counts the build's images this way
    # a fleet tracking the latest release now targets the build
    assert models.application.get_target_release_hash(fleet["id"]) == release["commit"]
    services = {s["service_name"] for s in models.service.get_all_by_application(fleet["id"])}
    assert services == {"api", "worker"}


def test_create_from_url_with_a_dockerfile_unflattened(models: Any, fleet: dict,
                                                       tmp_path: Path) -> None:
    url = tarball(tmp_path / "d.tar", {"Dockerfile": "FROM alpine\n"}, top="")
    release_id = models.release.create_from_url(fleet["slug"], url, flatten_tarball=False)
    images = models.release.get_with_image_details(release_id)["images"]
    assert [i["service_name"] for i in images] == ["main"]


@pytest.mark.parametrize("url", ["https://example.invalid/nothing.tar.gz", "file:///no/such.tar",
                                 "ftp://x/y"])
def test_bad_urls_give_the_builder_message(models: Any, fleet: dict, url: str,
                                           state: Any) -> None:
    before = state()
    with pytest.raises(exceptions.BuilderRequestError, match="Failed to fetch tarball from "
                                                             "passed URL"):
        models.release.create_from_url(fleet["id"], url)
    assert state() == before


def test_not_a_project(models: Any, fleet: dict, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    with pytest.raises(exceptions.BuilderRequestError, match="valid tarball"):
        models.release.create_from_url(fleet["id"], junk.as_uri())
    empty = tarball(tmp_path / "e.tar.gz", {"README.md": "hi"})
    with pytest.raises(exceptions.BuilderRequestError, match="Dockerfile"):
        models.release.create_from_url(fleet["id"], empty)
