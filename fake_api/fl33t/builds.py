"""Builds and their files: creation, the signed upload, signed downloads that expire.

The upload and download URLs carry an HMAC signature over the method, the path and the expiry
(:class:`fake_api.core.BlobStore`), so they need no token, can be handed to a device as is, and
are refused once expired or altered.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional
from urllib.parse import quote

from ..core.blobs import UrlRefused
from ..core.errors import Conflict, Forbidden, NotFound
from . import auth, views
from .base import BackendBase, key, paged
from .errors import BadRequest, InUse
from .fields import envelope, file_name, flag, text

#: Lifetimes of the signed URLs. fl33t documents 3 minutes for ``download_url``; the upload URL's
#: lifetime is not documented (an hour is a guess, long enough for a slow firmware upload).
DOWNLOAD_TTL = 180
UPLOAD_TTL = 3600


class BuildRules(BackendBase):
    """Build records and their files."""

    def _upload_path(self, team_id: str, build_id: str) -> str:
        return f"/team/{team_id}/build/{build_id}/upload"

    def _download_path(self, team_id: str, build_id: str) -> str:
        return f"/team/{team_id}/build/{build_id}/download"

    def _signed(self, base_url: str, path: str, ttl: float, method: str) -> str:
        """An absolute signed URL (the signature covers the unquoted path)."""
        return f"{base_url.rstrip('/')}{quote(path)}?{self.blobs.sign(path, ttl, method)}"

    def build_view(self, record: dict, base_url: str, viewer: Optional[dict] = None) -> dict:
        """The client's Build, with fresh signed URLs: ``download_url`` once the file is there,
        ``upload_url`` until it is.

        The upload URL is a credential (whoever holds it may PUT the firmware), so only a
        ``viewer`` that may create builds sees it; others get ``null``, as for an uploaded
        build. ``viewer=None`` is the fake itself (seeding helpers).
        """
        team_id, build_id = record["team_id"], record["build_id"]
        download = upload = None
        if record["status"] == "available":
            download = self._signed(base_url, self._download_path(team_id, build_id),
                                    DOWNLOAD_TTL, "GET")
        elif record["status"] == "created" and (viewer is None
                                                 or auth.allowed(viewer, "build.create")):
            upload = self._signed(base_url, self._upload_path(team_id, build_id),
                                  UPLOAD_TTL, "PUT")
        return views.build(record, download, upload)

    def list_builds(self, actor: dict, team_id: str, args: Mapping[str, str],
                    base_url: str) -> dict:
        self.require(actor, "build.read")
        rows = self._of_team(self.builds, team_id, train_id=args.get("train_id") or None,
                             version=args.get("version") or None)
        return paged(rows, args, "build", lambda b: self.build_view(b, base_url, actor))

    def get_build(self, actor: dict, team_id: str, build_id: str, base_url: str) -> dict:
        self.require(actor, "build.read")
        return {"build": self.build_view(self._find(self.builds, team_id, build_id, "build"),
                                         base_url, actor)}

    def create_build(self, actor: dict, team_id: str, body: Any, base_url: str,
                     build_id: Optional[str] = None) -> dict:
        """A build record waiting for its file: status ``created`` and a signed ``upload_url``."""
        self.require(actor, "build.create")
        data = envelope(body, "build")
        md5sum = text(data, "md5sum")
        if md5sum and (len(md5sum) != 32 or any(c not in "0123456789abcdefABCDEF" for c in md5sum)):
            raise BadRequest("'md5sum' must be 32 hexadecimal digits (or null)")
        train_id = self._train_ref(team_id, data.get("train_id"))
        record = {
            "team_id": team_id,
            "train_id": train_id,
            "version": text(data, "version", required=True),
            "released": bool(flag(data, "released")),
            "status": "created",
            "filename": file_name(text(data, "filename")) or None,
            "md5sum": md5sum.lower() if md5sum else None,
            "size": None,
            "upload_tstamp": None,
            "blob_id": None,
            "created": self.clock.isoformat(),
        }
        record["build_id"] = self._new_id(self.builds, team_id, "fl33t.build", build_id)
        self._put(self.builds, key(team_id, record["build_id"]), record)
        return {"build": self.build_view(record, base_url, actor)}

    def update_build(self, actor: dict, team_id: str, build_id: str, body: Any) -> None:
        """``version`` and ``released`` change; the file's facts and the train are read-only."""
        self.require(actor, "build.write")
        record = self._find(self.builds, team_id, build_id, "build")
        data = envelope(body, "build")
        changes: dict[str, Any] = {}
        if "version" in data:
            changes["version"] = text(data, "version", required=True)
        if "released" in data:
            changes["released"] = bool(flag(data, "released"))
        record.update(changes)
        self._changed(self.builds, key(team_id, build_id), record)

    def delete_build(self, actor: dict, team_id: str, build_id: str) -> None:
        """Refused (409) while a fleet is pinned to the build."""
        self.require(actor, "build.write")
        record = self._find(self.builds, team_id, build_id, "build")
        pinned = self._of_team(self.fleets, team_id, build_id=build_id)
        if pinned:
            names = ", ".join(f["fleet_id"] for f in pinned)
            raise InUse(f"build {build_id} is the build of fleet(s) {names}; unassign it first")
        if record.get("blob_id"):
            self.blobs.delete(record["blob_id"])
        self._drop(self.builds, key(team_id, build_id))

    def receive_upload(self, team_id: str, build_id: str, args: Mapping[str, str], data: bytes,
                       filename: Optional[str]) -> dict:
        """The file PUT to a build's ``upload_url`` (no auth: the URL is the credential).

        The upload is always accepted when the URL is valid (exactly 200, as the client needs);
        a declared ``md5sum`` that the bytes do not match marks the build ``failed`` instead of
        ``available``, as an asynchronous integrity check would.
        """
        self._verify(self._upload_path(team_id, build_id), args, "PUT")
        record = self._find(self.builds, team_id, build_id, "build")
        file_name(filename)
        if record["status"] != "created":
            raise Conflict(f"build {build_id} was already uploaded (status {record['status']})")
        name = filename or record.get("filename") or f"{build_id}.bin"
        blob = self.blobs.put(data, filename=name)
        declared = record.get("md5sum")
        record.update({
            "blob_id": blob["id"],
            "filename": name,
            "size": blob["size"],
            "md5sum": declared or blob["md5"],
            "actual_md5": blob["md5"],
            "upload_tstamp": self.clock.isoformat(),
            "status": "failed" if declared and declared != blob["md5"] else "available",
        })
        self._changed(self.builds, key(team_id, build_id), record)
        return record

    def download(self, team_id: str, build_id: str, args: Mapping[str, str]) -> dict:
        """The file behind a signed ``download_url``: ``{"data", "filename", "md5"}``."""
        self._verify(self._download_path(team_id, build_id), args, "GET")
        record = self._find(self.builds, team_id, build_id, "build")
        data = self.blobs.data(record["blob_id"]) if record.get("blob_id") else None
        if record["status"] != "available" or data is None:
            raise NotFound(f"build {build_id} has no downloadable file")
        return {"data": data, "filename": record["filename"], "md5": record["actual_md5"]}

    def _verify(self, path: str, args: Mapping[str, str], method: str) -> None:
        try:
            self.blobs.verify(path, args, method)
        except UrlRefused as exc:
            raise Forbidden(f"{exc.message} ({exc.reason})", reason=exc.reason) from None
