"""An emulated balena builder: ``POST /v3/buildFromUrl?headless=true&owner=<org>&app=<fleet>``
with ``{"url", "shouldFlatten"}`` (what the SDK's ``release.create_from_url`` sends). No Flask.

The builder fetches the tarball (the route hands in a fetcher: ``file://`` paths, the fake's own
URLs served in process, anything else over the network), reads the project from it and makes a
release at once: a ``docker-compose.yml`` gives one service per entry under ``services:``, a lone
``Dockerfile``/``Dockerfile.template`` gives the service ``main``. Each service gets a built image
(status ``success``) linked to the release, and the release is final and successful, so a fleet
that tracks the latest release moves to it. Nothing is really built: see docs/balena.md.

Answers are the builder's: ``{"started": true, "releaseId": N}`` or ``{"started": false,
"message": ...}`` (``Failed to fetch tarball from passed URL`` when the URL cannot be fetched).
"""

from __future__ import annotations

import io
import re
import tarfile
from typing import Any, Callable, Optional

from .auth import USER, Actor
from .errors import unauthorized

FETCH_FAILED = "Failed to fetch tarball from passed URL"
MAX_TARBALL = 64 * 1024 * 1024
Fetcher = Callable[[str], Optional[bytes]]


def read_project(data: bytes, flatten: bool) -> tuple[Optional[dict[str, str]], str]:
    """(files of interest by path, "") or (None, why not) from tarball bytes."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            return _project_files(archive, flatten), ""
    except (tarfile.TarError, EOFError, OSError):
        return None, "The passed URL does not point to a valid tarball"


def _project_files(archive: tarfile.TarFile, flatten: bool) -> dict[str, str]:
    files: dict[str, str] = {}
    members = [m for m in archive.getmembers() if m.isfile()]
    names = [m.name.lstrip("./") for m in members]
    prefix = ""
    tops = {n.split("/", 1)[0] for n in names}
    if flatten and len(tops) == 1 and all("/" in n for n in names):
        prefix = tops.pop() + "/"
    for member, name in zip(members, names):
        if not name.startswith(prefix):
            continue
        path = name[len(prefix):]
        base = path.rsplit("/", 1)[-1]
        if base in ("docker-compose.yml", "docker-compose.yaml", "Dockerfile",
                    "Dockerfile.template") and member.size <= 1024 * 1024:
            handle = archive.extractfile(member)
            if handle is not None:
                files[path] = handle.read().decode("utf-8", "replace")
    return files


def compose_services(text: str) -> list[str]:
    """The service names of a compose file: the keys one level under ``services:`` (a small
    reader for the block style every balena project uses, not a YAML parser)."""
    names: list[str] = []
    inside, indent = False, None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if depth == 0:
            inside = line.strip() == "services:"
            indent = None
            continue
        if not inside:
            continue
        if indent is None:
            indent = depth
        match = re.match(r"^['\"]?([A-Za-z0-9_.-]+)['\"]?\s*:", line.strip())
        if depth == indent and match:
            names.append(match.group(1))
    return names


class Builder:
    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.db = backend.db

    def _fleet(self, actor: Optional[Actor], owner: Any, app_name: Any) -> dict:
        if actor is None or actor.kind != USER:
            raise unauthorized()
        slug = f"{owner}/{app_name}".lower()
        found = self.db.find("application", slug=slug)
        if not found or not self.backend.permissions.can_write(actor, "application", found[0]):
            raise unauthorized("You do not have access to this application")
        return found[0]

    def build_from_url(self, actor: Optional[Actor], owner: Any, app_name: Any, body: Any,
                       fetch: Fetcher) -> tuple[int, dict]:
        """(status, answer). The fetch happens before anything is written."""
        with self.backend.lock:
            app = self._fleet(actor, owner, app_name)
        url = body.get("url") if isinstance(body, dict) else None
        flatten = body.get("shouldFlatten", True) if isinstance(body, dict) else True
        if not isinstance(url, str) or not url:
            return 400, {"started": False, "message": "A url is required"}
        data = fetch(url)
        if data is None:
            return 400, {"started": False, "message": FETCH_FAILED}
        files, why = read_project(data, bool(flatten))
        if files is None:
            return 400, {"started": False, "message": why}
        compose = files.get("docker-compose.yml") or files.get("docker-compose.yaml")
        if compose is not None:
            services = compose_services(compose)
        elif "Dockerfile" in files or "Dockerfile.template" in files:
            services = ["main"]
        else:
            services = []
        if not services:
            return 400, {"started": False,
                         "message": "Could not find a Dockerfile or a docker-compose.yml"}
        with self.backend.lock:
            return 200, {"started": True,
                         "releaseId": self._release(actor, app, services, files, len(data))}

    def _release(self, actor: Actor, app: dict, services: list[str], files: dict,
                 size: int) -> int:
        db = self.db
        now = self.backend.clock.now()
        release = db.insert("release", {
            "belongs_to__application": app["id"], "status": "success", "source": "cloud",
            "composition": {"version": "2.1",
                            "services": {name: {"build": {"context": "." if name == "main"
                                                          and "Dockerfile" in files else name}}
                                         for name in services}},
            "start_timestamp": now, "end_timestamp": now, "build_log": "",
        }, actor=actor)
        for name in services:
            found = db.find("service", application=app["id"], service_name=name)
            service = found[0] if found else db.insert(
                "service", {"application": app["id"], "service_name": name}, actor=actor)
            dockerfile = files.get(f"{name}/Dockerfile") or files.get("Dockerfile") or \
                files.get("Dockerfile.template")
            image = db.insert("image", {
                "is_a_build_of__service": service["id"], "status": "success",
                "start_timestamp": now, "end_timestamp": now, "push_timestamp": now,
                "dockerfile": dockerfile, "image_size": size, "project_type": "Dockerfile",
                "build_log": f"[{name}] Successfully built (fleetsim builder: nothing was run)",
            }, actor=actor)
            db.insert("release_image", {"image": image["id"],
                                        "is_part_of__release": release["id"]}, actor=actor)
        return release["id"]
